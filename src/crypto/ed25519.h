// Ed25519 (RFC 8032) through OpenSSL 3, for the transparency log's signed notes and witness cosignatures.
// Keys are the raw 32-byte forms the C2SP signed-note format carries (seed for private, point for public).
// Immutable, cheap to copy, safe to use from many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto {

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

namespace detail {
struct Ed25519Key;  // owns the EVP_PKEY (ed25519.cpp)
}

class Ed25519PublicKey {
 public:
  // "invalid_key" unless exactly 32 bytes that OpenSSL accepts as a point encoding.
  static Result<Ed25519PublicKey> FromBytes(std::string_view raw32);

  const std::string& bytes() const { return raw_; }
  // False for a wrong-length or non-verifying signature; never throws or errors.
  bool Verify(std::string_view message, std::string_view signature) const;

  friend bool operator==(const Ed25519PublicKey& a, const Ed25519PublicKey& b) { return a.raw_ == b.raw_; }

 private:
  Ed25519PublicKey(std::shared_ptr<const detail::Ed25519Key> key, std::string raw)
      : key_(std::move(key)), raw_(std::move(raw)) {}
  friend class Ed25519KeyPair;
  std::shared_ptr<const detail::Ed25519Key> key_;
  std::string raw_;
};

class Ed25519KeyPair {
 public:
  static Result<Ed25519KeyPair> Generate();
  // The RFC 8032 private key is the 32-byte seed; "invalid_key" for any other length.
  static Result<Ed25519KeyPair> FromSeed(std::string_view seed32);

  const std::string& seed() const { return seed_; }  // secret: callers keep it owner-only at rest
  const Ed25519PublicKey& public_key() const { return public_; }
  Result<std::string> Sign(std::string_view message) const;  // 64 bytes

 private:
  Ed25519KeyPair(std::shared_ptr<const detail::Ed25519Key> key, std::string seed, Ed25519PublicKey pub)
      : key_(std::move(key)), seed_(std::move(seed)), public_(std::move(pub)) {}
  std::shared_ptr<const detail::Ed25519Key> key_;
  std::string seed_;
  Ed25519PublicKey public_;
};

}  // namespace medledger::crypto
