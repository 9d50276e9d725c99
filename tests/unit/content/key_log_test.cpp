#include "content/key_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "content/key_wrap.h"
#include "content/keystore.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

using medledger::testing::TempDir;
namespace fs = std::filesystem;

KeyRecord Sample(int i) {
  return KeyRecord{crypto::Sha256("report-" + std::to_string(i)), "key-" + std::to_string(i), "0123456789abcdef",
                   crypto::RandomBytes(60)};
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::vector<KeyRecord> Live(const KeyLog& log) {
  std::vector<KeyRecord> out;
  EXPECT_TRUE(log.Scan([&](uint64_t, const KeyRecord& r) {
                   out.push_back(r);
                   return OkStatus();
                 })
                  .ok());
  return out;
}

TEST(KeyRecord, RoundTripsAndEveryTruncationOrFlipIsRefused) {
  KeyRecord r = Sample(1);
  std::string bytes = EncodeKeyRecord(r);
  size_t used = 0;
  auto back = DecodeKeyRecord(bytes, &used);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(back->binding, r.binding);
  EXPECT_EQ(back->key_id, r.key_id);
  EXPECT_EQ(back->kek_id, r.kek_id);
  EXPECT_EQ(back->wrapped, r.wrapped);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeKeyRecord(bytes.substr(0, n), &used).error().code, "record_truncated") << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    auto d = DecodeKeyRecord(flipped, &used);
    EXPECT_FALSE(d.ok()) << "a flipped byte " << i << " went unnoticed";
  }
  // Random input never crashes and never decodes.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk = crypto::RandomBytes(rng() % 200);
    EXPECT_FALSE(DecodeKeyRecord(junk, &used).ok());
  }
  // Mutated logs, read record after record as keylog_fuzzer does: progress is always made, never past the
  // end, and whatever decodes re-encodes to the same bytes.
  const std::string log = EncodeKeyRecord(Sample(1)) + EncodeKeyRecord(Sample(2)) + EncodeKeyRecord(Sample(3));
  for (int i = 0; i < 3000; ++i) {
    std::string m = log;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      switch (rng() % 3) {
        case 0: m[rng() % m.size()] = static_cast<char>(rng()); break;
        case 1: m.resize(rng() % (m.size() + 1)); break;
        default: m.insert(rng() % (m.size() + 1), 1, static_cast<char>(rng())); break;
      }
      if (m.empty()) break;
    }
    std::string_view in = m;
    while (!in.empty()) {
      auto d = DecodeKeyRecord(in, &used);
      ASSERT_GT(used, 0u);
      ASSERT_LE(used, in.size());
      if (d.ok()) {
        EXPECT_EQ(EncodeKeyRecord(*d), in.substr(0, used));
      }
      if (!d.ok() && d.error().code != "record_erased") break;
      in.remove_prefix(used);
    }
  }
}

TEST(KeyLog, AppendsReadsErasesAndReopens) {
  TempDir dir;
  const fs::path file = dir.path() / "keys.log";
  std::vector<uint64_t> offsets;
  {
    auto log = KeyLog::Open(file, KeyLog::Mode::kOwner).value();
    for (int i = 0; i < 3; ++i) offsets.push_back(log->Append(Sample(i), i == 2).value());
    EXPECT_EQ(log->ReadAt(offsets[1]).value().key_id, "key-1");
    ASSERT_TRUE(log->Erase(std::vector<uint64_t>{offsets[1]}).ok());
    EXPECT_EQ(log->ReadAt(offsets[1]).error().code, "key_destroyed");
    EXPECT_EQ(Live(*log).size(), 2u);
  }
  // The erased record's bytes are zeros on disk: its wrapped key is gone from the file.
  const std::string bytes = ReadAll(file);
  EXPECT_EQ(bytes.find(Sample(1).binding), std::string::npos);
  auto log = KeyLog::Open(file, KeyLog::Mode::kOwner).value();
  auto live = Live(*log);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].key_id, "key-0");
  EXPECT_EQ(live[1].key_id, "key-2");
  EXPECT_EQ(log->Append(Sample(3), true).value(), bytes.size());  // appends go on at the end
}

TEST(KeyLog, TornTailIsCutOffButDamageBeforeItIsCorruption) {
  TempDir dir;
  const fs::path file = dir.path() / "keys.log";
  {
    auto log = KeyLog::Open(file, KeyLog::Mode::kOwner).value();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Sample(i), true).ok());
  }
  const std::string good = ReadAll(file);
  const std::string next = EncodeKeyRecord(Sample(9));
  // Every way a crash can cut an append short: a prefix of the record, or zeros where its bytes never landed.
  for (const std::string& tail : {next.substr(0, 3), next.substr(0, 20), next.substr(0, next.size() - 1),
                                  std::string(next.size(), '\0'), std::string(5, '\0')}) {
    WriteAll(file, good + tail);
    auto reader = KeyLog::Open(file, KeyLog::Mode::kReader).value();
    EXPECT_EQ(Live(*reader).size(), 3u);
    EXPECT_EQ(ReadAll(file).size(), good.size() + tail.size()) << "a reader never truncates";
    auto owner = KeyLog::Open(file, KeyLog::Mode::kOwner).value();
    EXPECT_EQ(Live(*owner).size(), 3u);
    EXPECT_EQ(ReadAll(file), good);
  }
  // A damaged record with records after it: acknowledged keys may follow, so nothing is cut.
  std::string damaged = good;
  damaged[12] = static_cast<char>(damaged[12] ^ 1);
  WriteAll(file, damaged);
  auto refused = KeyLog::Open(file, KeyLog::Mode::kOwner);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "keystore_corrupted");
  EXPECT_EQ(ReadAll(file), damaged);
  // The same damage in the last record is indistinguishable from a torn append, and is cut.
  damaged = good;
  damaged[damaged.size() - 2] = static_cast<char>(damaged[damaged.size() - 2] ^ 1);
  WriteAll(file, damaged);
  EXPECT_EQ(Live(*KeyLog::Open(file, KeyLog::Mode::kOwner).value()).size(), 2u);
}

TEST(KeyLog, RewriteReplacesTheFile) {
  TempDir dir;
  const fs::path file = dir.path() / "keys.log";
  auto log = KeyLog::Open(file, KeyLog::Mode::kOwner).value();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(Sample(i), false).ok());
  auto offsets = log->Rewrite({Sample(7), Sample(8)}).value();
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(log->ReadAt(offsets[1]).value().key_id, "key-8");
  EXPECT_EQ(Live(*log).size(), 2u);
  EXPECT_TRUE(log->Append(Sample(9), true).ok());
  EXPECT_EQ(Live(*KeyLog::Open(file, KeyLog::Mode::kReader).value()).size(), 3u);
  EXPECT_EQ(KeyLog::Open(dir.path() / "absent.log", KeyLog::Mode::kReader).error().code, "not_found");
}

// `medledger erase` while the server runs: the second opener is a reader, and its erasure is seen by the owner.
TEST(FileKeystore, SecondProcessIsAReaderWhoseErasureTheOwnerSees) {
  TempDir dir;
  const std::string master = crypto::RandomBytes(32);
  auto owner = FileKeystore::Open(dir.path() / "ks", master, /*sync_stores=*/false).value();
  ASSERT_TRUE(owner->owner());
  const std::string dk1 = crypto::RandomBytes(32), dk2 = crypto::RandomBytes(32);
  ASSERT_TRUE(owner->Store("r-1", "v1", dk1).ok());
  ASSERT_TRUE(owner->Store("r-1", "v2", dk2).ok());
  ASSERT_TRUE(owner->Store("r-2", "v1", dk2).ok());

  auto reader = FileKeystore::Open(dir.path() / "ks", master).value();
  EXPECT_FALSE(reader->owner());
  EXPECT_EQ(reader->Store("r-3", "v1", dk1).error().code, "keystore_busy");
  EXPECT_EQ(reader->RotateKek().error().code, "keystore_busy");
  EXPECT_EQ(reader->KeyCount("r-1").value(), 2u);
  EXPECT_EQ(reader->Load("r-1", "v2").value(), dk2);

  EXPECT_EQ(ShredReport(*reader, "r-1").value(), 2u);
  EXPECT_EQ(owner->Load("r-1", "v1").error().code, "key_destroyed");
  EXPECT_EQ(owner->Load("r-1", "v2").error().code, "key_destroyed");
  EXPECT_EQ(owner->KeyCount("r-1").value(), 0u);
  EXPECT_EQ(owner->Load("r-2", "v1").value(), dk2);
  EXPECT_EQ(ShredReport(*reader, "r-1").error().code, "report_not_in_keystore");
  // The owner keeps appending after the reader's erasure; a reopened owner agrees on everything.
  ASSERT_TRUE(owner->Store("r-4", "v1", dk1).ok());
  EXPECT_EQ(reader->Load("r-4", "v1").value(), dk1);
  reader.reset();
  owner.reset();
  auto reopened = FileKeystore::Open(dir.path() / "ks", master).value();
  EXPECT_TRUE(reopened->owner());
  EXPECT_EQ(reopened->KeyCount("r-1").value(), 0u);
  EXPECT_EQ(reopened->Load("r-4", "v1").value(), dk1);
  EXPECT_EQ(ReadAll(dir.path() / "ks" / "keys.log").find(crypto::Sha256("r-1")), std::string::npos);
}

// Property: any sequence of stores, loads, erasures (by the owner or by a reader), rotations and reopens
// leaves FileKeystore answering exactly as the in-memory model does.
TEST(FileKeystore, RandomOperationsAgreeWithTheMemoryModel) {
  TempDir dir;
  const std::string master = crypto::RandomBytes(32);
  const fs::path ks_dir = dir.path() / "ks";
  auto owner = FileKeystore::Open(ks_dir, master, /*sync_stores=*/false).value();
  MemoryKeystore model;
  std::mt19937_64 rng(20261205);
  auto report = [](int r) { return "report-" + std::to_string(r); };
  auto key_id = [](int k) { return "k" + std::to_string(k); };
  for (int step = 0; step < 1500; ++step) {
    const int r = static_cast<int>(rng() % 24);
    const int k = static_cast<int>(rng() % 3);
    const uint64_t op = rng() % 100;
    SCOPED_TRACE("step " + std::to_string(step) + " op " + std::to_string(op));
    if (op < 45) {
      const std::string dk = crypto::RandomBytes(32);
      auto got = owner->Store(report(r), key_id(k), dk);
      auto want = model.Store(report(r), key_id(k), dk);
      ASSERT_EQ(got.ok(), want.ok());
      if (!got.ok()) {
        EXPECT_EQ(got.error().code, want.error().code);
      }
    } else if (op < 75) {
      auto got = owner->Load(report(r), key_id(k));
      auto want = model.Load(report(r), key_id(k));
      ASSERT_EQ(got.ok(), want.ok());
      if (got.ok()) {
        EXPECT_EQ(*got, *want);
      }
      if (!got.ok()) {
        EXPECT_EQ(got.error().code, want.error().code);
      }
    } else if (op < 82) {
      ASSERT_EQ(owner->KeyCount(report(r)).value(), model.KeyCount(report(r)).value());
    } else if (op < 88) {
      // Erasure of the whole report, half the time by a second opener (a reader: `medledger erase`).
      if (rng() % 2 == 0) {
        auto reader = FileKeystore::Open(ks_dir, master).value();
        ASSERT_FALSE(reader->owner());
        ASSERT_TRUE(reader->Destroy(report(r)).ok());
      } else {
        ASSERT_TRUE(owner->Destroy(report(r)).ok());
      }
      ASSERT_TRUE(model.Destroy(report(r)).ok());
    } else if (op < 94) {
      ASSERT_TRUE(owner->DestroyKey(report(r), key_id(k)).ok());
      ASSERT_TRUE(model.DestroyKey(report(r), key_id(k)).ok());
    } else if (op < 97) {
      ASSERT_TRUE(owner->RotateKek().ok());
    } else {
      owner.reset();
      owner = FileKeystore::Open(ks_dir, master, /*sync_stores=*/false).value();
      ASSERT_TRUE(owner->owner());
    }
  }
  for (int r = 0; r < 24; ++r) {
    ASSERT_EQ(owner->KeyCount(report(r)).value(), model.KeyCount(report(r)).value()) << r;
    for (int k = 0; k < 3; ++k) {
      auto got = owner->Load(report(r), key_id(k));
      auto want = model.Load(report(r), key_id(k));
      ASSERT_EQ(got.ok(), want.ok()) << r << "/" << k;
      if (got.ok()) {
        EXPECT_EQ(*got, *want);
      }
    }
  }
}

// Data directories of the layout before the log (keys/<sha256 hex>, one file per report) are imported.
TEST(FileKeystore, ImportsKeyFilesOfTheEarlierLayoutOnce) {
  TempDir dir;
  const std::string master = crypto::RandomBytes(32);
  const fs::path ks_dir = dir.path() / "ks";
  const std::string dk = crypto::RandomBytes(32);
  {
    auto ks = FileKeystore::Open(ks_dir, master).value();
    ASSERT_TRUE(ks->Store("old-report", "k1", dk).ok());
  }
  // Turn the log record back into the old key file: "MLKF\x01", a count, then (key id, KEK id, wrapped).
  const std::string log_bytes = ReadAll(ks_dir / "keys.log");
  size_t used = 0;
  KeyRecord r = DecodeKeyRecord(log_bytes, &used).value();
  std::string old_file = std::string("MLKF\x01", 5);
  PutFixed32(&old_file, 1);
  PutLengthPrefixed(&old_file, r.key_id);
  PutLengthPrefixed(&old_file, r.kek_id);
  PutLengthPrefixed(&old_file, r.wrapped);
  fs::create_directories(ks_dir / "keys");
  WriteAll(ks_dir / "keys" / HexEncode(r.binding), old_file);
  // A crash after appending but before removing the file: the record is already there, and not added twice.
  {
    auto ks = FileKeystore::Open(ks_dir, master).value();
    EXPECT_EQ(ks->KeyCount("old-report").value(), 1u);
  }
  EXPECT_FALSE(fs::exists(ks_dir / "keys"));
  // A fresh import into an empty log.
  fs::create_directories(ks_dir / "keys");
  WriteAll(ks_dir / "keys" / HexEncode(r.binding), old_file);
  WriteAll(ks_dir / "keys.log", "");
  auto ks = FileKeystore::Open(ks_dir, master).value();
  EXPECT_EQ(ks->Load("old-report", "k1").value(), dk);
  EXPECT_EQ(ks->KeyCount("old-report").value(), 1u);
  EXPECT_FALSE(fs::exists(ks_dir / "keys"));
}

}  // namespace
}  // namespace medledger::content
