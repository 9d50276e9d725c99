// Remembers access tokens that verified, so a client presenting the same token again costs a SHA-256 and a
// lookup instead of an ES256 verify (66 µs on this machine's P-256, ~8% of a report submission's CPU).
// Clients reuse one access token for its whole lifetime, so nearly every request is a repeat.
//
// Entries are keyed by SHA-256 of the exact token bytes, so a hit means these very bytes verified before;
// a token differing in any byte (another signature, a high-S twin) is verified in full. The lifetime
// (exp, nbf, iat against the leeway) is checked again on every hit, so a cached token still expires on
// time. Only tokens that verified are stored, so unauthenticated callers cannot fill the cache.
// A hit says only that the bytes are authentic and in their lifetime: whether the token still counts
// (revoked at logout, its session ended, its user's session epoch moved on) is the caller's check, made on
// every request (AuthService::Authenticate), never cached here.
// The verifier's keys must not change while the cache is in use (AuthService's never do: one signing key
// for the process's life); a verifier whose keys rotate would need the cache cleared with them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.h"
#include "common/result.h"

namespace medledger::auth {

class VerifiedTokenCache {
 public:
  explicit VerifiedTokenCache(const JwtVerifier& verifier, size_t capacity = 4096)
      : verifier_(verifier), capacity_(capacity == 0 ? 1 : capacity) {}
  VerifiedTokenCache(const VerifiedTokenCache&) = delete;
  VerifiedTokenCache& operator=(const VerifiedTokenCache&) = delete;

  // Exactly what verifier.Verify(token, now) answers, from the cache when these bytes verified before.
  Result<JwtClaims> Verify(std::string_view token, int64_t now_seconds);

  size_t size() const;
  uint64_t hits() const;

 private:
  const JwtVerifier& verifier_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, JwtClaims> entries_;  // SHA-256(token) -> its verified claims
  std::deque<std::string> order_;                       // insertion order, oldest first, for eviction
  uint64_t hits_ = 0;
};

}  // namespace medledger::auth
