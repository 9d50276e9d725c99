#include "identity/password.h"

#include <sodium.h>

namespace medledger::identity {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;  // idempotent and thread-safe after the first call
  return ready;
}

}  // namespace

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return MakeError(ErrorKind::kInvalidArgument, "weak_password", "password must be at least 8 characters");
  }
  if (password.size() > kMaxPasswordLength) {
    return MakeError(ErrorKind::kInvalidArgument, "password_too_long", "password must be at most 1024 bytes");
  }
  return OkStatus();
}

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  ML_RETURN_IF_ERROR(ValidatePassword(password));
  if (!SodiumReady()) return MakeError(ErrorKind::kInternal, "crypto_unavailable", "libsodium failed to initialize");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return MakeError(ErrorKind::kResourceExhausted, "password_hash_failed", "Argon2id ran out of memory");
  }
  return std::string(out);
}

bool VerifyPasswordHash(std::string_view hash, std::string_view password) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (password.size() > kMaxPasswordLength) return false;
  char buf[crypto_pwhash_STRBYTES] = {0};
  hash.copy(buf, hash.size());
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

}  // namespace medledger::identity
