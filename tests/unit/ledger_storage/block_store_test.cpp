#include "ledger/storage/block_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "block_test_util.h"
#include "common/encoding.h"
#include "io/fault_env.h"
#include "ledger/storage/block_store_index.h"
#include "ledger/storage/crc32c.h"
#include "temp_dir.h"

namespace medledger::ledger::storage {
namespace {

using medledger::testing::TempDir;
using testing::BlockBytes;
using testing::FlipByte;
using testing::ReadFile;
using testing::WriteFile;

std::unique_ptr<storage::BlockStore> MustOpen(const std::string& dir, io::Env* env = nullptr,
                                              storage::BlockStoreOptions o = {}) {
  auto store = storage::BlockStore::Open(dir, env, o);
  if (!store.ok()) ADD_FAILURE() << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

void AppendBlocks(storage::BlockStore& store, uint64_t count, size_t size) {
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t n = store.Height();
    ASSERT_TRUE(store.Append(n, BlockBytes(n, size)).ok());
  }
}

void ExpectBlocks(const storage::BlockStore& store, uint64_t count, size_t size) {
  ASSERT_EQ(store.Height(), count);
  for (uint64_t n = 0; n < count; ++n) {
    auto got = store.Read(n);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    ASSERT_EQ(*got, BlockBytes(n, size)) << "block " << n;
  }
}

std::string File0(const TempDir& dir) {
  return dir.Sub("blocks/" + BlockFileName(0));
}

TEST(BlockStore, AppendReadAndReopen) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    EXPECT_EQ(store->Height(), 0u);
    for (uint64_t n = 0; n < 40; ++n) ASSERT_TRUE(store->Append(n, BlockBytes(n, 1 + n * 97)).ok());
  }
  auto store = MustOpen(dir.Sub("blocks"));
  EXPECT_EQ(store->truncated_bytes(), 0u);
  ASSERT_EQ(store->Height(), 40u);
  for (uint64_t n = 0; n < 40; ++n) EXPECT_EQ(store->Read(n).value(), BlockBytes(n, 1 + n * 97));
  ASSERT_TRUE(store->Append(40, "next").ok());
  EXPECT_EQ(store->Read(40).value(), "next");
}

TEST(BlockStore, OneWriterPerDirectoryButReadersMayLook) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("blocks"));
  AppendBlocks(*store, 2, 10);
  const auto second = storage::BlockStore::Open(dir.Sub("blocks"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(second.error().code, "locked");
  storage::BlockStoreOptions ro;
  ro.read_only = true;
  auto reader = MustOpen(dir.Sub("blocks"), nullptr, ro);
  ExpectBlocks(*reader, 2, 10);
  store.reset();
  EXPECT_TRUE(storage::BlockStore::Open(dir.Sub("blocks")).ok());  // released with the store
}

TEST(BlockStore, RecordFramingIsAsDocumented) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("blocks"));
  ASSERT_TRUE(store->Append(0, "hello").ok());
  const std::string file = ReadFile(File0(dir));
  ASSERT_EQ(file.size(), kBlockRecordHeaderSize + 5);
  EXPECT_EQ(DecodeFixed32(file.data()), kBlockRecordMagic);
  EXPECT_EQ(DecodeFixed32(file.data() + 4), 5u);
  EXPECT_EQ(DecodeFixed32(file.data() + 8), storage::crc32c::Value("hello"));
  EXPECT_EQ(file.substr(12), "hello");
}

TEST(BlockStore, RejectsBadAppendsAndReads) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("blocks"));
  EXPECT_EQ(store->Append(1, "x").error().code, "unexpected_block_number");
  EXPECT_EQ(store->Append(0, "").error().code, "empty_block");
  ASSERT_TRUE(store->Append(0, "x").ok());
  EXPECT_EQ(store->Append(0, "x").error().code, "unexpected_block_number");
  const auto missing = store->Read(1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "block_not_found");
  EXPECT_EQ(store->Height(), 1u);
}

TEST(BlockStore, RollsToNewFilesAndReadsAcrossThem) {
  TempDir dir;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 1000;
  {
    auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
    AppendBlocks(*store, 30, 300);
    AppendBlocks(*store, 1, 5000);  // larger than a file: gets one of its own
    AppendBlocks(*store, 1, 300);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("blocks/" + BlockFileName(10))));
  auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
  ASSERT_EQ(store->Height(), 32u);
  EXPECT_EQ(store->Read(30).value(), BlockBytes(30, 5000));
  for (uint64_t n = 0; n < 30; ++n) EXPECT_EQ(store->Read(n).value(), BlockBytes(n, 300));
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("blocks"))) {
    EXPECT_TRUE(entry.file_size() <= 1000 || entry.file_size() == 5012) << entry.path();
  }
}

// A crash can leave any prefix of the last record on disk: each must be cut, keeping every full block.
TEST(BlockStore, TornTailAtEveryByteOffsetIsTruncated) {
  TempDir dir;
  const std::string path = File0(dir);
  constexpr size_t kSize = 150;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 5, kSize);
  }
  const std::string full = ReadFile(path);
  const uint64_t record = kBlockRecordHeaderSize + kSize;
  const uint64_t good_end = full.size() - record;
  for (uint64_t cut = 1; cut < record; ++cut) {
    WriteFile(path, full.substr(0, good_end + cut));
    auto store = MustOpen(dir.Sub("blocks"));
    ASSERT_NE(store, nullptr) << "cut " << cut;
    EXPECT_EQ(store->truncated_bytes(), cut);
    ExpectBlocks(*store, 4, kSize);
    EXPECT_EQ(std::filesystem::file_size(path), good_end) << "cut " << cut;
    // The truncated store keeps working: block 4 can be written again.
    ASSERT_TRUE(store->Append(4, BlockBytes(4, kSize)).ok());
    store.reset();
    store = MustOpen(dir.Sub("blocks"));
    ExpectBlocks(*store, 5, kSize);
  }
}

TEST(BlockStore, ChecksumMismatchOnLastRecordIsATornTail) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 3, 100);
  }
  const uint64_t size = std::filesystem::file_size(File0(dir));
  FlipByte(File0(dir), size - 1);
  auto store = MustOpen(dir.Sub("blocks"));
  EXPECT_EQ(store->truncated_bytes(), kBlockRecordHeaderSize + 100);
  ExpectBlocks(*store, 2, 100);
}

TEST(BlockStore, ZeroFilledTailFromPowerLossIsTruncated) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 3, 100);
  }
  WriteFile(File0(dir), ReadFile(File0(dir)) + std::string(4096, '\0'));
  auto store = MustOpen(dir.Sub("blocks"));
  EXPECT_EQ(store->truncated_bytes(), 4096u);
  ExpectBlocks(*store, 3, 100);
}

// User data inside a block may contain what looks like a whole record; a torn copy of such a block is
// still a torn tail, not corruption.
TEST(BlockStore, FrameLookalikeInsideTornRecordIsNotCorruption) {
  TempDir dir;
  std::string inner;
  PutFixed32(&inner, kBlockRecordMagic);
  PutFixed32(&inner, 4);
  PutFixed32(&inner, storage::crc32c::Value("fake"));
  inner += "fake";
  const std::string last = "prefix" + inner + std::string(200, 'z');
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 2, 50);
    ASSERT_TRUE(store->Append(2, last).ok());
  }
  const std::string full = ReadFile(File0(dir));
  WriteFile(File0(dir), full.substr(0, full.size() - 100));
  auto store = MustOpen(dir.Sub("blocks"));
  EXPECT_EQ(store->truncated_bytes(), kBlockRecordHeaderSize + last.size() - 100);
  ExpectBlocks(*store, 2, 50);
}

// The price of never truncating acknowledged blocks: if a tear lands exactly where a chain of
// record-like patterns in user data ends, Open refuses to guess and reports corruption.
TEST(BlockStore, TearAtEndOfEmbeddedRecordChainIsReportedNotTruncated) {
  TempDir dir;
  std::string inner;
  PutFixed32(&inner, kBlockRecordMagic);
  PutFixed32(&inner, 4);
  PutFixed32(&inner, storage::crc32c::Value("fake"));
  inner += "fake";
  const std::string last = "prefix" + inner + std::string(200, 'z');
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 2, 50);
    ASSERT_TRUE(store->Append(2, last).ok());
  }
  const std::string full = ReadFile(File0(dir));
  WriteFile(File0(dir), full.substr(0, full.size() - 200));
  auto opened = storage::BlockStore::Open(dir.Sub("blocks"));
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("block 2 "), std::string::npos) << opened.error().message;
}

TEST(BlockStore, ChecksumCorruptionMidChainFailsOpenNamingTheBlock) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 5, 100);
  }
  const uint64_t record = kBlockRecordHeaderSize + 100;
  FlipByte(File0(dir), 2 * record + kBlockRecordHeaderSize + 40);  // payload of block 2
  const uint64_t size_before = std::filesystem::file_size(File0(dir));
  auto opened = storage::BlockStore::Open(dir.Sub("blocks"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::kCorruption);
  EXPECT_EQ(opened.error().code, "block_corrupt");
  EXPECT_NE(opened.error().message.find("block 2 "), std::string::npos) << opened.error().message;
  EXPECT_EQ(std::filesystem::file_size(File0(dir)), size_before);  // nothing was cut

  // Outside the verified tail, Open trusts the headers; Read still refuses the block and names it.
  storage::BlockStoreOptions headers_only;
  headers_only.verify_tail_bytes = 0;
  auto store = MustOpen(dir.Sub("blocks"), nullptr, headers_only);
  ASSERT_EQ(store->Height(), 5u);
  const auto bad = store->Read(2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "block_corrupt");
  EXPECT_NE(bad.error().message.find("block 2 "), std::string::npos);
  const auto raw = store->ReadRaw(2);
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(raw->checksum_ok());
  EXPECT_EQ(raw->offset, 2 * record);
  EXPECT_EQ(raw->payload.size(), 100u);
  EXPECT_EQ(store->Read(3).value(), BlockBytes(3, 100));

  storage::BlockStoreOptions paranoid;
  paranoid.verify_all_checksums = true;
  paranoid.verify_tail_bytes = 0;
  paranoid.read_only = true;  // as `medledger verify` would, next to the running store
  EXPECT_EQ(storage::BlockStore::Open(dir.Sub("blocks"), nullptr, paranoid).error().code, "block_corrupt");
}

TEST(BlockStore, HeaderCorruptionMidChainFailsOpen) {
  for (uint64_t field_offset : {0u, 4u, 5u, 7u}) {  // magic, length (high and low bytes)
    TempDir dir;
    {
      auto store = MustOpen(dir.Sub("blocks"));
      AppendBlocks(*store, 5, 100);
    }
    FlipByte(File0(dir), 1 * (kBlockRecordHeaderSize + 100) + field_offset);
    auto opened = storage::BlockStore::Open(dir.Sub("blocks"));
    ASSERT_FALSE(opened.ok()) << "field offset " << field_offset;
    EXPECT_EQ(opened.error().kind, ErrorKind::kCorruption);
    EXPECT_NE(opened.error().message.find("block 1 "), std::string::npos) << opened.error().message;
  }
}

TEST(BlockStore, DamageInEarlierFileOrMissingFileFailsOpen) {
  storage::BlockStoreOptions o;
  o.max_file_bytes = 500;
  {
    TempDir dir;
    {
      auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
      AppendBlocks(*store, 9, 100);  // 4 per file
    }
    const std::string f0 = File0(dir);
    const std::string bytes = ReadFile(f0);
    WriteFile(f0, bytes.substr(0, bytes.size() - 1));
    auto opened = storage::BlockStore::Open(dir.Sub("blocks"), nullptr, o);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, "block_corrupt");
    EXPECT_NE(opened.error().message.find("block 3 "), std::string::npos) << opened.error().message;
  }
  {
    TempDir dir;
    {
      auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
      AppendBlocks(*store, 9, 100);
    }
    std::filesystem::remove(dir.Sub("blocks/" + BlockFileName(1)));
    EXPECT_EQ(storage::BlockStore::Open(dir.Sub("blocks"), nullptr, o).error().code, "block_file_missing");
  }
}

TEST(BlockStore, SealedFilesGetSidecarIndexesThatSkipTheHeaderScan) {
  TempDir dir;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 1000;  // 3 blocks of 300 bytes per file
  {
    auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
    AppendBlocks(*store, 10, 300);
  }
  const std::string f0 = File0(dir);
  const auto offsets = storage::DecodeBlockFileIndex(ReadFile(f0 + ".idx"), std::filesystem::file_size(f0));
  ASSERT_TRUE(offsets.ok()) << offsets.error().ToString();
  EXPECT_EQ(*offsets, (std::vector<uint64_t>{0, 312, 624}));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("blocks/" + BlockFileName(3) + ".idx")));  // still open

  // A damaged header in a sealed file is not read at Open any more, but Read still refuses the block.
  FlipByte(f0, 312);
  auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
  ASSERT_EQ(store->Height(), 10u);
  const auto bad = store->Read(1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "block_corrupt");
  EXPECT_NE(bad.error().message.find("block 1 "), std::string::npos) << bad.error().message;
  EXPECT_EQ(store->Read(2).value(), BlockBytes(2, 300));
  store.reset();
  storage::BlockStoreOptions paranoid = o;
  paranoid.verify_all_checksums = true;  // ignores sidecars
  const auto opened = storage::BlockStore::Open(dir.Sub("blocks"), nullptr, paranoid);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("block 1 "), std::string::npos) << opened.error().message;
}

TEST(BlockStore, DamagedOrStaleSidecarIsIgnoredAndRewritten) {
  TempDir dir;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 1000;
  {
    auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
    AppendBlocks(*store, 10, 300);
  }
  const std::string f0 = File0(dir), idx0 = File0(dir) + ".idx";
  const uint64_t size0 = std::filesystem::file_size(f0);
  for (uint64_t i = 0; i < std::filesystem::file_size(idx0); i += 5) {
    FlipByte(idx0, i);
    auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
    ExpectBlocks(*store, 10, 300);
    EXPECT_TRUE(storage::DecodeBlockFileIndex(ReadFile(idx0), size0).ok()) << "rewritten after byte " << i;
  }
  WriteFile(idx0, storage::EncodeBlockFileIndex(size0 + 1, {0, 312, 624}));  // stale: describes another size
  {
    auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
    ExpectBlocks(*store, 10, 300);
  }
  // A well-formed sidecar that lies about the offsets is caught when the block is read.
  WriteFile(idx0, storage::EncodeBlockFileIndex(size0, {0, 300, 624}));
  auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
  EXPECT_EQ(store->Read(0).error().code, "block_corrupt");
  EXPECT_EQ(store->Read(1).error().code, "block_corrupt");
  EXPECT_EQ(store->Read(2).value(), BlockBytes(2, 300));
}

TEST(BlockFileIndex, RoundTripsAndRejectsDamage) {
  const std::vector<uint64_t> offsets = {0, 20, 1000, 5000};
  const std::string bytes = storage::EncodeBlockFileIndex(6000, offsets);
  EXPECT_EQ(storage::DecodeBlockFileIndex(bytes, 6000).value(), offsets);
  EXPECT_EQ(storage::DecodeBlockFileIndex(bytes, 6001).error().code, "block_index_invalid");
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x01;
    EXPECT_FALSE(storage::DecodeBlockFileIndex(damaged, 6000).ok()) << "byte " << i;
  }
  EXPECT_FALSE(storage::DecodeBlockFileIndex(bytes.substr(0, bytes.size() - 1), 6000).ok());
  EXPECT_FALSE(storage::DecodeBlockFileIndex("", 6000).ok());
  EXPECT_FALSE(
      storage::DecodeBlockFileIndex(storage::EncodeBlockFileIndex(6000, {0, 10}), 6000).ok());  // 10-byte record
  EXPECT_FALSE(
      storage::DecodeBlockFileIndex(storage::EncodeBlockFileIndex(6000, {0, 500, 400}), 6000).ok());   // not growing
  EXPECT_FALSE(storage::DecodeBlockFileIndex(storage::EncodeBlockFileIndex(6000, {100}), 6000).ok());  // not from 0
  EXPECT_FALSE(
      storage::DecodeBlockFileIndex(storage::EncodeBlockFileIndex(6000, {0, 5995}), 6000).ok());  // past the end
  EXPECT_FALSE(storage::DecodeBlockFileIndex(storage::EncodeBlockFileIndex(6000, {}), 6000).ok());
}

TEST(BlockStore, ReadOnlyLeavesTornTailInPlace) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("blocks"));
    AppendBlocks(*store, 3, 100);
  }
  const std::string full = ReadFile(File0(dir));
  WriteFile(File0(dir), full.substr(0, full.size() - 10));
  storage::BlockStoreOptions ro;
  ro.read_only = true;
  auto store = MustOpen(dir.Sub("blocks"), nullptr, ro);
  ExpectBlocks(*store, 2, 100);
  EXPECT_EQ(store->truncated_bytes(), kBlockRecordHeaderSize + 90);
  EXPECT_EQ(std::filesystem::file_size(File0(dir)), full.size() - 10);
  EXPECT_EQ(store->Append(2, "x").error().code, "block_store_read_only");
}

TEST(BlockStore, FsyncFailureIsNotAcknowledgedAndStopsAppends) {
  TempDir dir;
  io::FaultInjectionEnv env;
  {
    auto store = MustOpen(dir.Sub("blocks"), &env);
    AppendBlocks(*store, 3, 100);
    env.SetSyncFailure(true);
    const Status s = store->Append(3, BlockBytes(3, 100));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kIoError);
    EXPECT_EQ(store->Height(), 3u);
    EXPECT_EQ(store->Read(3).error().code, "block_not_found");
    env.ClearFaults();
    // The kernel may have dropped the pages whose writeback failed: no retry on this handle.
    EXPECT_EQ(store->Append(3, BlockBytes(3, 100)).error().code, "block_store_failed");
    ExpectBlocks(*store, 3, 100);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto store = MustOpen(dir.Sub("blocks"), &env);
  ExpectBlocks(*store, 3, 100);
  ASSERT_TRUE(store->Append(3, BlockBytes(3, 100)).ok());
  ExpectBlocks(*store, 4, 100);
}

// Every torn write an append can suffer (disk full mid-record) is undone, and the store keeps working.
TEST(BlockStore, TornWriteAtEveryOffsetIsUndone) {
  TempDir dir;
  io::FaultInjectionEnv env;
  auto store = MustOpen(dir.Sub("blocks"), &env);
  AppendBlocks(*store, 2, 64);
  const uint64_t record = kBlockRecordHeaderSize + 64;
  for (uint64_t budget = 0; budget < record; ++budget) {
    const uint64_t n = store->Height();
    env.FailAppendAfter(budget);
    const Status s = store->Append(n, BlockBytes(n, 64));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, "no_space");
    EXPECT_EQ(store->Height(), n);
    env.ClearFaults();
    ASSERT_TRUE(store->Append(n, BlockBytes(n, 64)).ok()) << "budget " << budget;
  }
  const uint64_t height = store->Height();
  store.reset();
  store = MustOpen(dir.Sub("blocks"), &env);
  EXPECT_EQ(store->truncated_bytes(), 0u);
  ExpectBlocks(*store, height, 64);
}

TEST(BlockStore, DiskFullThenSpaceFreed) {
  TempDir dir;
  io::FaultInjectionEnv env;
  auto store = MustOpen(dir.Sub("blocks"), &env);
  AppendBlocks(*store, 2, 100);
  env.SetDiskFull(true);
  EXPECT_EQ(store->Append(2, "x").error().code, "no_space");
  env.SetDiskFull(false);
  ASSERT_TRUE(store->Append(2, BlockBytes(2, 100)).ok());
  ExpectBlocks(*store, 3, 100);
}

// Power loss right after Append returns: every acknowledged block, including those in files created by
// a roll, must survive dropping all unsynced data.
TEST(BlockStore, AcknowledgedBlocksSurvivePowerLoss) {
  TempDir dir;
  io::FaultInjectionEnv env;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 700;
  {
    auto store = MustOpen(dir.Sub("blocks"), &env, o);
    AppendBlocks(*store, 20, 100);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto store = MustOpen(dir.Sub("blocks"), &env, o);
  EXPECT_EQ(store->truncated_bytes(), 0u);
  ExpectBlocks(*store, 20, 100);
}

// Found by the random fault walk: a roll whose directory sync failed leaves a new file whose name is
// not durable; after a restart, blocks acknowledged into it must not vanish in a power loss.
TEST(BlockStore, FileFromAFailedRollIsMadeDurableOnReopen) {
  TempDir dir;
  io::FaultInjectionEnv env;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 300;
  {
    auto store = MustOpen(dir.Sub("blocks"), &env, o);
    AppendBlocks(*store, 2, 100);  // file 0 is full
    env.SetSyncFailure(true);
    EXPECT_FALSE(store->Append(2, BlockBytes(2, 100)).ok());  // the roll's directory sync fails
    env.ClearFaults();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("blocks/" + BlockFileName(1))));
  {
    auto store = MustOpen(dir.Sub("blocks"), &env, o);  // a restart, no power loss
    AppendBlocks(*store, 2, 100);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto store = MustOpen(dir.Sub("blocks"), &env, o);
  ExpectBlocks(*store, 4, 100);
}

TEST(BlockStore, ConcurrentReadersWithOneAppender) {
  TempDir dir;
  storage::BlockStoreOptions o;
  o.max_file_bytes = 64 << 10;
  auto store = MustOpen(dir.Sub("blocks"), nullptr, o);
  constexpr uint64_t kBlocks = 400;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  std::atomic<bool> mismatch{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      while (!done.load()) {
        const uint64_t h = store->Height();
        if (h == 0) continue;
        const uint64_t n = rng() % h;
        auto got = store->Read(n);
        if (!got.ok() || *got != BlockBytes(n, 1000 + n % 7)) mismatch = true;
        ++reads;
      }
    });
  }
  for (uint64_t n = 0; n < kBlocks; ++n) ASSERT_TRUE(store->Append(n, BlockBytes(n, 1000 + n % 7)).ok());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_FALSE(mismatch.load());
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(store->Height(), kBlocks);
}

}  // namespace
}  // namespace medledger::ledger::storage
