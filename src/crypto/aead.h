// AES-GCM. Sealed form is ciphertext || 16-byte tag; the nonce is passed separately. AES-256-GCM is
// medledger's own choice everywhere; AES-128-GCM exists only because HPKE's suite 0x0001 (key release) names it.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kAes128KeySize = 16;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                               std::string_view aad);
// Fails with code "decrypt_failed" when the key, nonce, AAD or ciphertext do not match.
Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce, std::string_view sealed,
                               std::string_view aad);

// AES-128-GCM, same forms and errors; the key is 16 bytes.
Result<std::string> Aes128GcmSeal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                                  std::string_view aad);
Result<std::string> Aes128GcmOpen(std::string_view key, std::string_view nonce, std::string_view sealed,
                                  std::string_view aad);

}  // namespace medledger::crypto
