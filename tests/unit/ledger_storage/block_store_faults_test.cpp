// A random walk of appends, injected faults (failed fsync, torn write, full disk), power losses and
// restarts against FaultInjectionEnv. After every restart each acknowledged block must be there, intact.
#include <gtest/gtest.h>

#include <random>

#include "block_test_util.h"
#include "io/fault_env.h"
#include "ledger/storage/block_store.h"
#include "temp_dir.h"

namespace medledger::ledger::storage {
namespace {

using medledger::testing::TempDir;
using testing::BlockBytes;

size_t SizeOf(uint64_t n) {
  return 1 + (n * 131) % 700;
}

TEST(BlockStoreFaults, RandomFaultsAndPowerLossNeverLoseAnAcknowledgedBlock) {
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  io::FaultInjectionEnv env;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 2000;
  uint64_t acknowledged = 0;
  int power_losses = 0, failed_appends = 0;

  auto restart = [&](std::unique_ptr<storage::BlockStore>& store, bool power_loss) {
    store.reset();
    env.ClearFaults();
    if (power_loss) {
      ASSERT_TRUE(env.DropUnsyncedData().ok());
      ++power_losses;
    }
    auto reopened = storage::BlockStore::Open(dir.Sub("blocks"), &env, o);
    ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
    store = std::move(reopened).value();
    ASSERT_GE(store->Height(), acknowledged);
    for (uint64_t n = 0; n < store->Height(); ++n) {
      auto block = store->Read(n);
      ASSERT_TRUE(block.ok()) << "block " << n << ": " << block.error().ToString();
      ASSERT_EQ(*block, BlockBytes(n, SizeOf(n))) << "block " << n;
    }
    acknowledged = store->Height();
  };

  std::unique_ptr<storage::BlockStore> store;
  restart(store, false);
  for (int step = 0; step < 1500; ++step) {
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 8) {
      switch (rng() % 3) {
        case 0: env.SetSyncFailure(true); break;
        case 1: env.FailAppendAfter(rng() % 800); break;
        default: env.SetDiskFull(true); break;
      }
    } else if (dice < 14) {
      restart(store, /*power_loss=*/true);
    } else if (dice < 17) {
      restart(store, /*power_loss=*/false);
    } else {
      const uint64_t n = store->Height();
      const Status s = store->Append(n, BlockBytes(n, SizeOf(n)));
      if (s.ok()) {
        acknowledged = n + 1;
      } else {
        ++failed_appends;
        EXPECT_EQ(store->Height(), n);
        env.ClearFaults();
        if (s.error().code != "no_space") restart(store, rng() % 2 == 0);  // fsync failures are fail-stop
      }
    }
    if (HasFatalFailure()) return;
  }
  restart(store, true);
  EXPECT_GT(acknowledged, 100u);
  EXPECT_GT(power_losses, 10);
  EXPECT_GT(failed_appends, 10);
}

}  // namespace
}  // namespace medledger::ledger::storage
