#include "content/block_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include "content/embedded_store.h"
#include "crypto/random.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

using medledger::testing::TempDir;

std::pair<Cid, std::string> RandomBlock(size_t size) {
  std::string bytes = crypto::RandomBytes(size);
  return {Cid::Of(1, kCodecRaw, bytes), bytes};
}

BlockStore MustOpen(const TempDir& dir, uint64_t pack_bytes, bool sync = false) {
  auto s = BlockStore::Open(dir.path() / "blocks", BlockStoreOptions{sync, pack_bytes});
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(*s);
}

size_t CountFiles(const TempDir& dir, const std::string& suffix) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "blocks")) {
    const std::string name = e.path().filename().string();
    n += name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return n;
}

TEST(PackBlockStore, SealsPacksWithIndexesAndReopensFromThem) {
  TempDir dir;
  std::vector<std::pair<Cid, std::string>> blocks;
  {
    auto store = MustOpen(dir, 8 * 1024);
    for (int i = 0; i < 50; ++i) {
      blocks.push_back(RandomBlock(1000 + static_cast<size_t>(i)));
      ASSERT_TRUE(store.Put(blocks.back().first, blocks.back().second).ok());
    }
    EXPECT_TRUE(store.Put(blocks[0].first, blocks[0].second).ok());  // present: not written twice
  }
  const size_t packs = CountFiles(dir, ".dat");
  EXPECT_GE(packs, 6u);
  EXPECT_EQ(CountFiles(dir, ".idx"), packs - 1);  // every pack but the open one
  // A damaged index is not trusted: the pack's headers are walked instead, and the index rewritten.
  const auto idx = dir.path() / "blocks" / "pack-00000001.dat.idx";
  { std::fstream(idx, std::ios::in | std::ios::out | std::ios::binary).seekp(20).put('\x01'); }
  for (int round = 0; round < 2; ++round) {
    auto store = MustOpen(dir, 8 * 1024);
    for (const auto& [cid, bytes] : blocks) EXPECT_EQ(store.Get(cid).value(), bytes);
    size_t listed = 0;
    ASSERT_TRUE(store.ForEach([&](const std::string&) { ++listed; }).ok());
    EXPECT_EQ(listed, blocks.size());
  }
  EXPECT_EQ(BlockStore::Open(dir.path() / "blocks", BlockStoreOptions{false, 10}).error().code, "invalid_argument");
}

// A block deleted while an older pack still holds its record must stay deleted when the pack holding the
// tombstone is compacted away.
TEST(PackBlockStore, TombstonesOutliveTheCompactionOfTheirPack) {
  TempDir dir;
  auto victim = RandomBlock(2000);
  std::vector<std::pair<Cid, std::string>> live, filler;
  {
    auto store = MustOpen(dir, 16 * 1024);
    ASSERT_TRUE(store.Put(victim.first, victim.second).ok());
    for (int i = 0; i < 7; ++i) {  // fills pack 1 (8 records of 2,048 bytes), mostly live
      live.push_back(RandomBlock(2000));
      ASSERT_TRUE(store.Put(live.back().first, live.back().second).ok());
    }
    ASSERT_TRUE(store.Delete(victim.first.digest()).ok());  // tombstone in pack 2
    for (int i = 0; i < 20; ++i) {
      filler.push_back(RandomBlock(2000));
      ASSERT_TRUE(store.Put(filler.back().first, filler.back().second).ok());
    }
    for (const auto& [cid, bytes] : filler) ASSERT_TRUE(store.Delete(cid.digest()).ok());
    auto stats = store.Compact();
    ASSERT_TRUE(stats.ok());
    EXPECT_GT(stats->packs_rewritten, 0u);
    EXPECT_FALSE(store.Has(victim.first));
  }
  auto store = MustOpen(dir, 16 * 1024);
  EXPECT_FALSE(store.Has(victim.first));
  EXPECT_EQ(store.Get(victim.first).error().code, "block_not_found");
  for (const auto& [cid, bytes] : live) EXPECT_EQ(store.Get(cid).value(), bytes);
  for (const auto& [cid, bytes] : filler) EXPECT_FALSE(store.Has(cid));
}

TEST(PackBlockStore, ConcurrentWritersAndReadersAcrossPackRolls) {
  TempDir dir;
  std::vector<std::vector<std::pair<Cid, std::string>>> per_thread(4);
  for (auto& v : per_thread) {
    for (int i = 0; i < 150; ++i) v.push_back(RandomBlock(static_cast<size_t>(100 + (i * 37) % 3000)));
  }
  std::atomic<int> bad{0};
  {
    auto store = MustOpen(dir, 32 * 1024, /*sync=*/true);
    std::vector<std::jthread> threads;
    for (const auto& v : per_thread) {
      threads.emplace_back([&store, &v, &bad] {
        for (const auto& [cid, bytes] : v) {
          if (!store.WriteOne(cid, bytes).ok()) ++bad;
          auto back = store.Get(cid);
          if (!back.ok() || *back != bytes) ++bad;
        }
        if (!store.Sync().ok()) ++bad;
      });
    }
  }
  EXPECT_EQ(bad.load(), 0);
  auto store = MustOpen(dir, 32 * 1024);
  for (const auto& v : per_thread) {
    for (const auto& [cid, bytes] : v) EXPECT_EQ(store.Get(cid).value(), bytes);
  }
}

TEST(PackBlockStore, OneOpenStorePerDirectory) {
  TempDir dir;
  {
    auto first = MustOpen(dir, 1 << 20);
    auto second = BlockStore::Open(dir.path() / "blocks");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, "store_locked");
  }
  EXPECT_TRUE(BlockStore::Open(dir.path() / "blocks").ok());  // released with the first
}

TEST(PackBlockStore, RefusesAPackThatIsNotOneAndLocatesBlocks) {
  TempDir dir;
  auto block = RandomBlock(100);
  {
    auto store = MustOpen(dir, 1 << 20);
    ASSERT_TRUE(store.Put(block.first, block.second).ok());
    auto loc = store.Locate(block.first.digest());
    ASSERT_TRUE(loc.has_value());
    EXPECT_EQ(loc->size, 100u);
    EXPECT_EQ(loc->offset, 48u);
    EXPECT_FALSE(store.Locate(std::string(32, 'x')).has_value());
    EXPECT_EQ(store.Delete("short").error().code, "invalid_argument");
  }
  // Garbage appended to the open pack (not a record) is set aside, and the block before it kept.
  { std::ofstream(dir.path() / "blocks" / "pack-00000001.dat", std::ios::app | std::ios::binary) << "not a record"; }
  auto store = MustOpen(dir, 1 << 20);
  EXPECT_EQ(store.Get(block.first).value(), block.second);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "blocks" / "pack-00000001.dat.torn-148"));
}

// Overwrites `bytes.size()` bytes of a block store file at `offset`.
void Overwrite(const std::filesystem::path& file, uint64_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Appends run concurrently, so a crash can leave an unfinished record (here: its header never reached the
// disk) before records that finished. Those are found again on open; the hole is stepped over.
TEST(PackBlockStore, RecordsAfterAHoleLeftByAnUnfinishedAppendSurviveReopen) {
  TempDir dir;
  std::vector<std::pair<Cid, std::string>> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(RandomBlock(700 + static_cast<size_t>(i) * 300));
  BlockStore::Location hole;
  {
    auto store = MustOpen(dir, 1 << 20);
    for (const auto& [cid, bytes] : blocks) ASSERT_TRUE(store.Put(cid, bytes).ok());
    hole = store.Locate(blocks[2].first.digest()).value();
  }
  Overwrite(hole.file, hole.offset - 48, std::string(48 + hole.size / 2, '\0'));
  for (int round = 0; round < 2; ++round) {
    auto store = MustOpen(dir, 1 << 20);
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (i == 2) {
        EXPECT_EQ(store.Get(blocks[i].first).error().code, "block_not_found");
      } else {
        EXPECT_EQ(store.Get(blocks[i].first).value(), blocks[i].second) << i;
      }
    }
    // Appends continue after the last record, not in the hole.
    auto more = RandomBlock(500);
    ASSERT_TRUE(store.Put(more.first, more.second).ok());
    blocks.push_back(more);
  }
  EXPECT_EQ(CountFiles(dir, ".dat"), 1u);
}

// Batches land whole at 4 KiB-aligned offsets among single appends of another thread, skip blocks already
// stored, and are found again on reopen, including from a sealed pack whose background-written index is
// missing (as after a crash before the seal finished).
TEST(PackBlockStore, BatchWriterBesideSingleAppendsAcrossRollsAndReopen) {
  TempDir dir;
  std::vector<std::pair<Cid, std::string>> batched;
  std::vector<std::pair<Cid, std::string>> single;
  for (int i = 0; i < 120; ++i) batched.push_back(RandomBlock(static_cast<size_t>(3000 + (i * 7919) % 9000)));
  for (int i = 0; i < 120; ++i) single.push_back(RandomBlock(static_cast<size_t>(100 + (i * 37) % 3000)));
  {
    auto store = MustOpen(dir, 256 * 1024);
    ASSERT_TRUE(store.Put(batched[5].first, batched[5].second).ok());  // already stored: skipped by the batch
    const auto before = store.Locate(batched[5].first.digest()).value();
    std::jthread other([&store, &single] {
      for (const auto& [cid, bytes] : single) ASSERT_TRUE(store.WriteOne(cid, bytes).ok());
    });
    auto writer = store.NewBatchWriter(64 * 1024);
    for (const auto& [cid, bytes] : batched) ASSERT_TRUE(writer.Add(cid, bytes).ok());
    ASSERT_TRUE(writer.Add(batched[7].first, batched[7].second).ok());  // twice in one batch: stored once
    ASSERT_TRUE(writer.Flush().ok());
    other.join();
    EXPECT_EQ(store.Locate(batched[5].first.digest())->offset, before.offset);
    EXPECT_EQ((store.Locate(batched[0].first.digest())->offset - 48) % 4096, 0u);  // a batch starts aligned
    for (const auto& [cid, bytes] : batched) EXPECT_EQ(store.Get(cid).value(), bytes);
    ASSERT_TRUE(store.Sync().ok());  // waits for the background seals too
  }
  EXPECT_GE(CountFiles(dir, ".dat"), 4u);
  EXPECT_EQ(CountFiles(dir, ".idx"), CountFiles(dir, ".dat") - 1);
  std::filesystem::remove(dir.path() / "blocks" / "pack-00000002.dat.idx");
  for (int round = 0; round < 2; ++round) {
    auto store = MustOpen(dir, 256 * 1024);
    for (const auto* set : {&batched, &single}) {
      for (const auto& [cid, bytes] : *set) EXPECT_EQ(store.Get(cid).value(), bytes);
    }
    size_t listed = 0;
    ASSERT_TRUE(store.ForEach([&](const std::string&) { ++listed; }).ok());
    EXPECT_EQ(listed, batched.size() + single.size());
  }
}

// A crash can land after a batch was written but before the padding record in front of it (the gap to the
// aligned offset) was: the walk on open steps over the hole and keeps the batch's blocks. What a writer had
// not flushed is not stored.
TEST(PackBlockStore, BatchSurvivesALostPaddingHeaderAndUnflushedBlocksAreNotStored) {
  TempDir dir;
  auto first = RandomBlock(1000);  // leaves the pack's end unaligned
  std::vector<std::pair<Cid, std::string>> batched;
  for (int i = 0; i < 5; ++i) batched.push_back(RandomBlock(5000));
  auto unflushed = RandomBlock(5000);
  {
    auto store = MustOpen(dir, 1 << 20);
    ASSERT_TRUE(store.Put(first.first, first.second).ok());
    auto writer = store.NewBatchWriter(1 << 20);
    for (const auto& [cid, bytes] : batched) ASSERT_TRUE(writer.Add(cid, bytes).ok());
    ASSERT_TRUE(writer.Flush().ok());
    auto dropped = store.NewBatchWriter(1 << 20);
    ASSERT_TRUE(dropped.Add(unflushed.first, unflushed.second).ok());
    EXPECT_FALSE(store.Has(unflushed.first));
  }
  const auto loc = MustOpen(dir, 1 << 20).Locate(first.first.digest()).value();
  Overwrite(loc.file, loc.offset + loc.size, std::string(48, '\0'));  // the gap's padding header
  for (int round = 0; round < 2; ++round) {
    auto store = MustOpen(dir, 1 << 20);
    EXPECT_EQ(store.Get(first.first).value(), first.second);
    for (const auto& [cid, bytes] : batched) EXPECT_EQ(store.Get(cid).value(), bytes);
    EXPECT_FALSE(store.Has(unflushed.first));
    auto more = RandomBlock(700);  // appends continue after the batch
    ASSERT_TRUE(store.Put(more.first, more.second).ok());
    EXPECT_GT(store.Locate(more.first.digest())->offset, store.Locate(batched.back().first.digest())->offset);
  }
}

// A record whose data no longer matches its digest, with good records after it, is reported on read (not
// taken for a torn tail) and writing the block again replaces it, before and after a reopen.
TEST(PackBlockStore, DamagedRecordIsReportedAndRewritingTheBlockRepairsIt) {
  TempDir dir;
  auto a = RandomBlock(900);
  auto b = RandomBlock(1100);
  BlockStore::Location loc;
  {
    auto store = MustOpen(dir, 1 << 20);
    ASSERT_TRUE(store.Put(a.first, a.second).ok());
    ASSERT_TRUE(store.Put(b.first, b.second).ok());
    loc = store.Locate(a.first.digest()).value();
  }
  Overwrite(loc.file, loc.offset + 10, std::string(1, static_cast<char>(a.second[10] ^ 0x40)));
  {
    auto store = MustOpen(dir, 1 << 20);
    auto read = store.Get(a.first);
    ASSERT_TRUE(read.ok());
    EXPECT_FALSE(a.first.Matches(*read));  // readers re-hash and report content_corrupted
    EXPECT_EQ(store.Get(b.first).value(), b.second);
    ASSERT_TRUE(store.Put(a.first, a.second).ok());  // not skipped as "already stored"
    EXPECT_EQ(store.Get(a.first).value(), a.second);
  }
  auto store = MustOpen(dir, 1 << 20);
  EXPECT_EQ(store.Get(a.first).value(), a.second);
}

// Uploaded bytes can look like records. Found while searching past a hole, only a block whose data hashes
// to its digest is taken: a forged tombstone (which has no data to check) must not delete another block.
TEST(PackBlockStore, ForgedTombstoneInsideUploadedBytesIsNotTakenAfterAHole) {
  TempDir dir;
  auto victim = RandomBlock(800);
  std::string forged = "MLB1";
  forged += '\x02';
  forged += std::string(11, '\0');
  forged += victim.first.digest();
  auto carrier = RandomBlock(0);
  carrier.second = std::string(100, 'x') + forged + std::string(100, 'y');
  carrier.first = Cid::Of(1, kCodecRaw, carrier.second);
  auto after = RandomBlock(600);
  BlockStore::Location loc;
  {
    auto store = MustOpen(dir, 1 << 20);
    ASSERT_TRUE(store.Put(victim.first, victim.second).ok());
    ASSERT_TRUE(store.Put(carrier.first, carrier.second).ok());
    ASSERT_TRUE(store.Put(after.first, after.second).ok());
    loc = store.Locate(carrier.first.digest()).value();
  }
  Overwrite(loc.file, loc.offset - 48, std::string(48, '\0'));  // the carrier's header never reached the disk
  auto store = MustOpen(dir, 1 << 20);
  EXPECT_EQ(store.Get(victim.first).value(), victim.second);
  EXPECT_EQ(store.Get(after.first).value(), after.second);
  EXPECT_EQ(store.Get(carrier.first).error().code, "block_not_found");
}

}  // namespace
}  // namespace medledger::content

namespace medledger::content {
namespace {

// Property: whatever bytes of the packs, their indexes or the pin log are damaged or cut, opening never
// crashes, and every read answers either the original bytes or a clear error; never other bytes.
TEST(PackBlockStore, DamagedFilesNeverYieldWrongBytes) {
  TempDir pristine;
  std::vector<std::pair<std::string, std::string>> contents;  // CID, bytes
  {
    EmbeddedStoreOptions o;
    o.sync = false;
    o.pack_bytes = 96 * 1024;
    auto store = EmbeddedStore::Open(pristine.path(), o).value();
    for (int i = 0; i < 24; ++i) {
      std::string bytes = crypto::RandomBytes(static_cast<size_t>(1 + (i * 9973) % 300000));
      contents.emplace_back(store->Add(bytes, AddOptions{}).value(), bytes);
    }
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(pristine.path())) {
    if (e.is_regular_file() && e.path().filename() != "LOCK")
      files.push_back(e.path().lexically_relative(pristine.path()));
  }
  std::mt19937 rng(20261124);
  for (int round = 0; round < 40; ++round) {
    TempDir dir;
    std::filesystem::copy(pristine.path(), dir.path(),
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
    const auto victim = dir.path() / files[rng() % files.size()];
    const auto size = std::filesystem::file_size(victim);
    if (round % 3 == 0) {
      std::filesystem::resize_file(victim, size == 0 ? 0 : rng() % size);
    } else {
      std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
      for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k) {
        f.seekp(static_cast<std::streamoff>(size == 0 ? 0 : rng() % size));
        f.put(static_cast<char>(rng()));
      }
    }
    SCOPED_TRACE("round " + std::to_string(round) + ": " + victim.filename().string());
    EmbeddedStoreOptions o;
    o.sync = false;
    auto store = EmbeddedStore::Open(dir.path(), o);
    if (!store.ok()) continue;  // a clear error is an acceptable answer
    for (const auto& [cid, bytes] : contents) {
      auto back = (*store)->Cat(cid);
      if (back.ok()) {
        EXPECT_EQ(*back, bytes) << cid;
      } else {
        EXPECT_TRUE(back.error().code == "content_corrupted" || back.error().code == "block_not_found")
            << back.error().ToString();
      }
    }
    (void)(*store)->Pins();  // damaged or not, it answers
  }
}

}  // namespace
}  // namespace medledger::content
