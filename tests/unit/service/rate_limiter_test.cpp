#include "service/rate_limiter.h"

#include <gtest/gtest.h>

namespace medledger::service {
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

}  // namespace
}  // namespace medledger::service
