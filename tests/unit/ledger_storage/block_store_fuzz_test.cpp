// Random damage to block files (byte flips anywhere, cuts, appended garbage): Open either succeeds or
// fails with kCorruption, and a store that opens never hands out bytes that were not written as a
// block. Never a crash, a hang or another kind of error.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "block_test_util.h"
#include "ledger/storage/block_store.h"
#include "temp_dir.h"

namespace medledger::ledger::storage {
namespace {

using medledger::testing::TempDir;
using testing::BlockBytes;
using testing::ReadFile;
using testing::WriteFile;

constexpr uint64_t kBlocks = 24;
size_t SizeOf(uint64_t n) {
  return 20 + (n * 37) % 300;
}

TEST(BlockStoreDamage, RandomDamageGivesCorruptionErrorsOrTrueBlocksNeverGarbage) {
  TempDir pristine;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 1500;  // several files, some with sidecars
  {
    auto store = storage::BlockStore::Open(pristine.Sub("blocks"), nullptr, o);
    ASSERT_TRUE(store.ok());
    for (uint64_t n = 0; n < kBlocks; ++n) ASSERT_TRUE((*store)->Append(n, BlockBytes(n, SizeOf(n))).ok());
  }
  std::set<std::string> written;
  for (uint64_t n = 0; n < kBlocks; ++n) written.insert(BlockBytes(n, SizeOf(n)));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(pristine.Sub("blocks"))) {
    if (e.path().filename() != "LOCK") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());

  const int seed = ::testing::UnitTest::GetInstance()->random_seed();  // --gtest_random_seed=N replays a run
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int opened = 0, refused = 0;
  for (int round = 0; round < 200; ++round) {
    TempDir dir;
    std::filesystem::copy(pristine.Sub("blocks"), dir.Sub("blocks"));
    const std::string victim = dir.Sub("blocks/" + names[rng() % names.size()]);
    std::string bytes = ReadFile(victim);
    switch (rng() % 4) {
      case 0:
      case 1:
        for (int flips = 1 + rng() % 3; flips > 0 && !bytes.empty(); --flips) {
          bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
        }
        break;
      case 2: bytes.resize(bytes.empty() ? 0 : rng() % bytes.size()); break;
      default:
        for (int i = rng() % 40; i >= 0; --i) bytes.push_back(static_cast<char>(rng()));
        break;
    }
    WriteFile(victim, bytes);
    auto store = storage::BlockStore::Open(dir.Sub("blocks"), nullptr, o);
    if (!store.ok()) {
      ASSERT_EQ(store.error().kind, ErrorKind::kCorruption) << "round " << round << ": " << store.error().ToString();
      ++refused;
      continue;
    }
    ++opened;
    for (uint64_t n = 0; n < (*store)->Height(); ++n) {
      auto block = (*store)->Read(n);
      if (block.ok()) {
        ASSERT_EQ(written.count(*block), 1u) << "round " << round << " block " << n << " returned unwritten bytes";
      } else {
        ASSERT_EQ(block.error().kind, ErrorKind::kCorruption) << block.error().ToString();
      }
    }
    // The damaged store still accepts the next block when it opened (a torn tail was cut).
    const uint64_t next = (*store)->Height();
    ASSERT_TRUE((*store)->Append(next, "after damage").ok()) << "round " << round;
    EXPECT_EQ((*store)->Read(next).value(), "after damage");
  }
  EXPECT_GT(opened, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace medledger::ledger::storage
