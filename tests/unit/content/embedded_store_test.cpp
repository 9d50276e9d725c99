#include "content/embedded_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/encoding.h"
#include "content/car.h"
#include "content/dag_pb.h"
#include "crypto/random.h"
#include "test_dir.h"

namespace medledger::content {
namespace {

using testing::TempDir;

std::unique_ptr<EmbeddedStore> OpenStore(const TempDir& dir, bool sync = false) {
  EmbeddedStoreOptions o;
  o.sync = sync;
  auto s = EmbeddedStore::Open(dir.path(), o);
  EXPECT_TRUE(s.ok());
  return std::move(*s);
}

std::filesystem::path BlockPath(const TempDir& dir, const Cid& cid) {
  std::string hex = HexEncode(cid.digest());
  return dir.path() / "blocks" / hex.substr(0, 2) / hex;
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

// With flushing deferred to a barrier, a crash can leave a block file cut short before anything was
// acknowledged. Adding the same content again must rewrite it, not trust the name.
TEST(EmbeddedStore, ReAddRepairsABlockFileACrashLeftShort) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes = crypto::RandomBytes(5000);
  auto cid = Cid::Parse(store->Add(bytes, AddOptions{}).value()).value();
  std::filesystem::resize_file(BlockPath(dir, cid), 0);
  EXPECT_EQ(store->Cat(cid.ToString()).error().code, "content_corrupted");
  EXPECT_EQ(store->Add(bytes, AddOptions{}).value(), cid.ToString());
  EXPECT_EQ(store->Cat(cid.ToString()).value(), bytes);
}

TEST(EmbeddedStore, CorruptedTruncatedOrMissingBlocksFailLoudly) {
  TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes = crypto::RandomBytes(2 * kDefaultChunkSize + 3);
  auto root = Cid::Parse(store->Add(bytes, AddOptions{}).value()).value();
  auto leaf = Cid::Of(1, kCodecRaw, std::string_view(bytes).substr(kDefaultChunkSize, kDefaultChunkSize));

  {  // flip one byte of a leaf
    std::fstream f(BlockPath(dir, leaf), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55' ^ bytes[kDefaultChunkSize + 100]);
  }
  auto r = store->Cat(root.ToString());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "content_corrupted");
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruption);

  std::filesystem::resize_file(BlockPath(dir, leaf), 10);  // truncated
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "content_corrupted");
  std::filesystem::remove(BlockPath(dir, leaf));  // missing
  EXPECT_EQ(store->Cat(root.ToString()).error().code, "block_not_found");
  // Corrupt the root node itself.
  { std::ofstream(BlockPath(dir, root), std::ios::binary) << "garbage"; }
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

TEST(EmbeddedStore, GcRemovesLitterOfInterruptedWrites) {
  TempDir dir;
  auto store = OpenStore(dir);
  auto cid = store->Add("kept", AddOptions{}).value();
  auto litter = dir.path() / "blocks" / "ab" / (std::string(64, 'a') + ".tmp.0123456789ab");
  { std::ofstream(litter) << "half a block"; }
  auto stats = store->CollectGarbage().value();
  EXPECT_EQ(stats.temporaries, 1u);
  EXPECT_EQ(stats.removed, 0u);
  EXPECT_FALSE(std::filesystem::exists(litter));
  EXPECT_EQ(store->Cat(cid).value(), "kept");
}

TEST(EmbeddedStore, DamagedPinOrPinnedDagStopsGcBeforeAnyDeletion) {
  TempDir dir;
  auto store = OpenStore(dir);
  auto pinned = store->Add(crypto::RandomBytes(2 * kDefaultChunkSize), AddOptions{}).value();
  auto loose = store->Add("unpinned", AddOptions{1, true, false}).value();
  auto pin_file = dir.path() / "pins" / pinned;
  { std::ofstream(pin_file, std::ios::trunc) << "garbage"; }
  EXPECT_EQ(store->CollectGarbage().error().code, "pin_corrupted");
  EXPECT_TRUE(store->Has(loose).value());  // nothing was deleted
  { std::ofstream(pin_file, std::ios::trunc) << pinned; }
  // A missing block under a pin stops GC too.
  auto root = Cid::Parse(pinned).value();
  auto node = DecodePbNode(store->GetBlock(root).value()).value();
  std::filesystem::remove(BlockPath(dir, node.links[0].hash));
  EXPECT_EQ(store->CollectGarbage().error().code, "block_not_found");
  EXPECT_TRUE(store->Has(loose).value());
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
  std::mutex mu;
  std::set<std::string> seen;
  o.leaf_sink = [&](const Cid& cid, std::string_view data) {
    EXPECT_TRUE(cid.Matches(data));
    std::lock_guard lock(mu);
    EXPECT_TRUE(seen.insert(cid.digest()).second);
    return OkStatus();
  };
  auto dag = ImportFile(bytes, o).value();
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(dag.root, ComputeCid(bytes, ImportOptions::Ipfs(1)).value());
  o.leaf_sink = [](const Cid&, std::string_view) -> Status {
    return MakeError(ErrorKind::kIoError, "io_error", "disk full");
  };
  EXPECT_EQ(ImportFile(bytes, o).error().code, "io_error");
}

}  // namespace
}  // namespace medledger::content
