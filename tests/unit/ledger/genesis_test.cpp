// A new organisation's chain starts with a genesis (configuration) block, as a Fabric channel does: `init`
// creates it, `verify` passes right after `init` (it used to fail with ledger_not_found), transactions chain
// after it, and a genesis block that is not the orderer's config transaction fails verification.
#include "ledger/embedded/genesis.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "identity/organization.h"
#include "io/env.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/membership.h"
#include "ledger/storage/block_store.h"
#include "test_support.h"

namespace medledger::ledger {
namespace {

using embedded::EmbeddedLedger;

class GenesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("genesis");
    std::filesystem::remove_all(dir_);
    org_ = identity::Organization::Create(dir_, "Org1").value();
    ASSERT_TRUE(org_->AddUser({"alice", identity::Role::kDoctor, "", std::nullopt}).ok());
    options_.chaincode = "kv";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  embedded::VerifyReport Verify() {
    auto r = embedded::VerifyDataDir(dir_, options_);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : embedded::VerifyReport{};
  }

  std::string dir_;
  std::unique_ptr<identity::Organization> org_;
  embedded::VerifyOptions options_;
};

TEST_F(GenesisTest, VerifyPassesRightAfterInit) {
  EXPECT_EQ(embedded::VerifyDataDir(dir_, options_).error().code, "ledger_not_found");  // before: no ledger
  ASSERT_TRUE(embedded::CreateLedgerFor(*org_).ok());
  auto report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.blocks, 1u);
  EXPECT_EQ(report.config_blocks, 1u);
  EXPECT_EQ(report.txs_valid + report.txs_invalid, 0u);
  ASSERT_TRUE(embedded::CreateLedgerFor(*org_).ok());  // idempotent: the chain is not restarted
  EXPECT_EQ(Verify().blocks, 1u);
}

TEST_F(GenesisTest, TransactionsChainAfterTheGenesisBlockAndVerify) {
  ASSERT_TRUE(embedded::CreateLedgerFor(*org_).ok());
  std::string genesis_hash;
  {
    auto o = embedded::OptionsForOrganization(*org_, std::make_shared<testing::KvContract>());
    o.chaincode = "kv";
    o.genesis_block = true;
    o.batch.timeout_ms = 1;
    auto ledger = EmbeddedLedger::Open(std::move(o)).value();
    auto info = ledger->GetChainInfo().value();
    EXPECT_EQ(info.height, 1u);
    genesis_hash = info.current_hash;
    auto receipt = ledger->Submit(org_->LoadIdentity("alice").value(), Invocation{"put", {"k", "v"}});
    ASSERT_TRUE(receipt.ok()) << receipt.error().ToString();
    EXPECT_EQ(receipt->block_number, 1u);
    EXPECT_EQ(ledger->GetChainInfo()->previous_hash, genesis_hash);
  }
  auto report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.blocks, 2u);
  EXPECT_EQ(report.txs_valid, 1u);
  EXPECT_EQ(report.state_keys, 1u);
}

TEST_F(GenesisTest, AnEmptyLedgerOpenedByAProgramGetsItsGenesisBlock) {
  auto o = embedded::OptionsForOrganization(*org_, std::make_shared<testing::KvContract>());
  o.chaincode = "kv";
  o.genesis_block = true;
  {
    auto ledger = EmbeddedLedger::Open(std::move(o)).value();
    EXPECT_EQ(ledger->GetChainInfo()->height, 1u);
  }
  auto report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.config_blocks, 1u);
}

// Block 0 written by someone other than the orderer, or for another channel, is not a genesis block.
TEST_F(GenesisTest, AGenesisBlockThatIsNotTheOrderersConfigFailsVerification) {
  embedded::Membership membership(org_->msp_id(), org_->ca_certificate(), org_->peer().certificate(),
                                  org_->orderer().certificate());
  std::string ca = org_->ca_certificate().ToDer();
  auto good =
      embedded::DecodeBlock(embedded::BuildGenesisBlock(org_->orderer(), "medledger", org_->msp_id(), ca).value());
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(embedded::IsConfigEnvelope(good->envelopes.at(0)));
  EXPECT_EQ(embedded::CheckConfigEnvelope(good->envelopes[0], "medledger", membership), "");
  EXPECT_NE(embedded::CheckConfigEnvelope(good->envelopes[0], "other-channel", membership), "");
  auto by_peer =
      embedded::DecodeBlock(embedded::BuildGenesisBlock(org_->peer(), "medledger", org_->msp_id(), ca).value());
  EXPECT_EQ(embedded::CheckConfigEnvelope(by_peer->envelopes.at(0), "medledger", membership),
            "config transaction not created by the orderer");
  auto other_org =
      embedded::DecodeBlock(embedded::BuildGenesisBlock(org_->orderer(), "medledger", "OtherMSP", ca).value());
  EXPECT_NE(embedded::CheckConfigEnvelope(other_org->envelopes.at(0), "medledger", membership), "");

  // Written as block 0 of the data directory, a genesis block of another channel fails verify at block 0.
  std::string ledger_dir = embedded::LedgerDirFor(dir_);
  ASSERT_TRUE(io::Env::Default()->CreateDirs(ledger_dir).ok());
  {
    auto blocks = storage::BlockStore::Open(ledger_dir + "/blocks").value();
    ASSERT_TRUE(
        blocks->Append(0, embedded::BuildGenesisBlock(org_->orderer(), "other-channel", org_->msp_id(), ca).value())
            .ok());
  }
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 0u);
  EXPECT_NE(report.problem.find("genesis block"), std::string::npos) << report.problem;
}

}  // namespace
}  // namespace medledger::ledger
