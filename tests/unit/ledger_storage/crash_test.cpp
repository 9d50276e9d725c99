// kill -9 at random moments: a child process appends blocks (or applies state updates) and reports
// each acknowledged number through a pipe; after the kill, every acknowledged block must be there, and
// the state must hold each block whole or not at all (it is replayed from the blocks, so it may trail).
// The child is this test binary re-executed (tests/support/kill_child.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "block_test_util.h"
#include "kill_child.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/state_db.h"
#include "temp_dir.h"

namespace medledger::ledger::storage {
namespace {

using medledger::testing::TempDir;
using testing::BlockBytes;

constexpr char kDirVar[] = "MEDLEDGER_CRASH_CHILD_DIR";
constexpr int kRounds = 20;
constexpr int kKeysPerBlock = 50;

size_t BlockSize(uint64_t n) {
  return 1 + (n * 7919) % (200 << 10);
}

storage::BlockStoreOptions CrashOptions() {
  storage::BlockStoreOptions o;
  o.max_file_bytes = 1 << 20;  // rolls happen within the run, so crashes land during them too
  return o;
}

// Small memtables flush every few dozen blocks, so kills land before, during and after flushes.
storage::StateDbOptions SmallMemtables() {
  storage::StateDbOptions o;
  o.write_buffer_bytes = 128 << 10;
  return o;
}

void Report(int fd, uint64_t n) {
  medledger::testing::ReportAcknowledged(fd, n);
}

// The children: skipped unless the parent started this binary to be one.
TEST(CrashChild, AppendBlocks) {
  const char* dir = std::getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a crash-test child";
  const int fd = medledger::testing::CrashChildFd();
  auto store = storage::BlockStore::Open(dir, nullptr, CrashOptions());
  if (!store.ok()) std::_Exit(2);
  for (;;) {
    const uint64_t n = (*store)->Height();
    if (!(*store)->Append(n, BlockBytes(n, BlockSize(n))).ok()) std::_Exit(4);
    Report(fd, n);
  }
}

TEST(CrashChild, ApplyBlocks) {
  const char* dir = std::getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a crash-test child";
  const int fd = medledger::testing::CrashChildFd();
  auto db = storage::StateDb::Open(dir, SmallMemtables());
  if (!db.ok()) std::_Exit(2);
  auto sp = (*db)->Savepoint();
  if (!sp.ok()) std::_Exit(2);
  for (uint64_t b = sp->has_value() ? **sp + 1 : 0;; ++b) {
    storage::BlockUpdate update{b, {}};
    storage::TxUpdate tx;
    tx.tx_id = "tx" + std::to_string(b);
    for (int i = 0; i < kKeysPerBlock; ++i) {
      tx.writes.push_back({"records", "b" + std::to_string(b) + "-" + std::to_string(i), std::string(100, 'v')});
    }
    tx.writes.push_back({"records", "latest", std::to_string(b)});
    update.txs.push_back(std::move(tx));
    if (!(*db)->ApplyBlock(update).ok()) std::_Exit(4);
    Report(fd, b);
  }
}

int64_t RunAndKill(const std::string& test, const std::string& dir, std::mt19937& rng) {
  return medledger::testing::RunAndKill(test, {std::string(kDirVar) + "=" + dir}, rng);
}

TEST(Crash, KillDashNineNeverLosesAnAcknowledgedBlock) {
  TempDir dir;
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int64_t acknowledged = -1;
  uint64_t torn_rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t last = RunAndKill("CrashChild.AppendBlocks", dir.Sub("blocks"), rng);
    ASSERT_GE(last, -1) << "round " << round;
    acknowledged = std::max(acknowledged, last);
    auto store = storage::BlockStore::Open(dir.Sub("blocks"), nullptr, CrashOptions());
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.error().ToString();
    if ((*store)->truncated_bytes() > 0) ++torn_rounds;
    ASSERT_GE(static_cast<int64_t>((*store)->Height()), acknowledged + 1) << "round " << round;
    for (uint64_t n = 0; n < (*store)->Height(); ++n) {
      auto block = (*store)->Read(n);
      ASSERT_TRUE(block.ok()) << "round " << round << ": " << block.error().ToString();
      ASSERT_EQ(*block, BlockBytes(n, BlockSize(n))) << "round " << round << " block " << n;
    }
  }
  EXPECT_GT(acknowledged, kRounds);  // the children made real progress
  RecordProperty("acknowledged_blocks", std::to_string(acknowledged + 1));
  RecordProperty("rounds_with_torn_tail", std::to_string(torn_rounds));
}

TEST(Crash, KillDashNineLeavesEachBlockFullyAppliedOrAbsent) {
  TempDir dir;
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed + 1);
  int64_t acknowledged = -1;
  int64_t best_savepoint = -1;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t last = RunAndKill("CrashChild.ApplyBlocks", dir.Sub("state"), rng);
    ASSERT_GE(last, -1) << "round " << round;
    acknowledged = std::max(acknowledged, last);
    auto db = storage::StateDb::Open(dir.Sub("state"), SmallMemtables());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    const auto sp = (*db)->Savepoint().value();
    const int64_t savepoint = sp ? static_cast<int64_t>(*sp) : -1;
    // There is no write-ahead log (the ledger replays its blocks): a kill loses the unflushed blocks, so
    // the savepoint may trail what was applied, but never passes it and never goes back.
    ASSERT_LE(savepoint, acknowledged + 1) << "round " << round;
    ASSERT_GE(savepoint, best_savepoint) << "round " << round;
    best_savepoint = savepoint;
    if (savepoint >= 0) {
      EXPECT_EQ((*db)->Get("records", "latest").value()->value, std::to_string(savepoint));
    }
    // The block after the savepoint left nothing; the savepoint's block is complete.
    const std::string next = "b" + std::to_string(savepoint + 1) + "-";
    EXPECT_TRUE((*db)->Range("records", next, next + "\xff", 0).value().empty());
    EXPECT_FALSE((*db)->FindTx("tx" + std::to_string(savepoint + 1)).value().has_value());
    if (savepoint >= 0) {
      const std::string cur = "b" + std::to_string(savepoint) + "-";
      EXPECT_EQ((*db)->Range("records", cur, cur + "\xff", 0).value().size(), static_cast<size_t>(kKeysPerBlock));
    }
  }
  EXPECT_GT(acknowledged, kRounds);
  EXPECT_GT(best_savepoint, kRounds);  // flushes happened between the kills, so there was something to check
  RecordProperty("acknowledged_blocks", std::to_string(acknowledged + 1));
  RecordProperty("flushed_blocks", std::to_string(best_savepoint + 1));
}

}  // namespace
}  // namespace medledger::ledger::storage
