#include "content/embedded_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/encoding.h"
#include "content/car.h"
#include "content/dag_pb.h"
#include "crypto/random.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

using medledger::testing::TempDir;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<EmbeddedStore> OpenStore(const TempDir& dir, bool sync = false) {
  EmbeddedStoreOptions o;
  o.sync = sync;
  auto s = EmbeddedStore::Open(dir.path(), o);
  EXPECT_TRUE(s.ok());
  return std::move(*s);
}

// Overwrites `bytes` at `at` within a stored block's bytes on disk.
void Scribble(const EmbeddedStore& store, const Cid& cid, uint64_t at, std::string_view bytes) {
  auto loc = store.LocateBlock(cid);
  ASSERT_TRUE(loc.has_value());
  std::fstream f(loc->file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(loc->offset + at));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Removes one block behind the store's back (the store is closed and reopened around it).
void DropBlock(const TempDir& dir, std::unique_ptr<EmbeddedStore>& store, const Cid& cid) {
  store.reset();
  {
    auto blocks = BlockStore::Open(dir.path() / "blocks", BlockStoreOptions{false});
    ASSERT_TRUE(blocks.ok());
    ASSERT_TRUE(blocks->Delete(cid.digest()).ok());
  }
  store = OpenStore(dir);
}

TEST(EmbeddedStore, AddCatRoundTripsWithIpfsCids) {
  TempDir dir;
  auto store = OpenStore(dir, /*sync=*/true);
  EXPECT_EQ(store->Add("hello world", AddOptions{}).value(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  EXPECT_EQ(store->Add("hello world", AddOptions{0, false, true}).value(),
            "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
  EXPECT_EQ(store->Cat("Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD").value(), "hello world");
  for (size_t size : {size_t{0}, size_t{1}, kDefaultChunkSize, kDefaultChunkSize + 1, 3 * kDefaultChunkSize + 5}) {
    std::string bytes = crypto::RandomBytes(size);
    for (int v : {0, 1}) {
      AddOptions o{v, v == 1, true};
      auto cid = store->Add(bytes, o);
      ASSERT_TRUE(cid.ok()) << cid.error().ToString();
      EXPECT_EQ(*cid, ComputeCid(bytes, ImportOptions::Ipfs(v)).value().ToString());
      EXPECT_EQ(store->Cat(*cid).value(), bytes) << size;
      EXPECT_TRUE(store->Has(*cid).value());
    }
  }
  // Reopening finds everything.
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->Cat("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e").value(), "hello world");
}

// Inputs from kBatchedAddBytes up go through batch writers: the same CIDs as `ipfs add`, across pack seals,
// with a file's repeated chunks stored once, and readable after reopen.
TEST(EmbeddedStore, LargeAddsThroughBatchWritersRoundTrip) {
  TempDir dir;
  EmbeddedStoreOptions o;
  o.sync = true;
  o.pack_bytes = 3 << 20;
  std::string bytes = crypto::RandomBytes(kBatchedAddBytes + 3 * kDefaultChunkSize + 17);
  bytes.replace(0, kDefaultChunkSize, bytes.substr(2 * kDefaultChunkSize, kDefaultChunkSize));  // a repeat
  std::vector<std::string> cids;
  {
    auto store = EmbeddedStore::Open(dir.path(), o).value();
    for (int v : {0, 1}) {
      auto cid = store->Add(bytes, AddOptions{v, v == 1, true});
      ASSERT_TRUE(cid.ok()) << cid.error().ToString();
      EXPECT_EQ(*cid, ComputeCid(bytes, ImportOptions::Ipfs(v)).value().ToString());
      EXPECT_EQ(store->Cat(*cid).value(), bytes);
      cids.push_back(*cid);
    }
  }
  auto store = EmbeddedStore::Open(dir.path(), o).value();
  for (const auto& cid : cids) EXPECT_EQ(store->Cat(cid).value(), bytes);
  EXPECT_EQ(store->Pins().value().size(), 2u);
}

// With flushing deferred to a barrier, a crash can leave the last record of the open pack cut short before
// anything was acknowledged. Opening drops it (kept aside in a .torn file) and adding the content again
// stores it whole; earlier records are untouched.
TEST(EmbeddedStore, TornPackTailIsSetAsideAndReAddRepairsIt) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string first = crypto::RandomBytes(3000);
  std::string bytes = crypto::RandomBytes(5000);
  auto kept = store->Add(first, AddOptions{}).value();
  auto cid = Cid::Parse(store->Add(bytes, AddOptions{}).value()).value();
  auto loc = store->LocateBlock(cid).value();
  store.reset();
  std::filesystem::resize_file(loc.file, loc.offset + 1000);  // the crash: half the record on disk
  store = OpenStore(dir);
  EXPECT_EQ(store->Cat(cid.ToString()).error().code, "block_not_found");
  EXPECT_EQ(store->Cat(kept).value(), first);
  EXPECT_TRUE(std::filesystem::exists(loc.file.string() + ".torn-" + std::to_string(loc.offset - 48)));
  EXPECT_EQ(store->Add(bytes, AddOptions{}).value(), cid.ToString());
  EXPECT_EQ(store->Cat(cid.ToString()).value(), bytes);
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->Cat(cid.ToString()).value(), bytes);
}

TEST(EmbeddedStore, CorruptedOrMissingBlocksFailLoudly) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes = crypto::RandomBytes(2 * kDefaultChunkSize + 3);
  auto root = Cid::Parse(store->Add(bytes, AddOptions{}).value()).value();
  auto leaf = Cid::Of(1, kCodecRaw, std::string_view(bytes).substr(kDefaultChunkSize, kDefaultChunkSize));

  // Flip one byte of a leaf.
  Scribble(*store, leaf, 100, std::string(1, static_cast<char>('\x55' ^ bytes[kDefaultChunkSize + 100])));
  auto r = store->Cat(root.ToString());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "content_corrupted");
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruption);
  // Still detected after a reopen (the damage is not at the tail, so it is not taken for a torn write).
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "content_corrupted");
  Scribble(*store, leaf, 100, std::string(1, bytes[kDefaultChunkSize + 100]));  // repaired
  EXPECT_EQ(store->Cat(root.ToString()).value(), bytes);

  DropBlock(dir, store, leaf);  // missing
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "block_not_found");
  // Corrupt the root node itself.
  Scribble(*store, root, 0, "garbage");
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "content_corrupted");

  EXPECT_EQ(store->Cat("not-a-cid").error().code, "multibase_unsupported");
  EXPECT_EQ(store->Cat("").error().code, "cid_invalid");
  EXPECT_EQ(store->Cat(Cid::Of(1, kCodecRaw, "absent").ToString()).error().code, "block_not_found");
}

TEST(EmbeddedStore, WellHashedButInconsistentDagIsRejected) {
  TempDir dir;
  auto store = OpenStore(dir);
  // A root whose UnixFS filesize lies about its one child.
  Cid child = Cid::Of(1, kCodecRaw, "abc");
  PbNode node;
  node.links.push_back(PbLink{child, "", 3});
  node.data = EncodeUnixFs(UnixFsData{UnixFsType::kFile, std::nullopt, 4, {3}});
  std::string enc = EncodePbNode(node);
  Cid root = Cid::Of(1, kCodecDagPb, enc);
  ASSERT_TRUE(store->PutBlocks({{child, "abc"}, {root, enc}}).ok());
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "content_corrupted");
  // A directory is not a file.
  PbNode dirnode;
  dirnode.data = EncodeUnixFs(UnixFsData{UnixFsType::kDirectory, std::nullopt, std::nullopt, {}});
  std::string denc = EncodePbNode(dirnode);
  Cid droot = Cid::Of(1, kCodecDagPb, denc);
  ASSERT_TRUE(store->PutBlocks({{droot, denc}}).ok());
  EXPECT_EQ(store->Cat(droot.ToString()).error().code, "unixfs_unsupported");
  // PutBlocks refuses a block under the wrong CID.
  EXPECT_EQ(store->PutBlocks({{child, "abd"}}).error().code, "content_corrupted");
}

TEST(EmbeddedStore, PinsAndGarbageCollection) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string a = crypto::RandomBytes(3 * kDefaultChunkSize);
  std::string b = crypto::RandomBytes(2 * kDefaultChunkSize + 1);
  auto cid_a = store->Add(a, AddOptions{}).value();
  auto cid_b = store->Add(b, AddOptions{1, true, /*pin=*/false}).value();
  EXPECT_EQ(store->Pins().value(), std::vector<std::string>{cid_a});

  auto stats = store->CollectGarbage().value();
  EXPECT_EQ(stats.removed, 4u);  // b: 3 leaves + root
  EXPECT_EQ(stats.kept, 4u);     // a: 3 leaves + root
  EXPECT_EQ(store->Cat(cid_a).value(), a);
  EXPECT_FALSE(store->Has(cid_b).value());
  EXPECT_EQ(store->Pin(cid_b).error().code, "block_not_found");  // cannot pin an incomplete DAG

  EXPECT_TRUE(store->Unpin(cid_a).ok());
  EXPECT_EQ(store->Unpin(cid_a).error().code, "not_pinned");
  EXPECT_EQ(store->CollectGarbage().value().removed, 4u);
  EXPECT_EQ(store->Cat(cid_a).error().code, "block_not_found");

  // Shared blocks survive while any pin reaches them.
  std::string chunk = crypto::RandomBytes(kDefaultChunkSize);
  auto one = store->Add(chunk + chunk, AddOptions{}).value();  // two links to the same leaf
  auto two = store->Add(chunk, AddOptions{}).value();          // that leaf alone
  ASSERT_TRUE(store->Unpin(one).ok());
  EXPECT_EQ(store->CollectGarbage().value().removed, 1u);  // only the root of `one`
  EXPECT_EQ(store->Cat(two).value(), chunk);
}

TEST(Car, ExportImportRoundTripWithKnownHeader) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes = crypto::RandomBytes(2 * kDefaultChunkSize + 7);
  auto root = Cid::Parse(store->Add(bytes, AddOptions{}).value()).value();
  std::string car = EncodeCarHeader({root});
  ASSERT_TRUE(WalkDag(store->Fetcher(), root, [&](const Cid& c, std::string_view block) {
                AppendCarSection(&car, c, block);
                return OkStatus();
              }).ok());
  // Header: varint 0x3a, {"roots": [tag 42 bytes(37)], "version": 1} as go-car writes it.
  EXPECT_EQ(HexEncode(car.substr(0, 12)), "3aa265726f6f747381d82a58");
  auto decoded = DecodeCar(car);
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  ASSERT_EQ(decoded->roots.size(), 1u);
  EXPECT_EQ(decoded->roots[0], root);
  EXPECT_EQ(decoded->blocks.size(), 4u);

  TempDir dir2;
  auto other = OpenStore(dir2);
  std::vector<std::pair<Cid, std::string_view>> blocks;
  for (const auto& b : decoded->blocks) blocks.emplace_back(b.cid, b.data);
  ASSERT_TRUE(other->PutBlocks(blocks).ok());
  EXPECT_EQ(other->Cat(root.ToString()).value(), bytes);

  // Damage: a flipped block byte, truncation, a bad header.
  std::string bad = car;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(DecodeCar(bad).error().code, "content_corrupted");
  EXPECT_EQ(DecodeCar(car.substr(0, car.size() - 1)).error().code, "car_invalid");
  EXPECT_EQ(DecodeCar(car.substr(0, 5)).error().code, "car_invalid");
  std::string v2 = car;
  v2[car.find("version") + 7] = 2;
  EXPECT_EQ(DecodeCar(v2).error().code, "car_unsupported_version");
  EXPECT_EQ(DecodeCar("").error().code, "car_invalid");
}

// Stores written before pack files (one file per block under blocks/<hh>/, one file per pin under pins/) open
// as they are: their blocks read, list and collect in place, their pins move into the log, and litter of
// interrupted writes is removed by GC.
TEST(EmbeddedStore, OneFilePerBlockLayoutOfEarlierVersionsStaysUsable) {
  TempDir dir;
  const std::string kept = "kept from an earlier version";
  const std::string loose = "unpinned in an earlier version";
  const Cid kept_cid = Cid::Of(1, kCodecRaw, kept);
  const Cid loose_cid = Cid::Of(1, kCodecRaw, loose);
  for (const auto& [cid, bytes] : {std::pair{kept_cid, kept}, std::pair{loose_cid, loose}}) {
    std::string hex = HexEncode(cid.digest());
    std::filesystem::create_directories(dir.path() / "blocks" / hex.substr(0, 2));
    std::ofstream(dir.path() / "blocks" / hex.substr(0, 2) / hex, std::ios::binary) << bytes;
  }
  std::filesystem::create_directories(dir.path() / "pins");
  std::ofstream(dir.path() / "pins" / kept_cid.ToString()) << kept_cid.ToString();
  auto litter = dir.path() / "blocks" / "ab" / (std::string(64, 'a') + ".tmp.0123456789ab");
  std::filesystem::create_directories(litter.parent_path());
  { std::ofstream(litter) << "half a block"; }

  auto store = OpenStore(dir);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pins"));  // imported into pins.log
  EXPECT_EQ(store->Pins().value(), std::vector<std::string>{kept_cid.ToString()});
  EXPECT_EQ(store->Cat(kept_cid.ToString()).value(), kept);
  auto stats = store->CollectGarbage().value();
  EXPECT_EQ(stats.temporaries, 1u);
  EXPECT_EQ(stats.removed, 1u);
  EXPECT_EQ(stats.kept, 1u);
  EXPECT_FALSE(std::filesystem::exists(litter));
  EXPECT_FALSE(store->Has(loose_cid.ToString()).value());
  auto added = store->Add("new content", AddOptions{}).value();
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->Cat(kept_cid.ToString()).value(), kept);
  EXPECT_EQ(store->Cat(added).value(), "new content");
  EXPECT_EQ(store->Pins().value().size(), 2u);
}

TEST(EmbeddedStore, DamagedPinLogOrPinnedDagStopsGcBeforeAnyDeletion) {
  TempDir dir;
  auto store = OpenStore(dir);
  auto pinned = store->Add(crypto::RandomBytes(2 * kDefaultChunkSize), AddOptions{}).value();
  auto loose = store->Add("unpinned", AddOptions{1, true, false}).value();
  store.reset();
  const auto log = dir.path() / "pins.log";
  const std::string good = ReadAll(log);
  { std::ofstream(log, std::ios::app) << "+garbage\n"; }
  store = OpenStore(dir);
  EXPECT_EQ(store->CollectGarbage().error().code, "pin_corrupted");
  EXPECT_EQ(store->Pins().error().code, "pin_corrupted");
  EXPECT_TRUE(store->Has(loose).value());                               // nothing was deleted
  EXPECT_EQ(store->Cat(pinned).value().size(), 2 * kDefaultChunkSize);  // reads are unaffected
  store.reset();
  { std::ofstream(log, std::ios::trunc | std::ios::binary) << good << "+" << pinned.substr(0, 20); }  // torn tail
  store = OpenStore(dir);
  EXPECT_EQ(store->Pins().value(), std::vector<std::string>{pinned});  // the torn line is dropped
  // A missing block under a pin stops GC too.
  auto root = Cid::Parse(pinned).value();
  auto node = DecodePbNode(store->GetBlock(root).value()).value();
  DropBlock(dir, store, node.links[0].hash);
  EXPECT_EQ(store->CollectGarbage().error().code, "block_not_found");
  EXPECT_TRUE(store->Has(loose).value());
}

// Deleted blocks stay deleted across reopen (tombstones), and compaction of sealed packs reclaims their space
// without touching a live block.
TEST(EmbeddedStore, GcCompactsSealedPacksAndDeletionsSurviveReopen) {
  TempDir dir;
  EmbeddedStoreOptions o;
  o.sync = false;
  o.pack_bytes = 64 * 1024;  // small packs: many seal during the test
  auto store = EmbeddedStore::Open(dir.path(), o).value();
  std::vector<std::pair<std::string, std::string>> kept, dropped;
  for (int i = 0; i < 60; ++i) {
    std::string bytes = crypto::RandomBytes(5000 + static_cast<size_t>(i));
    bool pin = i % 4 == 0;
    auto cid = store->Add(bytes, AddOptions{1, true, pin}).value();
    (pin ? kept : dropped).emplace_back(cid, bytes);
  }
  auto stats = store->CollectGarbage().value();
  EXPECT_EQ(stats.removed, dropped.size());
  EXPECT_GT(stats.compaction.packs_rewritten, 0u);
  EXPECT_GT(stats.compaction.bytes_reclaimed, 0u);
  for (int round = 0; round < 2; ++round) {
    for (const auto& [cid, bytes] : kept) EXPECT_EQ(store->Cat(cid).value(), bytes);
    for (const auto& [cid, bytes] : dropped) EXPECT_FALSE(store->Has(cid).value()) << cid;
    store.reset();
    store = EmbeddedStore::Open(dir.path(), o).value();
  }
  // Re-adding a deleted block brings it back, also after a reopen (the later record wins).
  EXPECT_EQ(store->Add(dropped[0].second, AddOptions{}).value(), dropped[0].first);
  store.reset();
  store = EmbeddedStore::Open(dir.path(), o).value();
  EXPECT_EQ(store->Cat(dropped[0].first).value(), dropped[0].second);
  EXPECT_EQ(store->CollectGarbage().value().removed, 0u);
}

TEST(EmbeddedStore, ConcurrentAddsReadsAndGcNeverLosePinnedContent) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::atomic<bool> failed{false};
  std::atomic<int> adds{0};
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < 3; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < 15; ++i) {
          std::string bytes = crypto::RandomBytes(static_cast<size_t>((t * 15 + i) * 37000 % 700000));
          bool pin = i % 3 != 0;
          auto cid = store->Add(bytes, AddOptions{1, true, pin});
          if (!cid.ok()) {
            failed = true;
            continue;
          }
          ++adds;
          // Pinned content must survive any concurrent GC; unpinned content may vanish, but never half-read.
          auto back = store->Cat(*cid);
          if (pin && (!back.ok() || *back != bytes)) failed = true;
          if (!pin && back.ok() && *back != bytes) failed = true;
          if (!pin && !back.ok() && back.error().code != "block_not_found") failed = true;
        }
      });
    }
    workers.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!store->CollectGarbage().ok()) failed = true;
      }
    });
  }
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(adds.load(), 45);
  EXPECT_EQ(store->Pins().value().size(), 30u);  // 2 of every 3 adds pinned, all distinct random inputs
}

TEST(Importer, LeafSinkSeesEveryLeafOnceAndItsErrorAbortsTheImport) {
  std::string bytes = crypto::RandomBytes(7 * kDefaultChunkSize + 11);
  ImportOptions o = ImportOptions::Ipfs(1);
  o.threads = 3;
  std::map<std::string, size_t> chunk_of;  // digest -> position in the file
  for (size_t i = 0; i * kDefaultChunkSize < bytes.size(); ++i) {
    chunk_of[Cid::Of(1, kCodecRaw, std::string_view(bytes).substr(i * kDefaultChunkSize, kDefaultChunkSize)).digest()] =
        i;
  }
  std::mutex mu;
  std::set<std::string> seen;
  std::vector<long> last(3, -1);  // per worker: the last chunk it passed on, which must grow
  o.leaf_sink = [&](unsigned worker, const Cid& cid, std::string_view data) {
    EXPECT_TRUE(cid.Matches(data));
    std::lock_guard lock(mu);
    EXPECT_TRUE(seen.insert(cid.digest()).second);
    if (worker >= last.size()) {
      ADD_FAILURE() << "worker " << worker;
      return OkStatus();
    }
    const long at = static_cast<long>(chunk_of.at(cid.digest()));
    EXPECT_GT(at, last[worker]) << "worker " << worker;
    last[worker] = at;
    return OkStatus();
  };
  auto dag = ImportFile(bytes, o).value();
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(dag.root, ComputeCid(bytes, ImportOptions::Ipfs(1)).value());
  o.leaf_sink = [](unsigned, const Cid&, std::string_view) -> Status {
    return MakeError(ErrorKind::kIoError, "io_error", "disk full");
  };
  EXPECT_EQ(ImportFile(bytes, o).error().code, "io_error");
}

}  // namespace
}  // namespace medledger::content
