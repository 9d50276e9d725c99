// Wrapping a data key under a KEK: AES-256-GCM, nonce(12) || ciphertext || tag, with the report and key id
// as associated data so a wrapped key cannot be moved to another report.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

Result<std::string> WrapKey(std::string_view kek, std::string_view report_id, std::string_view key_id,
                            std::string_view data_key);
// "key_unwrap_failed" when the KEK or the binding is wrong or the blob was tampered with.
Result<std::string> UnwrapKey(std::string_view kek, std::string_view report_id, std::string_view key_id,
                              std::string_view wrapped);

// Length-prefixed fields (u32 big-endian) for small binary records.
void PutLengthPrefixed(std::string* out, std::string_view s);
Result<std::string_view> ReadLengthPrefixed(std::string_view* in);  // "record_truncated"

}  // namespace medledger::content
