// kill -9 at random moments while a child process adds content to the embedded store from three threads
// (fsync on, small packs so seals happen within the run, inputs up to ~600 KiB so some are multi-block DAGs
// and some kills land inside a large append, some of 4-5 MiB written in aligned batches, concurrent appends
// so a kill can cut one short before others that finished). After each kill the store must open, and every
// acknowledged add must read back whole and pinned; the next child continues after the last acknowledged one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "content/embedded_store.h"
#include "content/importer.h"
#include "kill_child.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

constexpr char kDirVar[] = "MEDLEDGER_CONTENT_CRASH_DIR";
constexpr char kStartVar[] = "MEDLEDGER_CONTENT_CRASH_START";
constexpr int kRounds = 12;

// Every eighth input is large enough to go through the batch writers (aligned, unbuffered appends).
std::string Content(uint64_t i) {
  std::mt19937_64 rng(i);
  const size_t size = i % 8 == 7 ? kBatchedAddBytes + (i * 7919) % (1 << 20) : 1 + (i * 7919) % (600 << 10);
  std::string out(size, '\0');
  for (size_t at = 0; at < out.size(); at += 8) {
    const uint64_t word = rng();
    std::memcpy(out.data() + at, &word, std::min<size_t>(8, out.size() - at));
  }
  return out;
}

EmbeddedStoreOptions CrashOptions() {
  EmbeddedStoreOptions o;
  o.sync = true;
  o.pack_bytes = 2 << 20;
  return o;
}

TEST(ContentCrashChild, AddLoop) {
  const char* dir = std::getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a crash-test child";
  const int fd = medledger::testing::CrashChildFd();
  auto store = EmbeddedStore::Open(dir, CrashOptions());
  if (!store.ok()) std::_Exit(2);
  // Three concurrent adders, so appends overlap and a kill can leave an unfinished record before finished
  // ones. Reported: the end of the contiguous run of acknowledged adds.
  const uint64_t start = std::strtoull(std::getenv(kStartVar), nullptr, 10);
  std::atomic<uint64_t> next{start};
  std::mutex mu;
  std::set<uint64_t> acknowledged;
  uint64_t prefix = start;  // every add below it is acknowledged
  auto adder = [&] {
    for (;;) {
      const uint64_t i = next++;
      if (!(*store)->Add(Content(i), AddOptions{}).ok()) std::_Exit(4);
      std::lock_guard lock(mu);
      acknowledged.insert(i);
      const uint64_t before = prefix;
      while (acknowledged.erase(prefix) != 0) ++prefix;
      if (prefix != before) medledger::testing::ReportAcknowledged(fd, prefix - 1);
    }
  };
  std::vector<std::jthread> adders;
  for (int t = 0; t < 3; ++t) adders.emplace_back(adder);
}

TEST(ContentCrash, KillDashNineNeverLosesAnAcknowledgedAdd) {
  medledger::testing::TempDir dir;
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int64_t acknowledged = -1;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t last =
        medledger::testing::RunAndKill("ContentCrashChild.AddLoop",
                                       {std::string(kDirVar) + "=" + dir.path().string(),
                                        std::string(kStartVar) + "=" + std::to_string(acknowledged + 1)},
                                       rng, std::chrono::milliseconds(300));
    ASSERT_GE(last, -1) << "round " << round;
    acknowledged = std::max(acknowledged, last);
    auto store = EmbeddedStore::Open(dir.path(), CrashOptions());
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.error().ToString();
    auto pins = (*store)->Pins();
    ASSERT_TRUE(pins.ok()) << pins.error().ToString();
    ASSERT_GE(pins->size(), static_cast<size_t>(acknowledged + 1)) << "round " << round;
    for (int64_t i = 0; i <= acknowledged; ++i) {
      const std::string bytes = Content(static_cast<uint64_t>(i));
      const std::string cid = ComputeCid(bytes, ImportOptions::Ipfs(1)).value().ToString();
      auto back = (*store)->Cat(cid);
      ASSERT_TRUE(back.ok()) << "round " << round << " add " << i << ": " << back.error().ToString();
      ASSERT_EQ(*back, bytes) << "round " << round << " add " << i;
    }
  }
  EXPECT_GT(acknowledged, kRounds);  // the children made real progress
  RecordProperty("acknowledged_adds", std::to_string(acknowledged + 1));
}

}  // namespace
}  // namespace medledger::content
