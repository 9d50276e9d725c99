// The Kubo RPC store against a real IPFS node: js-ipfs 0.66.1 (tests/peers), started offline on 127.0.0.1.
// CIDs from the node must equal the embedded store's for the same bytes; content round-trips; pins work;
// a missing block and a stopped node give clear errors, quickly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "content/embedded_store.h"
#include "content/importer.h"
#include "content/kubo_store.h"
#include "crypto/random.h"
#include "ipfs_node.h"

namespace medledger::content {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FreePort;
using testing::IpfsNode;

class IpfsKuboTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { node_ = IpfsNode::Start(&why_).release(); }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  void SetUp() override {
    if (why_ == "skip") GTEST_SKIP() << "tests/peers/node_modules is missing (run scripts/setup.sh)";
    ASSERT_NE(node_, nullptr) << why_;
    KuboOptions o;
    o.url = node_->url();
    o.request_timeout = 60s;
    kubo_ = KuboStore::Create(o).value();
    dir_ = fs::temp_directory_path() / ("ml-ipfs-embedded-" + crypto::RandomHex(6));
    EmbeddedStoreOptions eo;
    eo.sync = false;
    embedded_ = EmbeddedStore::Open(dir_, eo).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static IpfsNode* node_;  // one node for the suite: it takes seconds to start
  static std::string why_;
  std::unique_ptr<KuboStore> kubo_;
  std::unique_ptr<EmbeddedStore> embedded_;
  fs::path dir_;
};

IpfsNode* IpfsKuboTest::node_ = nullptr;
std::string IpfsKuboTest::why_;

TEST_F(IpfsKuboTest, BothStoresComputeTheSameCids) {
  const size_t kChunk = kDefaultChunkSize;
  std::string big = crypto::RandomBytes(174 * kChunk + 1);  // the first size that needs a two-level tree
  for (size_t size : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 174 * kChunk + 1}) {
    std::string_view bytes = std::string_view(big).substr(0, size);
    for (int version : {0, 1}) {
      AddOptions o;
      o.cid_version = version;
      auto local = embedded_->Add(bytes, o);
      ASSERT_TRUE(local.ok()) << local.error().ToString();
      auto remote = kubo_->Add(bytes, o);  // also checked inside against the locally computed CID
      ASSERT_TRUE(remote.ok()) << "size " << size << " v" << version << ": " << remote.error().ToString();
      EXPECT_EQ(*remote, *local) << "size " << size << " v" << version;
      if (version == 1 && size <= kChunk) {
        EXPECT_EQ(remote->substr(0, 6), "bafkre");  // a single raw block
      }
    }
  }
  // CIDv1 with dag-pb leaves (`--cid-version=1 --raw-leaves=false`).
  AddOptions dagpb_leaves;
  dagpb_leaves.raw_leaves = false;
  std::string_view three = std::string_view(big).substr(0, 2 * kChunk + 1);
  EXPECT_EQ(kubo_->Add(three, dagpb_leaves).value(), embedded_->Add(three, dagpb_leaves).value());
}

TEST_F(IpfsKuboTest, ContentRoundTripsThroughTheNode) {
  for (size_t size : {size_t{0}, size_t{5}, 3 * kDefaultChunkSize + 7}) {
    std::string bytes = crypto::RandomBytes(size);
    for (int version : {0, 1}) {
      AddOptions o;
      o.cid_version = version;
      auto cid = kubo_->Add(bytes, o).value();
      auto back = kubo_->Cat(cid);
      ASSERT_TRUE(back.ok()) << back.error().ToString();
      EXPECT_EQ(*back, bytes);
      EXPECT_TRUE(kubo_->Has(cid).value());
    }
  }
}

TEST_F(IpfsKuboTest, PinAndUnpin) {
  AddOptions unpinned;
  unpinned.pin = false;
  auto cid = kubo_->Add("pin me " + crypto::RandomHex(8), unpinned).value();
  EXPECT_FALSE(kubo_->IsPinned(cid).value());
  ASSERT_TRUE(kubo_->Pin(cid).ok());
  EXPECT_TRUE(kubo_->IsPinned(cid).value());
  ASSERT_TRUE(kubo_->Unpin(cid).ok());
  EXPECT_FALSE(kubo_->IsPinned(cid).value());
  auto again = kubo_->Unpin(cid);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "not_pinned");
}

TEST_F(IpfsKuboTest, MissingContentTimesOutWithAClearError) {
  KuboOptions o;
  o.url = node_->url();
  o.request_timeout = 1500ms;
  auto store = KuboStore::Create(o).value();
  std::string absent = Cid::Of(1, kCodecRaw, "never added " + crypto::RandomHex(8)).ToString();
  auto start = std::chrono::steady_clock::now();
  auto r = store->Cat(absent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code == "ipfs_timeout" || r.error().code == "block_not_found") << r.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_FALSE(store->Has(absent).value());
  EXPECT_EQ(store->Cat("not a cid").error().code, "multibase_unsupported");
}

TEST(IpfsKuboNodeDown, UnavailableAfterBoundedRetries) {
  KuboOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(FreePort());  // nothing listens there
  o.max_attempts = 3;
  o.initial_backoff = 50ms;
  auto store = KuboStore::Create(o).value();
  auto start = std::chrono::steady_clock::now();
  auto r = store->Add("report", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ipfs_unavailable");
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 150ms);  // two backoffs: 50 + 100 ms
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(store->Cat(Cid::Of(1, kCodecRaw, "x").ToString()).error().code, "ipfs_unavailable");
  EXPECT_EQ(KuboStore::Create(KuboOptions{"ftp://127.0.0.1"}).error().code, "invalid_url");
}

}  // namespace
}  // namespace medledger::content
