// ECDSA over P-256 with SHA-256. Signatures are DER and always low-S, because Fabric peers reject
// signatures whose S exceeds half the group order (malleability).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

struct EvpPkeyDeleter {
  void operator()(void* pkey) const;
};
using EvpPkeyPtr = std::unique_ptr<void, EvpPkeyDeleter>;  // owns an EVP_PKEY

class EcPublicKey {
 public:
  static Result<EcPublicKey> FromPem(std::string_view pem);        // "PUBLIC KEY" (SPKI)
  static Result<EcPublicKey> FromSpkiDer(std::string_view der);
  static Result<EcPublicKey> FromUncompressedPoint(std::string_view point65);  // 0x04 || X || Y

  std::string ToPem() const;
  std::string ToSpkiDer() const;
  std::string UncompressedPoint() const;  // 65 bytes, for JWKs (x, y)

  // Verifies a DER signature over SHA-256(message). High-S signatures are rejected.
  bool Verify(std::string_view message, std::string_view der_signature) const;
  // Same, over a precomputed 32-byte SHA-256 digest.
  bool VerifyDigest(std::string_view digest32, std::string_view der_signature) const;

  void* native() const { return pkey_.get(); }  // EVP_PKEY*, for the X.509 module
  explicit EcPublicKey(EvpPkeyPtr pkey) : pkey_(std::move(pkey)) {}

 private:
  std::shared_ptr<void> pkey_;  // shared: public keys are immutable and copied freely
};

class EcPrivateKey {
 public:
  static Result<EcPrivateKey> Generate();
  static Result<EcPrivateKey> FromPem(std::string_view pem);  // PKCS#8 "PRIVATE KEY" or SEC1

  std::string ToPem() const;  // PKCS#8, unencrypted: callers encrypt at rest (wallet)
  EcPublicKey PublicKey() const;

  // DER ECDSA signature over SHA-256(message), normalized to low-S.
  Result<std::string> Sign(std::string_view message) const;
  Result<std::string> SignDigest(std::string_view digest32) const;

  void* native() const { return pkey_.get(); }
  explicit EcPrivateKey(EvpPkeyPtr pkey) : pkey_(std::move(pkey)) {}

 private:
  std::shared_ptr<void> pkey_;
};

// Signature format helpers: JWS (ES256) uses raw r||s (64 bytes); Fabric and X.509 use DER.
Result<std::string> DerSignatureToRaw(std::string_view der);
Result<std::string> RawSignatureToDer(std::string_view raw64);
bool IsLowS(std::string_view der_signature);

}  // namespace medledger::crypto
