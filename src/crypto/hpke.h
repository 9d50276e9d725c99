// HPKE (RFC 9180), base mode, one suite: DHKEM(P-256, HKDF-SHA256) 0x0010, HKDF-SHA256 0x0001, AES-128-GCM
// 0x0001, single-shot (SetupBaseS/R and one message at sequence number 0). OpenSSL 3.0 has no HPKE API, so
// it is built here from ECDH, HKDF and AES-GCM, and checked against the RFC's test vector (Appendix A.3.1).
// The cross-hospital key release (docs/CONSORTIUM.md) wraps a report's data key with it.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/ecdsa.h"

namespace medledger::crypto::hpke {

inline constexpr size_t kPublicKeySize = 65;   // Npk: uncompressed SEC1 point 0x04 || X || Y
inline constexpr size_t kEncSize = 65;         // Nenc
inline constexpr size_t kPrivateKeySize = 32;  // Nsk: the scalar, big-endian
inline constexpr size_t kTagSize = 16;         // Nt
// A bound on info and aad (RFC 9180 allows far more); key-release info and aad are under 300 bytes.
inline constexpr size_t kMaxLabelInput = 64 * 1024;

class PublicKey {
 public:
  // "bad_public_key" unless exactly 65 bytes 0x04 || X || Y naming a point on P-256 (not the identity).
  static Result<PublicKey> FromBytes(std::string_view point65);

  const std::string& bytes() const { return raw_; }  // SerializePublicKey
  const EcPublicKey& key() const { return key_; }

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.raw_ == b.raw_; }

 private:
  PublicKey(EcPublicKey key, std::string raw) : key_(std::move(key)), raw_(std::move(raw)) {}
  friend class PrivateKey;
  EcPublicKey key_;
  std::string raw_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate();
  // "bad_private_key" unless 32 bytes encoding a scalar in [1, n-1] (DeserializePrivateKey).
  static Result<PrivateKey> FromScalar(std::string_view scalar32);
  // RFC 9180 §7.1.3 DeriveKeyPair: deterministic, for test vectors. "derive_key_pair_failed" after 256
  // rejected candidates (probability about 2^-8192).
  static Result<PrivateKey> Derive(std::string_view ikm);

  std::string Scalar() const;  // SerializePrivateKey: 32 bytes; secret
  const PublicKey& public_key() const { return public_; }
  const EcPrivateKey& key() const { return key_; }

 private:
  PrivateKey(EcPrivateKey key, PublicKey pub) : key_(std::move(key)), public_(std::move(pub)) {}
  EcPrivateKey key_;
  PublicKey public_;
};

struct Sealed {
  std::string enc;         // the encapsulated key, 65 bytes
  std::string ciphertext;  // AES-128-GCM ciphertext || 16-byte tag
};

// SealBase with a fresh ephemeral key.
Result<Sealed> Seal(const PublicKey& recipient, std::string_view info, std::string_view aad,
                    std::string_view plaintext);
// OpenBase. "decrypt_failed" (kCorruption) for a wrong key, enc, info, aad or a tampered ciphertext;
// "bad_public_key" when enc is no P-256 point; "input_too_large" for info or aad over kMaxLabelInput.
Result<std::string> Open(const PrivateKey& recipient, std::string_view enc, std::string_view info, std::string_view aad,
                         std::string_view ciphertext);

// The steps on their own, so the test vector can check each intermediate value.
namespace detail {

struct Encapsulated {
  std::string shared_secret;  // 32 bytes
  std::string enc;
};
// Encap with a given ephemeral key (Encap draws one; the test vector fixes it).
Result<Encapsulated> Encap(const PrivateKey& ephemeral, const PublicKey& recipient);
Result<std::string> Decap(std::string_view enc, const PrivateKey& recipient);

struct Context {
  std::string key;         // 16 bytes
  std::string base_nonce;  // 12 bytes
  std::string exporter_secret;
};
Result<Context> KeyScheduleBase(std::string_view shared_secret, std::string_view info);

Result<Sealed> SealWithEphemeral(const PrivateKey& ephemeral, const PublicKey& recipient, std::string_view info,
                                 std::string_view aad, std::string_view plaintext);

}  // namespace detail
}  // namespace medledger::crypto::hpke
