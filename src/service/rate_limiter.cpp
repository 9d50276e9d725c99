#include "service/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace medledger::service {

int64_t RateLimiter::Acquire(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) Prune(now);
    it = buckets_.emplace(std::string(key), Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.refill_per_second);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = (1.0 - b.tokens) / limit_.refill_per_second;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
}

void RateLimiter::Refund(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it != buckets_.end()) it->second.tokens = std::min(limit_.burst, it->second.tokens + 1.0);
}

void RateLimiter::Prune(Clock::time_point now) {
  // Full buckets carry no information: dropping them bounds memory under address-spraying clients.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * limit_.refill_per_second >= limit_.burst) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
}

}  // namespace medledger::service
