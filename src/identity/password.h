// Password hashing: Argon2id through libsodium's crypto_pwhash_str (self-describing PHC strings).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::identity {

struct PasswordCost {
  unsigned long long opslimit = 3;
  size_t memlimit = 64u * 1024 * 1024;

  // t=3, 64 MiB: above OWASP's Argon2id minimum, about 0.2 s on this machine's cores.
  static PasswordCost Default() { return {}; }
  // The smallest cost libsodium accepts; for tests only, where hundreds of hashes are computed.
  static PasswordCost Minimal() { return {1, 8 * 1024}; }
};

inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 1024;

// "weak_password" / "password_too_long" with a human message.
Status ValidatePassword(std::string_view password);
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);
// Constant time in the password; false for malformed hashes.
bool VerifyPasswordHash(std::string_view hash, std::string_view password);

}  // namespace medledger::identity
