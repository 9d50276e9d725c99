// The leaves a real chain yields: the records contract on the embedded ledger, blocks read back as stored.
#include "reportlog/block_leaves.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../ledger/test_support.h"
#include "common/encoding.h"
#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "pb/common/common.pb.h"

namespace medledger::reportlog {
namespace {

using ledger::testing::LedgerFixture;
using json = nlohmann::json;

const std::string kPatient = HexEncode(crypto::Sha256("patient"));
const std::string kCid1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
const std::string kCid2 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const std::string kHash1 = HexEncode(crypto::Sha256("v1"));
const std::string kHash2 = HexEncode(crypto::Sha256("v2"));

class BlockLeavesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ledger::testing::TempDir("reportlog");
    auto options = fx_.Options(dir_);
    options.chaincode = "records";
    options.contract = contract::NewRecordsContract();
    options.batch.max_tx_count = 1;  // one transaction per block: block numbers name transactions
    ledger_ = ledger::embedded::EmbeddedLedger::Open(options).value();
  }
  void TearDown() override {
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  ledger::TxReceipt Submit(const identity::SigningIdentity& who, const std::string& fn, const json& arg) {
    auto r = ledger_->Submit(who, {fn, {arg.dump()}});
    EXPECT_TRUE(r.ok()) << fn << ": " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? *r : ledger::TxReceipt{};
  }
  BlockEvents Events(uint64_t n) {
    auto bytes = ledger_->GetBlock(n);
    EXPECT_TRUE(bytes.ok());
    auto ev = EventsFromBlock(bytes.value(), "records");
    EXPECT_TRUE(ev.ok()) << (ev.ok() ? "" : ev.error().ToString());
    return ev.ok() ? *ev : BlockEvents{};
  }

  LedgerFixture fx_;
  std::shared_ptr<identity::SigningIdentity> admin_ = fx_.org.Issue("admin1", "admin", "admin");
  std::shared_ptr<identity::SigningIdentity> service_ = fx_.org.Issue("medledger-log", "client", "service");
  std::string dir_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;
};

TEST_F(BlockLeavesTest, EveryReportEventBecomesOneLeafInBlockOrder) {
  Submit(*admin_, "RegisterPatient", {{"patientRef", kPatient}});
  auto created = Submit(*fx_.alice, "CreateReport",
                        {{"reportId", "r1"}, {"patientRef", kPatient}, {"cid", kCid1}, {"contentHash", kHash1}});
  auto amended = Submit(*fx_.alice, "AmendReport", {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}});
  auto read = Submit(*fx_.alice, "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  auto anchor = Submit(*service_, "AnchorCheckpoint",
                       {{"origin", "medledger/Org1MSP/reports"}, {"treeSize", 3}, {"rootHash", std::string(64, 'e')}});

  EXPECT_TRUE(Events(created.block_number - 1).leaves.empty());  // the registration is no report event
  BlockEvents c = Events(created.block_number);
  ASSERT_EQ(c.leaves.size(), 1u);
  const Leaf& leaf = c.leaves[0];
  EXPECT_EQ(leaf.kind, LeafKind::kCreated);
  EXPECT_EQ(leaf.report_id, "r1");
  EXPECT_EQ(leaf.version, 1);
  EXPECT_EQ(leaf.patient, kPatient);
  EXPECT_EQ(leaf.cid, kCid1);
  EXPECT_EQ(leaf.content_hash, kHash1);
  EXPECT_EQ(leaf.tx_id, created.tx_id);
  EXPECT_EQ(leaf.block_number, created.block_number);
  EXPECT_EQ(leaf.ledger_time, created.timestamp.ToRfc3339());

  BlockEvents a = Events(amended.block_number);
  ASSERT_EQ(a.leaves.size(), 1u);
  EXPECT_EQ(a.leaves[0].kind, LeafKind::kAmended);
  EXPECT_EQ(a.leaves[0].version, 2);
  EXPECT_EQ(a.leaves[0].content_hash, kHash2);

  BlockEvents r = Events(read.block_number);
  ASSERT_EQ(r.leaves.size(), 1u);
  EXPECT_EQ(r.leaves[0].kind, LeafKind::kAccessed);
  EXPECT_EQ(r.leaves[0].cid, kCid2);
  EXPECT_EQ(r.leaves[0].tx_id, read.tx_id);

  BlockEvents an = Events(anchor.block_number);
  EXPECT_TRUE(an.leaves.empty());
  ASSERT_EQ(an.anchors.size(), 1u);
  EXPECT_EQ(an.anchors[0].tree_size, 3u);
  EXPECT_EQ(an.anchors[0].root_hash, std::string(64, 'e'));
  EXPECT_EQ(an.anchors[0].tx_id, anchor.tx_id);
}

TEST_F(BlockLeavesTest, InvalidTransactionsYieldNoLeaf) {
  Submit(*admin_, "RegisterPatient", {{"patientRef", kPatient}});
  auto created = Submit(*fx_.alice, "CreateReport",
                        {{"reportId", "r1"}, {"patientRef", kPatient}, {"cid", kCid1}, {"contentHash", kHash1}});
  common::Block block;
  ASSERT_TRUE(block.ParseFromString(ledger_->GetBlock(created.block_number).value()));
  // As a peer would mark it after an MVCC conflict.
  (*block.mutable_metadata()->mutable_metadata(common::TRANSACTIONS_FILTER))[0] = 11;
  auto ev = EventsFromBlock(block.SerializeAsString(), "records");
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->leaves.empty());
  // Another chaincode's events are not the log's.
  EXPECT_TRUE(EventsFromBlock(ledger_->GetBlock(created.block_number).value(), "other")->leaves.empty());
}

TEST_F(BlockLeavesTest, MalformedBlocksAreRefused) {
  EXPECT_EQ(EventsFromBlock("not a block", "records").error().code, "block_malformed");
  Submit(*admin_, "RegisterPatient", {{"patientRef", kPatient}});
  common::Block block;
  ASSERT_TRUE(block.ParseFromString(ledger_->GetBlock(0).value()));
  block.mutable_metadata()->mutable_metadata(common::TRANSACTIONS_FILTER)->clear();
  EXPECT_EQ(EventsFromBlock(block.SerializeAsString(), "records").error().code, "block_malformed");
}

}  // namespace
}  // namespace medledger::reportlog
