// kill -9 at random moments while a child process appends to a TreeStore and commits batches of random size.
// After each kill the store must open at a committed state no older than the last acknowledged commit, its
// cursor must be the one committed with that size, and its leaves, root and tiles must be exactly the reference
// tree's; the next child appends on from there.
#include <gtest/gtest.h>

#include <random>

#include "kill_child.h"
#include "temp_dir.h"
#include "tlog/tree_store.h"

namespace medledger::tlog {
namespace {

constexpr char kDirVar[] = "MEDLEDGER_TLOG_CRASH_DIR";

std::string CrashLeaf(uint64_t i) {
  return "crash leaf " + std::to_string(i) + std::string(i % 101, 'z');
}

TEST(TreeStoreCrashChild, AppendCommitLoop) {
  const char* dir = std::getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a crash-test child";
  const int fd = medledger::testing::CrashChildFd();
  auto store = TreeStore::Open(dir);
  if (!store.ok()) std::_Exit(2);
  std::mt19937_64 rng(static_cast<uint64_t>(::getpid()));
  for (;;) {
    const uint64_t batch = 1 + rng() % 300;
    for (uint64_t k = 0; k < batch; ++k) {
      if (!(*store)->Append(CrashLeaf((*store)->Size())).ok()) std::_Exit(4);
    }
    // The cursor names the size, so the parent can tell a meta file from another commit.
    if (!(*store)->Commit((*store)->Size() * 7).ok()) std::_Exit(5);
    medledger::testing::ReportAcknowledged(fd, (*store)->CommittedSize());
  }
}

TEST(TreeStoreCrash, KillDashNineLeavesTheLastCommittedTree) {
  medledger::testing::TempDir dir("tlog-crash");
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  MemoryTree ref;
  uint64_t acknowledged = 0;
  for (int round = 0; round < 8; ++round) {
    const int64_t last = medledger::testing::RunAndKill("TreeStoreCrashChild.AppendCommitLoop",
                                                        {std::string(kDirVar) + "=" + dir.path().string()}, rng);
    ASSERT_GE(last, 0) << "round " << round;
    acknowledged = static_cast<uint64_t>(last);
    auto store = TreeStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    const uint64_t size = (*store)->Size();
    EXPECT_GE(size, acknowledged) << "round " << round;
    EXPECT_EQ((*store)->CommittedSize(), size);
    EXPECT_EQ((*store)->CommittedCursor(), size * 7);
    while (ref.Size() < size) ref.AppendLeaf(CrashLeaf(ref.Size()));
    ASSERT_EQ((*store)->RootHash(size).value(), RootHash(ref, size).value()) << "round " << round;
    if (size > 0) {
      EXPECT_EQ((*store)->Leaf(size - 1).value(), CrashLeaf(size - 1));
    }
    if (size >= 256) {
      std::string tile;
      for (uint64_t i = 0; i < 256; ++i) tile += ref.StoredHash(0, i).value();
      EXPECT_EQ((*store)->Tile(0, 0, 256).value(), tile);
    }
  }
  EXPECT_GT(acknowledged, 0u);
}

}  // namespace
}  // namespace medledger::tlog
