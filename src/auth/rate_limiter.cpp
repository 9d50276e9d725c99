#include "auth/rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace medledger::auth {

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

LoginThrottle::LoginThrottle(LoginThrottleConfig config)
    : config_(config),
      per_address_(config.per_address, config.max_keys),
      per_user_failures_(config.per_user_failures, config.max_keys) {}

std::string LoginThrottle::AddressKey(std::string_view address) {
  std::string text(address.substr(0, 64));
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), v6.begin())) {
    char out[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, v6.data() + 12, out, sizeof out);
    return out;
  }
  std::fill(v6.begin() + 8, v6.end(), 0);
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, v6.data(), out, sizeof out);
  return std::string(out) + "/64";
}

std::string LoginThrottle::PairKey(std::string_view username, std::string_view address_key) {
  std::string key(username.substr(0, 128));
  key += '\n';  // in neither a username nor an address
  key += address_key;
  return key;
}

LoginThrottle::Clock::duration LoginThrottle::Backoff(int failures) const {
  int over = failures - config_.free_failures;
  if (over < 0) return Clock::duration::zero();
  Clock::duration wait = config_.first_backoff;
  for (int i = 0; i < over && wait < config_.max_backoff; ++i) wait *= 2;
  return std::min<Clock::duration>(wait, config_.max_backoff);
}

bool LoginThrottle::Expired(const PairState& s, Clock::time_point now) const {
  return now >= s.next_allowed && now - s.last_failure >= config_.forget_after;
}

void LoginThrottle::MakeRoomLocked(Clock::time_point now) {
  if (pairs_.size() >= config_.max_keys) {
    for (auto it = pairs_.begin(); it != pairs_.end();)
      it = Expired(it->second, now) ? pairs_.erase(it) : std::next(it);
  }
  if (pairs_.size() >= config_.max_keys) {
    // Still full of live entries: the stalest failure goes; its owner regains only the free attempts.
    auto oldest = std::min_element(pairs_.begin(), pairs_.end(), [](const auto& a, const auto& b) {
      return a.second.last_failure < b.second.last_failure;
    });
    pairs_.erase(oldest);
  }
  if (known_.size() >= config_.max_keys) {
    for (auto it = known_.begin(); it != known_.end();) {
      it = now - it->second >= config_.known_address_ttl ? known_.erase(it) : std::next(it);
    }
    if (known_.size() >= config_.max_keys) {
      known_.erase(std::min_element(known_.begin(), known_.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
  }
}

LoginThrottle::Decision LoginThrottle::Begin(std::string_view username, std::string_view address,
                                             Clock::time_point now) {
  auto seconds_until = [now](Clock::time_point t) {
    double s = std::chrono::duration<double>(t - now).count();
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(s)));
  };
  const std::string address_key = AddressKey(address);
  const std::string pair_key = PairKey(username, address_key);
  Decision d;
  std::lock_guard lock(mu_);
  auto pair = pairs_.find(pair_key);
  if (pair != pairs_.end() && Expired(pair->second, now)) {
    pairs_.erase(pair);
    pair = pairs_.end();
  }
  // The pair's own backoff first: an attacker waiting it out costs nobody else a token.
  if (pair != pairs_.end() && now < pair->second.next_allowed) {
    d.retry_after = seconds_until(pair->second.next_allowed);
    return d;
  }
  if (int64_t wait = per_address_.Acquire(address_key, now); wait != 0) {
    d.retry_after = wait;
    return d;
  }
  auto known = known_.find(pair_key);
  bool known_address = known != known_.end() && now - known->second < config_.known_address_ttl;
  if (!known_address) {
    if (int64_t wait = per_user_failures_.Acquire(username.substr(0, 128), now); wait != 0) {
      per_address_.Refund(address_key);
      d.retry_after = wait;
      return d;
    }
    d.charged_user = true;
  }
  if (pair == pairs_.end()) {
    MakeRoomLocked(now);
    pair = pairs_.emplace(pair_key, PairState{}).first;
  }
  PairState& s = pair->second;
  ++s.failures;
  s.last_failure = now;
  s.next_allowed = now + Backoff(s.failures);
  return d;
}

void LoginThrottle::Succeeded(std::string_view username, std::string_view address, const Decision& decision,
                              Clock::time_point now) {
  const std::string pair_key = PairKey(username, AddressKey(address));
  std::lock_guard lock(mu_);
  pairs_.erase(pair_key);
  if (decision.charged_user) per_user_failures_.Refund(username.substr(0, 128));
  auto known = known_.find(pair_key);
  if (known == known_.end()) {
    MakeRoomLocked(now);
    known_.emplace(pair_key, now);
  } else {
    known->second = now;
  }
}

}  // namespace medledger::auth
