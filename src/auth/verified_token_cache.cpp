#include "auth/verified_token_cache.h"

#include <utility>

#include "crypto/hash.h"

namespace medledger::auth {

Result<JwtClaims> VerifiedTokenCache::Verify(std::string_view token, int64_t now_seconds) {
  // A token too large for the verifier is refused by it; hashing it first would be wasted work.
  if (token.size() > verifier_.options().max_token_bytes) return verifier_.Verify(token, now_seconds);
  std::string key = crypto::Sha256(token);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ML_RETURN_IF_ERROR(verifier_.CheckLifetime(it->second, now_seconds));
      ++hits_;
      return it->second;
    }
  }
  // Verified outside the lock: two callers racing on the same new token both verify, and one insert wins.
  ML_ASSIGN_OR_RETURN(auto claims, verifier_.Verify(token, now_seconds));
  std::lock_guard lock(mu_);
  if (entries_.count(key) == 0) {
    while (entries_.size() >= capacity_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    entries_.emplace(std::move(key), claims);
  }
  return claims;
}

size_t VerifiedTokenCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t VerifiedTokenCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace medledger::auth
