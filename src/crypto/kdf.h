// HKDF-SHA-256 (RFC 5869), for deriving purpose-bound keys from a master key.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

// Extract-then-expand. `length` is at most 255 * 32 bytes.
Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length);

// The two halves on their own, for protocols that label each step (HPKE's LabeledExtract/LabeledExpand).
// Extract returns the 32-byte PRK; an empty salt means HashLen zero bytes (RFC 5869 §2.2).
Result<std::string> HkdfSha256Extract(std::string_view salt, std::string_view ikm);
// Expand needs a PRK of at least 32 bytes; `length` is 1..255 * 32.
Result<std::string> HkdfSha256Expand(std::string_view prk, std::string_view info, size_t length);

}  // namespace medledger::crypto
