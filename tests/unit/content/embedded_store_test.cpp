#include "content/embedded_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "crypto/random.h"

namespace medledger::content {
namespace {

namespace fs = std::filesystem;

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ml-content-" + crypto::RandomHex(8));
    store_ = EmbeddedStore::Open(dir_).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Corrupt(const fs::path& p, size_t offset) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedStore> store_;
};

TEST_F(EmbeddedStoreTest, AddCatRoundTripsAtChunkBoundaries) {
  for (int version : {0, 1}) {
    for (size_t size : {size_t{0}, size_t{1}, kDefaultChunkSize - 1, kDefaultChunkSize, kDefaultChunkSize + 1,
                        3 * kDefaultChunkSize + 5}) {
      std::string bytes = crypto::RandomBytes(size);
      AddOptions o;
      o.cid_version = version;
      auto cid = store_->Add(bytes, o);
      ASSERT_TRUE(cid.ok()) << cid.error().ToString();
      EXPECT_EQ(*cid, ComputeCid(bytes, ImportOptions::Ipfs(version)).value().ToString());
      EXPECT_TRUE(store_->Has(*cid).value());
      auto back = store_->Cat(*cid);
      ASSERT_TRUE(back.ok()) << back.error().ToString();
      EXPECT_EQ(*back, bytes);
    }
  }
}

TEST_F(EmbeddedStoreTest, KnownCidsAndDocumentedBlockPath) {
  auto cid = store_->Add("hello world", {}).value();
  EXPECT_EQ(cid, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  // docs/CONTENT.md: blocks/<2 chars before the last>/<cidv1>.data
  fs::path expected = dir_ / "blocks" / "n5" / (cid + ".data");
  EXPECT_EQ(store_->BlockPath(Cid::Parse(cid).value()), expected);
  EXPECT_TRUE(fs::exists(expected));
  AddOptions v0;
  v0.cid_version = 0;
  EXPECT_EQ(store_->Add("", v0).value(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
}

TEST_F(EmbeddedStoreTest, EveryReadReHashesEveryBlock) {
  std::string bytes = crypto::RandomBytes(2 * kDefaultChunkSize + 10);
  auto cid = store_->Add(bytes, {}).value();
  // Corrupt the second leaf: the root still verifies, the leaf must not.
  Cid leaf = Cid::Of(1, kCodecRaw, std::string_view(bytes).substr(kDefaultChunkSize, kDefaultChunkSize));
  Corrupt(store_->BlockPath(leaf), 1000);
  auto r = store_->Cat(cid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "content_corrupted");
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruption);

  auto small = store_->Add("a small report", {}).value();
  Corrupt(store_->BlockPath(Cid::Parse(small).value()), 0);
  EXPECT_EQ(store_->Cat(small).error().code, "content_corrupted");
  // Truncation is corruption too.
  fs::resize_file(store_->BlockPath(Cid::Parse(small).value()), 3);
  EXPECT_EQ(store_->Cat(small).error().code, "content_corrupted");
}

TEST_F(EmbeddedStoreTest, MissingBlocksAndBadCids) {
  auto absent = Cid::Of(1, kCodecRaw, "never stored").ToString();
  EXPECT_EQ(store_->Cat(absent).error().code, "block_not_found");
  EXPECT_FALSE(store_->Has(absent).value());
  EXPECT_EQ(store_->Pin(absent).error().code, "block_not_found");
  EXPECT_EQ(store_->Cat("not-a-cid").error().code, "multibase_unsupported");
  EXPECT_EQ(store_->Cat("").error().code, "cid_invalid");
  EXPECT_EQ(store_->Unpin(absent).error().code, "not_pinned");
}

TEST_F(EmbeddedStoreTest, GarbageCollectionKeepsPinnedDagsOnly) {
  std::string big = crypto::RandomBytes(3 * kDefaultChunkSize);
  AddOptions unpinned;
  unpinned.pin = false;
  auto kept = store_->Add(big, {}).value();
  auto dropped = store_->Add(crypto::RandomBytes(2 * kDefaultChunkSize + 1), unpinned).value();
  auto unpinned_later = store_->Add("temporary", {}).value();
  std::vector<std::string> pins{kept, unpinned_later};
  std::sort(pins.begin(), pins.end());
  EXPECT_EQ(store_->ListPins().value(), pins);
  ASSERT_TRUE(store_->Unpin(unpinned_later).ok());
  auto stats = store_->CollectGarbage();
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->blocks_kept, 4u);     // 3 leaves + root
  EXPECT_EQ(stats->blocks_removed, 5u);  // 3 leaves + root of `dropped`, and `temporary`
  EXPECT_EQ(store_->Cat(kept).value(), big);
  EXPECT_EQ(store_->Cat(dropped).error().code, "block_not_found");
  EXPECT_EQ(store_->Cat(unpinned_later).error().code, "block_not_found");
  // Re-adding after GC restores the content.
  ASSERT_TRUE(store_->Add("temporary", {}).ok());
  EXPECT_EQ(store_->Cat(unpinned_later).value(), "temporary");
}

TEST_F(EmbeddedStoreTest, GarbageCollectionRefusesToRunOnACorruptPinnedDag) {
  std::string big = crypto::RandomBytes(2 * kDefaultChunkSize);
  auto cid = Cid::Parse(store_->Add(big, {}).value()).value();
  auto other = store_->Add("unpinned", AddOptions{1, true, false}).value();
  Corrupt(store_->BlockPath(cid), 5);
  EXPECT_EQ(store_->CollectGarbage().error().code, "content_corrupted");
  EXPECT_TRUE(store_->Has(other).value());  // nothing was swept
}

TEST_F(EmbeddedStoreTest, ReopenSeesEverythingAndClearsStaging) {
  auto cid = store_->Add("durable", {}).value();
  std::ofstream(dir_ / "tmp" / ".leftover.tmp") << "partial";
  store_.reset();
  store_ = EmbeddedStore::Open(dir_).value();
  EXPECT_EQ(store_->Cat(cid).value(), "durable");
  EXPECT_EQ(store_->ListPins().value(), std::vector<std::string>{cid});
  EXPECT_FALSE(fs::exists(dir_ / "tmp" / ".leftover.tmp"));
}

}  // namespace
}  // namespace medledger::content
