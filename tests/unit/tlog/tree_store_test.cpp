#include "tlog/tree_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "temp_dir.h"

namespace medledger::tlog {
namespace {

std::string LeafData(uint64_t i) {
  return "leaf-" + std::to_string(i) + std::string(i % 37, 'x');
}

void AppendGarbage(const std::filesystem::path& path, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f << std::string(n, '\xAB');
}

void TruncateFile(const std::filesystem::path& path, uint64_t size) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0);
}

TEST(TreeStore, AppendCommitReopen) {
  testing::TempDir dir("tlog");
  MemoryTree ref;
  {
    auto store = TreeStore::Open(dir.path() / "log");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    EXPECT_EQ((*store)->Size(), 0u);
    EXPECT_EQ((*store)->RootHash(0).value(), EmptyRoot());
    for (uint64_t i = 0; i < 600; ++i) {
      ASSERT_TRUE((*store)->Append(LeafData(i)).ok());
      ref.AppendLeaf(LeafData(i));
      if (i % 97 == 0) {
        ASSERT_TRUE((*store)->Commit(i).ok());
      }
    }
    // Reads see pending leaves.
    EXPECT_EQ((*store)->Size(), 600u);
    EXPECT_EQ((*store)->RootHash(600).value(), RootHash(ref, 600).value());
    ASSERT_TRUE((*store)->Commit(600).ok());
  }
  auto store = TreeStore::Open(dir.path() / "log");
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_EQ((*store)->Size(), 600u);
  EXPECT_EQ((*store)->CommittedCursor(), 600u);
  for (uint64_t n : {1, 2, 255, 256, 257, 511, 512, 513, 600}) {
    EXPECT_EQ((*store)->RootHash(n).value(), RootHash(ref, n).value()) << n;
  }
  for (uint64_t i = 0; i < 600; i += 7) EXPECT_EQ((*store)->Leaf(i).value(), LeafData(i));
  EXPECT_EQ((*store)->Leaf(600).error().code, "index_out_of_range");
  EXPECT_EQ((*store)->RootHash(601).error().code, "size_out_of_range");
}

TEST(TreeStore, UncommittedAppendsAreGoneAfterReopen) {
  testing::TempDir dir("tlog");
  {
    auto store = TreeStore::Open(dir.path()).value();
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(store->Append(LeafData(i)).ok());
    ASSERT_TRUE(store->Commit(7).ok());
    for (int i = 300; i < 700; ++i) ASSERT_TRUE(store->Append(LeafData(i)).ok());
    EXPECT_EQ(store->Size(), 700u);
  }
  auto store = TreeStore::Open(dir.path()).value();
  EXPECT_EQ(store->Size(), 300u);
  EXPECT_EQ(store->CommittedCursor(), 7u);
}

// A crash in the middle of Commit leaves data files longer than the committed size (a torn append): Open
// cuts them back and the store goes on from the committed state, identical to a store that never crashed.
TEST(TreeStore, TornAppendIsTruncatedAndTheStoreStaysAppendable) {
  testing::TempDir dir("tlog");
  MemoryTree ref;
  {
    auto store = TreeStore::Open(dir.path()).value();
    for (uint64_t i = 0; i < 1000; ++i) {
      ASSERT_TRUE(store->Append(LeafData(i)).ok());
      ref.AppendLeaf(LeafData(i));
    }
    ASSERT_TRUE(store->Commit(1000).ok());
  }
  AppendGarbage(dir.path() / "entries.data", 77);
  AppendGarbage(dir.path() / "entries.index", 13);  // not even a whole offset
  AppendGarbage(dir.path() / "level-0.hashes", 45);
  AppendGarbage(dir.path() / "level-1.hashes", 32);
  AppendGarbage(dir.path() / "level-2.hashes", 64);  // a level the tree does not have yet
  {
    auto store = TreeStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    EXPECT_EQ((*store)->Size(), 1000u);
    EXPECT_EQ((*store)->RootHash(1000).value(), RootHash(ref, 1000).value());
    for (uint64_t i = 1000; i < 1300; ++i) {
      ASSERT_TRUE((*store)->Append(LeafData(i)).ok());
      ref.AppendLeaf(LeafData(i));
    }
    ASSERT_TRUE((*store)->Commit(1300).ok());
  }
  auto store = TreeStore::Open(dir.path()).value();
  EXPECT_EQ(store->Size(), 1300u);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "level-0.hashes"), 1300u * 32);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "level-1.hashes"), 5u * 32);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "level-2.hashes"), 0u);
  for (uint64_t n : {1000, 1024, 1280, 1299, 1300}) {
    EXPECT_EQ(store->RootHash(n).value(), RootHash(ref, n).value()) << n;
  }
  EXPECT_EQ(store->Leaf(999).value(), LeafData(999));
  EXPECT_EQ(store->Leaf(1000).value(), LeafData(1000));
}

TEST(TreeStore, ShortDataFileIsCorruption) {
  testing::TempDir dir("tlog");
  {
    auto store = TreeStore::Open(dir.path()).value();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->Append(LeafData(i)).ok());
    ASSERT_TRUE(store->Commit(1).ok());
  }
  TruncateFile(dir.path() / "level-0.hashes", 9 * 32);
  EXPECT_EQ(TreeStore::Open(dir.path()).error().code, "tlog_corrupt");
}

TEST(TreeStore, OneOpenerAtATime) {
  testing::TempDir dir("tlog");
  auto first = TreeStore::Open(dir.path());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(TreeStore::Open(dir.path()).error().code, "tlog_locked");
  first->reset();
  EXPECT_TRUE(TreeStore::Open(dir.path()).ok());
}

TEST(TreeStore, LimitsAndDiscard) {
  testing::TempDir dir("tlog");
  auto store = TreeStore::Open(dir.path()).value();
  EXPECT_EQ(store->Append(std::string(kMaxLeafSize + 1, 'a')).error().code, "leaf_too_large");
  EXPECT_TRUE(store->Append(std::string(kMaxLeafSize, 'a')).ok());
  EXPECT_TRUE(store->Append("").ok());
  store->DiscardPending();
  EXPECT_EQ(store->Size(), 0u);
  EXPECT_TRUE(store->Append("x").ok());
  ASSERT_TRUE(store->Commit(1).ok());
  EXPECT_EQ(store->Leaf(0).value(), "x");
}

TEST(TreeStore, TilesAndEntryBundles) {
  testing::TempDir dir("tlog");
  auto store = TreeStore::Open(dir.path()).value();
  MemoryTree ref;
  for (uint64_t i = 0; i < 700; ++i) {
    ASSERT_TRUE(store->Append(LeafData(i)).ok());
    ref.AppendLeaf(LeafData(i));
  }
  ASSERT_TRUE(store->Commit(0).ok());
  std::string expect;
  for (uint64_t i = 256; i < 512; ++i) expect += LeafHash(LeafData(i));
  EXPECT_EQ(store->Tile(0, 1, 256).value(), expect);
  EXPECT_EQ(store->Tile(0, 2, 188).value().size(), 188u * 32);
  EXPECT_EQ(store->Tile(0, 2, 189).error().code, "tile_not_found");
  EXPECT_EQ(store->Tile(1, 0, 2).value(), ref.StoredHash(8, 0).value() + ref.StoredHash(8, 1).value());
  EXPECT_EQ(store->Tile(1, 0, 3).error().code, "tile_not_found");
  EXPECT_EQ(store->Tile(0, 0, 0).error().code, "invalid_tile");
  std::string bundle = store->EntryBundle(2, 3).value();
  std::string want;
  for (uint64_t i = 512; i < 515; ++i) {
    const std::string leaf = LeafData(i);
    want.push_back(static_cast<char>(leaf.size() >> 8));
    want.push_back(static_cast<char>(leaf.size() & 0xFF));
    want += leaf;
  }
  EXPECT_EQ(bundle, want);
  EXPECT_EQ(store->EntryBundle(2, 189).error().code, "tile_not_found");
}

// 100,000 leaves: three tile levels (level 2 holds the root of the first 65,536). Every root, and random
// inclusion and consistency proofs, agree with the in-memory reference tree and verify, before and after
// reopening.
TEST(TreeStore, HundredThousandLeavesCrossTwoTileLevels) {
  testing::TempDir dir("tlog");
  constexpr uint64_t kN = 100000;
  MemoryTree ref;
  {
    auto store = TreeStore::Open(dir.path()).value();
    for (uint64_t i = 0; i < kN; ++i) {
      const std::string leaf = "entry " + std::to_string(i);
      ASSERT_TRUE(store->Append(leaf).ok());
      ref.AppendLeaf(leaf);
      if (i % 20000 == 19999) {
        ASSERT_TRUE(store->Commit(i).ok());
      }
    }
    ASSERT_TRUE(store->Commit(kN).ok());
  }
  auto store = TreeStore::Open(dir.path()).value();
  EXPECT_EQ(store->Tile(2, 0, 1).value(), RootHash(ref, 65536).value());
  std::mt19937_64 rng(99);
  std::vector<uint64_t> sizes{1, 255, 256, 257, 65535, 65536, 65537, kN - 1, kN};
  for (int i = 0; i < 6; ++i) sizes.push_back(1 + rng() % kN);
  for (uint64_t size : sizes) {
    const std::string root = store->RootHash(size).value();
    ASSERT_EQ(root, RootHash(ref, size).value()) << size;
    for (int k = 0; k < 3; ++k) {
      const uint64_t index = rng() % size;
      auto proof = store->InclusionProof(index, size).value();
      EXPECT_EQ(proof, InclusionProof(ref, index, size).value());
      EXPECT_TRUE(VerifyInclusion(LeafHash("entry " + std::to_string(index)), index, size, proof, root).ok());
      const uint64_t m = 1 + rng() % size;
      auto cproof = store->ConsistencyProof(m, size).value();
      EXPECT_TRUE(VerifyConsistency(m, size, RootHash(ref, m).value(), root, cproof).ok()) << m << "->" << size;
    }
  }
}

}  // namespace
}  // namespace medledger::tlog
