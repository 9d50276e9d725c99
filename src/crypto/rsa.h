// RSA public keys, only for verifying other parties' signatures: OpenID Connect providers sign their ID
// tokens with RS256 (RSASSA-PKCS1-v1_5) or PS256 (RSASSA-PSS) unless told otherwise. medledger's own keys
// are always P-256 (ecdsa.h); nothing here signs.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

class RsaPublicKey {
 public:
  // Shorter moduli are factorable or close to it (NIST SP 800-131A); longer ones only make verification slow
  // for whoever controls the key document.
  static constexpr int kMinBits = 2048;
  static constexpr int kMaxBits = 8192;

  enum class Padding { kPkcs1v15, kPss };  // PSS: MGF1-SHA-256 and a 32-byte salt, as JWA's PS256

  // From the unsigned big-endian modulus and public exponent (a JWK's "n" and "e" once base64url-decoded).
  // Fails for moduli outside [kMinBits, kMaxBits] and for even or tiny exponents.
  static Result<RsaPublicKey> FromComponents(std::string_view modulus, std::string_view exponent);

  int bits() const;
  // Verifies `signature` over SHA-256(message). The signature must be exactly the modulus length.
  bool VerifySha256(std::string_view message, std::string_view signature, Padding padding) const;

 private:
  explicit RsaPublicKey(std::shared_ptr<void> pkey) : pkey_(std::move(pkey)) {}
  std::shared_ptr<void> pkey_;  // EVP_PKEY, immutable once built (so safe to share between threads)
};

}  // namespace medledger::crypto
