#include "common/shared_flush.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace medledger {
namespace {

// Every caller's write (a sequence number taken before Run) must be covered by a run that began after it:
// the run records the newest write it saw when it began, and the caller checks that a finished run saw its
// own. Returning on a run already in progress when the caller arrived would break this.
TEST(SharedFlush, EveryCallerIsCoveredByARunThatBeganAfterItsWrite) {
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> covered{0};
  std::atomic<int> runs{0};
  SharedFlush flush([&]() -> Status {
    const uint64_t seen = writes.load();
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    uint64_t prev = covered.load();
    while (prev < seen && !covered.compare_exchange_weak(prev, seen)) {
    }
    return OkStatus();
  });
  constexpr int kThreads = 8;
  constexpr int kCalls = 40;
  std::atomic<int> uncovered{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kCalls; ++i) {
          const uint64_t mine = ++writes;
          if (!flush.Run().ok() || covered.load() < mine) ++uncovered;
        }
      });
    }
  }
  EXPECT_EQ(uncovered.load(), 0);
  // Shared: far fewer runs than calls (each run serves the callers that arrived during the one before).
  EXPECT_LT(runs.load(), kThreads * kCalls / 2);
  EXPECT_GE(runs.load(), kCalls);
}

TEST(SharedFlush, AFailedRunFailsItsCallersAndLaterRunsRecover) {
  bool fail = true;
  int runs = 0;
  SharedFlush flush([&]() -> Status {
    ++runs;
    if (fail) return MakeError(ErrorKind::kIoError, "io_error", "syncfs: Input/output error");
    return OkStatus();
  });
  auto first = flush.Run();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, "io_error");
  fail = false;
  EXPECT_TRUE(flush.Run().ok());
  EXPECT_EQ(runs, 2);  // a caller never reuses a run that ended before it arrived
}

}  // namespace
}  // namespace medledger
