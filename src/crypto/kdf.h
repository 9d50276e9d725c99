// HKDF-SHA-256 (RFC 5869), for deriving purpose-bound keys from a master key.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

// Extract-then-expand. `length` is at most 255 * 32 bytes.
Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length);

}  // namespace medledger::crypto
