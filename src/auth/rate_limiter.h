// Token buckets keyed by string (client address, username), and the login throttle built from them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace medledger::auth {

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

struct LoginThrottleConfig {
  // Every attempt from one client address, whatever the username: stops password spraying.
  RateLimit per_address{30, 1.0};
  // Failures of one (username, address) pair: this many are free, then each further attempt waits
  // first_backoff, doubling per failure up to max_backoff. A pair with no failure for forget_after (and no
  // wait pending) starts over. A success clears it.
  int free_failures = 5;
  std::chrono::seconds first_backoff{2};
  std::chrono::seconds max_backoff{15 * 60};
  std::chrono::seconds forget_after{60 * 60};
  // Failures against one username from all addresses together: a ceiling on a distributed guesser, far
  // above what the pair backoff lets one address reach (see docs/IDENTITY.md for the numbers).
  RateLimit per_user_failures{100, 1.0 / 60};
  // Addresses the user signed in from within this long skip the per-username ceiling, so draining it from
  // elsewhere does not lock the user out where she usually signs in.
  std::chrono::seconds known_address_ttl{30 * 24 * 3600};
  size_t max_keys = 100000;  // per map
};

// Decides whether a password attempt may run. Keyed by (username, client address) rather than by username
// alone, so failures from an attacker's address do not lock the real user out of hers. IPv6 addresses
// count per /64, the block one subscriber usually holds.
class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    int64_t retry_after = 0;  // 0: go ahead; else whole seconds to wait
    bool charged_user = false;
  };

  explicit LoginThrottle(LoginThrottleConfig config);

  // Counts the attempt as a failure up front (so parallel attempts cannot slip past the backoff); call
  // Succeeded when the password was right.
  Decision Begin(std::string_view username, std::string_view address, Clock::time_point now = Clock::now());
  void Succeeded(std::string_view username, std::string_view address, const Decision& decision,
                 Clock::time_point now = Clock::now());

  // The key an address is throttled under: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64.
  static std::string AddressKey(std::string_view address);
  // The wait after `failures` consecutive failures of one pair.
  Clock::duration Backoff(int failures) const;

 private:
  struct PairState {
    int failures = 0;
    Clock::time_point last_failure;
    Clock::time_point next_allowed;
  };
  static std::string PairKey(std::string_view username, std::string_view address_key);
  bool Expired(const PairState& s, Clock::time_point now) const;
  void MakeRoomLocked(Clock::time_point now);

  LoginThrottleConfig config_;
  RateLimiter per_address_;
  RateLimiter per_user_failures_;
  std::mutex mu_;
  std::map<std::string, PairState, std::less<>> pairs_;          // username "\n" address key -> failures
  std::map<std::string, Clock::time_point, std::less<>> known_;  // same key -> last successful sign-in
};

}  // namespace medledger::auth
