// The erasure steps shared by the API and the CLI, against a ledger that stands in for the contract: the ledger
// first (a refusal changes nothing), then the keys, then one journal line; and the start-up pass that repairs
// the crash window (erased on the ledger, keys still here) across ListErasures pages.
#include "service/erasure.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "crypto/x509.h"
#include "temp_dir.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

identity::SigningIdentity MakeAdmin() {
  auto key = crypto::EcPrivateKey::Generate().value();
  crypto::CertificateRequest req;
  req.common_name = "admin";
  req.organization = "Org1";
  req.attributes = {{"role", "admin"}};
  auto cert = crypto::IssueCertificate(req, key.PublicKey(), key, nullptr).value();
  return identity::SigningIdentity("Org1MSP", std::move(cert), std::move(key));
}

// EraseReport and ListErasures as the contract answers them, erasures kept in report ID order.
class ErasureLedger : public ledger::Ledger {
 public:
  Result<std::string> Evaluate(const identity::SigningIdentity&, const ledger::Invocation& call) override {
    ++evaluations;
    if (call.function != "ListErasures") return MakeError(ErrorKind::kInternal, "unexpected", call.function);
    json arg = json::parse(call.args.at(0));
    const size_t size = arg.value("pageSize", 20);
    const std::string from = arg.value("bookmark", "");
    json items = json::array();
    std::string bookmark;
    for (auto it = erased.lower_bound(from); it != erased.end(); ++it) {
      if (items.size() == size) {
        bookmark = it->first;
        break;
      }
      items.push_back(json::parse(it->second));
    }
    return json{{"bookmark", bookmark}, {"items", items}}.dump();
  }
  void SubmitAsync(const identity::SigningIdentity& who, ledger::Invocation call, SubmitCallback done) override {
    submissions.push_back(call.function);
    if (call.function != "EraseReport") return done(MakeError(ErrorKind::kInternal, "unexpected", call.function));
    json arg = json::parse(call.args.at(0));
    const std::string id = arg["reportId"];
    if (!reports.count(id)) return done(MakeError(ErrorKind::kNotFound, "report_not_found", "no report"));
    if (erased.count(id)) return done(MakeError(ErrorKind::kAlreadyExists, "already_erased", "erased before"));
    json rec = {{"reportId", id},
                {"reasonCode", arg["reasonCode"]},
                {"erasedBy", who.msp_id() + "/admin"},
                {"erasedByMsp", who.msp_id()},
                {"erasedAt", "2026-06-01T08:00:00.000Z"},
                {"txId", "tx-" + id}};
    erased[id] = rec.dump();
    ledger::TxReceipt receipt;
    receipt.tx_id = "tx-" + id;
    receipt.block_number = 7;
    receipt.payload = rec.dump();
    done(receipt);
  }
  Result<ledger::ChainInfo> GetChainInfo() override { return ledger::ChainInfo{}; }
  Result<std::string> GetBlock(uint64_t) override { return MakeError(ErrorKind::kNotFound, "block_not_found", ""); }
  Result<ledger::TransactionProof> GetTransactionProof(const std::string&) override {
    return MakeError(ErrorKind::kNotFound, "tx_not_found", "");
  }

  std::set<std::string> reports;
  std::map<std::string, std::string> erased;  // report ID -> record
  std::vector<std::string> submissions;
  int evaluations = 0;
};

class ErasureStepsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_.reports = {"r1", "r2", "r3"};
    ASSERT_TRUE(keys_.Store("r1", "k1", std::string(32, 'a')).ok());
    ASSERT_TRUE(keys_.Store("r1", "k2", std::string(32, 'b')).ok());
    ASSERT_TRUE(keys_.Store("r2", "k1", std::string(32, 'c')).ok());
  }
  std::vector<json> JournalLines() const {
    std::vector<json> out;
    std::ifstream in(journal_);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  size_t Keys(const std::string& id) { return keys_.KeyCount(id).value(); }

  testing::TempDir dir_;
  std::filesystem::path journal_ = std::filesystem::path(dir_.path()) / "erasures.jsonl";
  ErasureLedger ledger_;
  content::MemoryKeystore keys_;
  identity::SigningIdentity admin_ = MakeAdmin();
};

TEST_F(ErasureStepsTest, LedgerThenKeysThenOneJournalLine) {
  auto out = EraseReportSteps(ledger_, admin_, keys_, journal_, {"r1", "legal_order", "court order 12/2026"});
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->tx_id, "tx-r1");
  EXPECT_EQ(out->block_number, 7u);
  EXPECT_EQ(out->erased_at, "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(out->erased_by, "Org1MSP/admin");
  EXPECT_EQ(out->keys_destroyed, 2u);
  EXPECT_EQ(Keys("r1"), 0u);
  EXPECT_EQ(Keys("r2"), 1u) << "another report's key";
  EXPECT_EQ(ledger_.erased.count("r1"), 1u);
  json api = json::parse(out->ToJson());
  EXPECT_EQ(api["erasedBy"], "admin");
  EXPECT_EQ(api["erasedByMsp"], "Org1MSP");
  EXPECT_EQ(api["keysDestroyed"], 2);

  auto lines = JournalLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["reportId"], "r1");
  EXPECT_EQ(lines[0]["reasonCode"], "legal_order");
  EXPECT_EQ(lines[0]["note"], "court order 12/2026");
  EXPECT_EQ(lines[0]["txId"], "tx-r1");
  EXPECT_EQ(lines[0]["blockNumber"], 7);
  EXPECT_EQ(lines[0]["erasedAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(lines[0]["erasedBy"], "Org1MSP/admin");
  // The note went nowhere near the ledger.
  EXPECT_EQ(ledger_.erased["r1"].find("court"), std::string::npos);
}

TEST_F(ErasureStepsTest, ALedgerRefusalLeavesKeysAndJournalAlone) {
  auto unknown = EraseReportSteps(ledger_, admin_, keys_, journal_, {"r9", "patient_request", ""});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "report_not_found");
  ASSERT_TRUE(EraseReportSteps(ledger_, admin_, keys_, journal_, {"r2", "patient_request", ""}).ok());
  ASSERT_TRUE(keys_.Store("r2", "k9", std::string(32, 'd')).ok());  // as if restored from a backup
  auto again = EraseReportSteps(ledger_, admin_, keys_, journal_, {"r2", "entered_in_error", ""});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "already_erased");
  EXPECT_EQ(Keys("r2"), 1u) << "a refused erasure destroys nothing (the start-up pass does)";
  EXPECT_EQ(JournalLines().size(), 1u);
}

TEST_F(ErasureStepsTest, AReportWithoutKeysIsErasedAllTheSame) {
  auto out = EraseReportSteps(ledger_, admin_, keys_, journal_, {"r3", "retention_expired", ""});
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->keys_destroyed, 0u);
  EXPECT_EQ(JournalLines().size(), 1u);
}

TEST_F(ErasureStepsTest, ReasonAndNoteAreCheckedBeforeTheLedger) {
  auto code = [&](std::string reason, std::string note) {
    auto r = EraseReportSteps(ledger_, admin_, keys_, journal_, {"r1", std::move(reason), std::move(note)});
    return r.ok() ? std::string("ok") : r.error().code;
  };
  EXPECT_EQ(code("other", ""), "invalid_reason");
  EXPECT_EQ(code("", ""), "invalid_reason");
  EXPECT_EQ(code("Patient_Request", ""), "invalid_reason");
  EXPECT_EQ(code("patient_request", "\xff\xfe"), "invalid_note_utf8");
  std::string long_note;
  for (int i = 0; i < 1001; ++i) long_note += "\xc3\xa9";  // é: 1001 characters, 2002 bytes
  EXPECT_EQ(code("patient_request", long_note), "note_too_long");
  EXPECT_TRUE(ledger_.submissions.empty());
  EXPECT_EQ(Keys("r1"), 2u);
  long_note.resize(2000);  // exactly 1000 characters
  EXPECT_EQ(code("patient_request", long_note), "ok");
}

TEST_F(ErasureStepsTest, StartUpPassDestroysKeysOfEveryReportErasedOnTheLedger) {
  // The crash window, at scale: 250 erasures on the ledger (three ListErasures pages), and for some of them the
  // keys are still in the keystore because the process died between the ledger and the keys.
  for (int i = 0; i < 250; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "e%03d", i);
    ledger_.erased[id] = json{{"reportId", id}, {"reasonCode", "patient_request"}}.dump();
    if (i % 50 == 7) {
      ASSERT_TRUE(keys_.Store(id, "k1", std::string(32, 'x')).ok());
      ASSERT_TRUE(keys_.Store(id, "k2", std::string(32, 'y')).ok());
    }
  }
  ASSERT_TRUE(keys_.Store("e249", "k1", std::string(32, 'z')).ok());  // on the last page
  auto counts = ReapplyLedgerErasures(ledger_, admin_, keys_);
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(counts->erasures, 250u);
  EXPECT_EQ(counts->reports_shredded, 6u);
  EXPECT_EQ(counts->keys_destroyed, 11u);
  EXPECT_EQ(ledger_.evaluations, 3);
  for (const char* id : {"e007", "e057", "e207", "e249"}) EXPECT_EQ(Keys(id), 0u) << id;
  EXPECT_EQ(Keys("r1"), 2u) << "a report not erased keeps its keys";
  // Idempotent: the next start finds nothing left to do.
  auto again = ReapplyLedgerErasures(ledger_, admin_, keys_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reports_shredded, 0u);
}

}  // namespace
}  // namespace medledger::service
