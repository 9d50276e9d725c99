// Public keys an OAuth client registers to sign its JWT client assertions (SMART Backend Services,
// docs/FHIR.md): the two algorithms the SMART specification requires a server to support, ES384 (ECDSA P-384 with
// SHA-384, JWS raw r||s signatures) and RS384 (RSASSA-PKCS1-v1_5 with SHA-384). Verification only; the client
// keeps its private key. Immutable and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

class JwsClientKey {
 public:
  enum class Alg { kES384, kRS384 };
  static constexpr int kMinRsaBits = 2048;
  static constexpr int kMaxRsaBits = 8192;

  // From a JWK's base64url-decoded coordinates (48 bytes each); the point must lie on P-384.
  static Result<JwsClientKey> FromEcP384(std::string_view x, std::string_view y);
  // From a JWK's base64url-decoded modulus and exponent; [kMinRsaBits, kMaxRsaBits], odd exponent >= 3.
  static Result<JwsClientKey> FromRsa(std::string_view modulus, std::string_view exponent);

  Alg alg() const { return alg_; }
  const char* alg_name() const { return alg_ == Alg::kES384 ? "ES384" : "RS384"; }
  // The JWS signature over `signing_input` (header.payload): 96 raw bytes r||s for ES384, the modulus length
  // for RS384. Anything else is false.
  bool Verify(std::string_view signing_input, std::string_view signature) const;

 private:
  JwsClientKey(Alg alg, std::shared_ptr<void> pkey) : alg_(alg), pkey_(std::move(pkey)) {}
  Alg alg_;
  std::shared_ptr<void> pkey_;  // EVP_PKEY
};

}  // namespace medledger::crypto
