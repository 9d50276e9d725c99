// Token buckets keyed by string (username, client address): login attempts and other abuse-prone calls.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace medledger::service {

struct RateLimit {
  double burst = 5;                // bucket size
  double refill_per_second = 0.2;  // one attempt every 5 s once the burst is spent
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(RateLimit limit, size_t max_keys = 100000) : limit_(limit), max_keys_(max_keys) {}

  // Takes one token for `key`. Returns 0 when allowed, else how many whole seconds until a token is back.
  int64_t Acquire(std::string_view key, Clock::time_point now = Clock::now());
  // Returns one token (e.g. after a successful login the attempt should not count against the user).
  void Refund(std::string_view key);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void Prune(Clock::time_point now);

  RateLimit limit_;
  size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace medledger::service
