// ECDSA over P-256 with SHA-256. Signatures are DER and always low-S, because Fabric peers reject
// signatures whose S exceeds half the group order (malleability).
//
// Keys are immutable and cheap to copy (shared). Each key keeps a small pool of initialized OpenSSL
// contexts so the hot path (the ledger signs and verifies several times per transaction) neither re-parses
// the key nor re-fetches the algorithm per call. All methods are safe to call from many threads at once.
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

namespace detail {
class EcKeyState;  // EVP_PKEY + context pool (ecdsa.cpp)
}

class EcPublicKey {
 public:
  static Result<EcPublicKey> FromPem(std::string_view pem);  // "PUBLIC KEY" (SPKI)
  static Result<EcPublicKey> FromSpkiDer(std::string_view der);
  static Result<EcPublicKey> FromUncompressedPoint(std::string_view point65);  // 0x04 || X || Y
  // Takes ownership of an EVP_PKEY; fails unless it is a P-256 key.
  static Result<EcPublicKey> FromNative(EvpPkeyPtr pkey);

  std::string ToPem() const;
  std::string ToSpkiDer() const;
  std::string UncompressedPoint() const;  // 65 bytes, for JWKs (x, y)

  // Verifies a DER signature over SHA-256(message). High-S and non-canonical DER signatures are rejected.
  bool Verify(std::string_view message, std::string_view der_signature) const;
  // Same, over a precomputed 32-byte SHA-256 digest.
  bool VerifyDigest(std::string_view digest32, std::string_view der_signature) const;

  void* native() const;  // EVP_PKEY*, for the X.509 module; owned by this key

  friend bool operator==(const EcPublicKey& a, const EcPublicKey& b);

 private:
  explicit EcPublicKey(std::shared_ptr<const detail::EcKeyState> state) : state_(std::move(state)) {}
  friend class EcPrivateKey;
  std::shared_ptr<const detail::EcKeyState> state_;
};

class EcPrivateKey {
 public:
  static Result<EcPrivateKey> Generate();
  static Result<EcPrivateKey> FromPem(std::string_view pem);  // PKCS#8 "PRIVATE KEY" or SEC1
  static Result<EcPrivateKey> FromNative(EvpPkeyPtr pkey);    // fails unless a P-256 private key

  std::string ToPem() const;  // PKCS#8, unencrypted: callers encrypt at rest (wallet)
  EcPublicKey PublicKey() const;

  // DER ECDSA signature over SHA-256(message), normalized to low-S.
  Result<std::string> Sign(std::string_view message) const;
  Result<std::string> SignDigest(std::string_view digest32) const;

  void* native() const;  // EVP_PKEY*; owned by this key

 private:
  EcPrivateKey(std::shared_ptr<const detail::EcKeyState> state, EcPublicKey pub)
      : state_(std::move(state)), public_(std::move(pub)) {}
  std::shared_ptr<const detail::EcKeyState> state_;
  EcPublicKey public_;
};

// Signature format helpers: JWS (ES256) uses raw r||s (64 bytes); Fabric and X.509 use DER.
Result<std::string> DerSignatureToRaw(std::string_view der);
Result<std::string> RawSignatureToDer(std::string_view raw64);
bool IsLowS(std::string_view der_signature);
// Returns the signature with S replaced by n - S when S > n/2 (any valid signature stays valid).
Result<std::string> NormalizeLowS(std::string_view der_signature);

}  // namespace medledger::crypto
