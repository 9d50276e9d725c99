#include "auth/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medledger::auth {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, BurstThenRefillPerKey) {
  RateLimiter rl({3, 0.5});
  auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.Acquire("alice", t0), 0);
  EXPECT_EQ(rl.Acquire("alice", t0), 2);  // one token every 2 s
  EXPECT_EQ(rl.Acquire("bob", t0), 0);    // keys are independent
  EXPECT_EQ(rl.Acquire("alice", t0 + 1s), 1);
  EXPECT_EQ(rl.Acquire("alice", t0 + 2s), 0);
  EXPECT_EQ(rl.Acquire("alice", t0 + 2s), 2);
  rl.Refund("alice");
  EXPECT_EQ(rl.Acquire("alice", t0 + 2s), 0);
  // Never more than the burst, however long the pause.
  auto later = t0 + 100000s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.Acquire("alice", later), 0);
  EXPECT_GT(rl.Acquire("alice", later), 0);
}

TEST(RateLimiterTest, BoundedMemoryKeepsLimitingActiveKeys) {
  RateLimiter rl({2, 0.001}, 8);
  auto t = RateLimiter::Clock::time_point{} + 10s;
  EXPECT_EQ(rl.Acquire("victim", t), 0);
  EXPECT_EQ(rl.Acquire("victim", t), 0);
  for (int i = 0; i < 100; ++i) rl.Acquire("spray" + std::to_string(i), t);
  // Property: the limiter never panics and still answers for any key.
  EXPECT_GE(rl.Acquire("victim", t), 0);
}

using Tp = LoginThrottle::Clock::time_point;

TEST(LoginThrottleTest, BackoffDoublesPerFailureUpToTheCap) {
  LoginThrottleConfig cfg;
  LoginThrottle t(cfg);
  for (int n = 0; n < cfg.free_failures; ++n) EXPECT_EQ(t.Backoff(n), LoginThrottle::Clock::duration::zero());
  EXPECT_EQ(t.Backoff(cfg.free_failures), cfg.first_backoff);
  EXPECT_EQ(t.Backoff(cfg.free_failures + 1), 2 * cfg.first_backoff);
  EXPECT_EQ(t.Backoff(cfg.free_failures + 3), 8 * cfg.first_backoff);
  EXPECT_EQ(t.Backoff(cfg.free_failures + 40), cfg.max_backoff);
  EXPECT_EQ(t.Backoff(1000000), cfg.max_backoff);

  // Driven through Begin: an attacker retrying the moment each wait ends sees the waits double.
  Tp now = Tp{} + 1000s;
  std::vector<int64_t> waits;
  for (int i = 0; i < 12; ++i) {
    auto d = t.Begin("alice", "203.0.113.66", now);
    if (d.retry_after != 0) {
      waits.push_back(d.retry_after);
      now += std::chrono::seconds(d.retry_after);
      d = t.Begin("alice", "203.0.113.66", now);
    }
    ASSERT_EQ(d.retry_after, 0);
  }
  ASSERT_GE(waits.size(), 6u);
  EXPECT_EQ(waits[0], 2);
  for (size_t i = 1; i < waits.size(); ++i) EXPECT_EQ(waits[i], std::min<int64_t>(2 * waits[i - 1], 900)) << i;
}

TEST(LoginThrottleTest, AttackerElsewhereDoesNotLockOutTheUser) {
  LoginThrottle t({});
  Tp now = Tp{} + 1000s;
  // One wrong attempt every 5 s from the attacker's address, for an hour (the old lock-out pattern).
  int attacker_allowed = 0;
  for (int i = 0; i < 720; ++i, now += 5s) {
    if (t.Begin("alice", "203.0.113.66", now).retry_after == 0) ++attacker_allowed;
    // Alice, from her own address, is never told to wait.
    if (i % 60 == 59) {
      auto d = t.Begin("alice", "192.0.2.10", now);
      ASSERT_EQ(d.retry_after, 0) << "at attempt " << i;
      t.Succeeded("alice", "192.0.2.10", d, now);
    }
  }
  // And the attacker got 16 guesses in that hour: 5 free, then after waits of 2, 4, ... 512, 900, 900 s.
  EXPECT_EQ(attacker_allowed, 16);
}

TEST(LoginThrottleTest, SuccessClearsTheBackoffAndParallelAttemptsCount) {
  LoginThrottle t({});
  Tp now = Tp{} + 1000s;
  // Five attempts that have not finished yet already use the free failures.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.Begin("alice", "192.0.2.10", now).retry_after, 0);
  EXPECT_GT(t.Begin("alice", "192.0.2.10", now).retry_after, 0);
  now += 2s;
  auto d = t.Begin("alice", "192.0.2.10", now);
  ASSERT_EQ(d.retry_after, 0);
  t.Succeeded("alice", "192.0.2.10", d, now);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.Begin("alice", "192.0.2.10", now).retry_after, 0);
}

TEST(LoginThrottleTest, PerUsernameCeilingSparesKnownAddresses) {
  LoginThrottleConfig cfg;
  cfg.per_user_failures = {20, 1.0 / 60};
  LoginThrottle t(cfg);
  Tp now = Tp{} + 1000s;
  auto home = t.Begin("alice", "192.0.2.10", now);
  t.Succeeded("alice", "192.0.2.10", home, now);
  // A botnet: each address stays under its own backoff, together they reach the ceiling.
  int allowed = 0;
  for (int a = 0; a < 40; ++a) {
    for (int i = 0; i < 3; ++i) {
      if (t.Begin("alice", "198.51.100." + std::to_string(a), now).retry_after == 0) ++allowed;
    }
  }
  EXPECT_EQ(allowed, 20);
  // A new address is refused while the ceiling is drained; alice's usual address is not.
  EXPECT_GT(t.Begin("alice", "192.0.2.200", now).retry_after, 0);
  EXPECT_EQ(t.Begin("alice", "192.0.2.10", now).retry_after, 0);
  // Other users are unaffected.
  EXPECT_EQ(t.Begin("bob", "192.0.2.200", now).retry_after, 0);
}

TEST(LoginThrottleTest, PerAddressLimitStopsSpraying) {
  LoginThrottle t({});
  Tp now = Tp{} + 1000s;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) {
    if (t.Begin("user" + std::to_string(i), "203.0.113.66", now).retry_after == 0) ++allowed;
  }
  EXPECT_EQ(allowed, 30);
}

TEST(LoginThrottleTest, AddressKeys) {
  EXPECT_EQ(LoginThrottle::AddressKey("192.0.2.10"), "192.0.2.10");
  EXPECT_EQ(LoginThrottle::AddressKey("::ffff:192.0.2.10"), "192.0.2.10");
  EXPECT_EQ(LoginThrottle::AddressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::AddressKey("2001:db8:1:2:bbbb::7"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::AddressKey(std::string(500, 'x')).size(), 64u);
  // One /64 is one client: rotating the low bits does not buy fresh attempts.
  LoginThrottle t({});
  Tp now = Tp{} + 1000s;
  int allowed = 0;
  for (int i = 0; i < 20; ++i) {
    if (t.Begin("alice", "2001:db8:1:2::" + std::to_string(i + 1), now).retry_after == 0) ++allowed;
  }
  EXPECT_EQ(allowed, 5);
}

TEST(LoginThrottleTest, MemoryIsBounded) {
  LoginThrottleConfig cfg;
  cfg.max_keys = 16;
  cfg.per_address = {1e9, 1e9};
  cfg.per_user_failures = {1e9, 1e9};
  LoginThrottle t(cfg);
  Tp now = Tp{} + 1000s;
  for (int i = 0; i < 1000; ++i) t.Begin("u" + std::to_string(i), "192.0.2.1", now);
  // The newest pair still has its state (its free failures are counted).
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t.Begin("u999", "192.0.2.1", now).retry_after, 0);
  EXPECT_GT(t.Begin("u999", "192.0.2.1", now).retry_after, 0);
}

}  // namespace
}  // namespace medledger::auth
