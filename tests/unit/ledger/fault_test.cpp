// Disk faults under the pipeline: a failed fsync is never acknowledged, the ledger stops committing
// rather than fork from what is on disk, and a reopen recovers everything acknowledged before.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/fault_env.h"
#include "ledger/embedded/verifier.h"
#include "test_support.h"

namespace medledger::ledger {
namespace {

TEST(LedgerFaults, FailedFsyncIsNotAcknowledgedAndReopenRecovers) {
  testing::LedgerFixture fx;
  std::string dir = testing::TempDir("fault");
  io::FaultInjectionEnv env;
  std::string acked_tx;
  {
    auto o = fx.Options(dir);
    o.env = &env;
    auto ledger = embedded::EmbeddedLedger::Open(std::move(o)).value();
    auto ok = ledger->Submit(*fx.alice, {"put", {"before", "1"}});
    ASSERT_TRUE(ok.ok()) << ok.error().ToString();
    acked_tx = ok->tx_id;

    env.SetSyncFailure(true);
    auto failed = ledger->Submit(*fx.alice, {"put", {"during", "2"}});
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().kind, ErrorKind::kIoError) << failed.error().ToString();
    env.ClearFaults();
    // The store refuses further appends after a failed fsync; so does the ledger.
    auto after = ledger->Submit(*fx.alice, {"put", {"after", "3"}});
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(after.error().kind, ErrorKind::kIoError);
    EXPECT_EQ(ledger->GetChainInfo()->height, 1u);
  }
  auto o = fx.Options(dir);
  auto ledger = embedded::EmbeddedLedger::Open(std::move(o)).value();
  EXPECT_EQ(ledger->GetTransactionProof(acked_tx)->validation_code, "VALID");
  EXPECT_EQ(*ledger->Evaluate(*fx.alice, {"get", {"before"}}), "1");
  auto next = ledger->Submit(*fx.alice, {"put", {"after", "3"}});
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  embedded::VerifyOptions vo;
  vo.chaincode = "kv";
  auto report = ledger->Verify(vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  ledger.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medledger::ledger
