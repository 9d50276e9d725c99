// kill -9 at random moments while a child process adds content to the embedded store (fsync on, small packs
// so seals happen within the run, inputs up to ~600 KiB so some are multi-block DAGs and some kills land inside
// a large append). After each kill the store must open, and every acknowledged add must read back whole and
// pinned; the next child continues after the last acknowledged one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "content/embedded_store.h"
#include "content/importer.h"
#include "kill_child.h"
#include "test_dir.h"

namespace medledger::content {
namespace {

constexpr char kDirVar[] = "MEDLEDGER_CONTENT_CRASH_DIR";
constexpr char kStartVar[] = "MEDLEDGER_CONTENT_CRASH_START";
constexpr int kRounds = 12;

std::string Content(uint64_t i) {
  std::mt19937_64 rng(i);
  std::string out(1 + (i * 7919) % (600 << 10), '\0');
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
  for (uint64_t i = std::strtoull(std::getenv(kStartVar), nullptr, 10);; ++i) {
    if (!(*store)->Add(Content(i), AddOptions{}).ok()) std::_Exit(4);
    medledger::testing::ReportAcknowledged(fd, i);
  }
}

TEST(ContentCrash, KillDashNineNeverLosesAnAcknowledgedAdd) {
  testing::TempDir dir;
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
