// AES-256-GCM. Sealed form is ciphertext || 16-byte tag; the nonce is passed separately.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                               std::string_view aad);
// Fails with code "decrypt_failed" when the key, nonce, AAD or ciphertext do not match.
Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce, std::string_view sealed,
                               std::string_view aad);

}  // namespace medledger::crypto
