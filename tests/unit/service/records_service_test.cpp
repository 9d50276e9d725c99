// RecordsService on in-memory fakes: the real contract runs on FakeStub behind a Ledger that commits
// synchronously, the content store is a map keyed by the CID IPFS would compute, and the clock is fixed. The
// service's own rules are checked here without a server process, a block store or a network: who may submit,
// what a failed submission leaves behind, what a read records, and which time the service uses.
#include "service/records_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "content/cid.h"
#include "content/keystore.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "fake_stub.h"
#include "identity/organization.h"
#include "ledger/wire/protoutil.h"
#include "service/idempotency_store.h"
#include "service/patient_directory.h"
#include "temp_dir.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
using identity::Role;

constexpr uint64_t kRawCodec = 0x55;

// Blocks by the CID of their bytes (CIDv1, raw, sha2-256: what `ipfs add --raw-leaves` gives a small file).
class MemoryContentStore final : public content::ContentStore {
 public:
  Result<std::string> Add(std::string_view bytes, const content::AddOptions&) override {
    std::string cid = content::Cid::Of(1, kRawCodec, bytes).ToString();
    blocks_[cid] = std::string(bytes);
    return cid;
  }
  Result<std::string> Cat(std::string_view cid) override {
    auto it = blocks_.find(std::string(cid));
    if (it == blocks_.end()) return MakeError(ErrorKind::kNotFound, "not_found", "no such block");
    return it->second;
  }
  Status Pin(std::string_view) override { return OkStatus(); }
  Status Unpin(std::string_view) override { return OkStatus(); }
  Result<bool> Has(std::string_view cid) override { return blocks_.count(std::string(cid)) > 0; }

  size_t size() const { return blocks_.size(); }

 private:
  std::map<std::string, std::string> blocks_;
};

// The contract on an in-memory stub, one block per submitted transaction. The creator is the caller's MSP and
// certificate, as a peer would take them from the signed proposal.
class ContractLedger final : public ledger::Ledger {
 public:
  explicit ContractLedger(std::function<Timestamp()> clock)
      : clock_(std::move(clock)), contract_(contract::NewRecordsContract()) {}

  Result<std::string> Evaluate(const identity::SigningIdentity& caller, const ledger::Invocation& call) override {
    ML_ASSIGN_OR_RETURN(auto r, Run(caller, call, false));
    return r.payload;
  }
  void SubmitAsync(const identity::SigningIdentity& caller, ledger::Invocation call, SubmitCallback done) override {
    if (!fail_next_submit_.empty()) {
      std::string code = std::move(fail_next_submit_);
      fail_next_submit_.clear();
      done(ledger::wire::ContractError(500, code + ": injected by the test"));
      return;
    }
    done(Run(caller, call, true));
  }
  Result<ledger::ChainInfo> GetChainInfo() override { return ledger::ChainInfo{height_, "", ""}; }
  Result<std::string> GetBlock(uint64_t) override {
    return MakeError(ErrorKind::kNotFound, "block_not_found", "this fake keeps no blocks");
  }
  Result<ledger::TransactionProof> GetTransactionProof(const std::string& tx_id) override {
    return MakeError(ErrorKind::kNotFound, "tx_not_found", tx_id);
  }
  Result<ledger::TxBlock> GetTransactionBlock(const std::string& tx_id) override {
    auto it = blocks_.find(tx_id);
    if (it == blocks_.end()) return MakeError(ErrorKind::kNotFound, "tx_not_found", tx_id);
    return ledger::TxBlock{it->second, std::string(64, '0')};
  }

  void FailNextSubmit(std::string code) { fail_next_submit_ = std::move(code); }
  const std::vector<std::string>& submitted() const { return submitted_; }  // function names, in order

 private:
  Result<ledger::TxReceipt> Run(const identity::SigningIdentity& caller, const ledger::Invocation& call, bool commit) {
    std::string tx_id = HexEncode(crypto::Sha256(std::to_string(++tx_counter_)));
    Timestamp ts = clock_();
    stub_.Begin(contract::Creator{caller.msp_id(), caller.cert_pem()}, tx_id, ts);
    contract::Response r = contract_->Invoke(stub_, call.function, call.args);
    if (r.status >= 400) return ledger::wire::ContractError(r.status, r.message);
    if (commit) {
      stub_.Commit();
      blocks_[tx_id] = height_++;
      submitted_.push_back(call.function);
    }
    return ledger::TxReceipt{tx_id, commit ? height_ - 1 : 0, std::string(64, '0'), ts, r.payload};
  }

  std::function<Timestamp()> clock_;
  std::unique_ptr<contract::Contract> contract_;
  contract::testing::FakeStub stub_;
  std::map<std::string, uint64_t> blocks_;
  std::vector<std::string> submitted_;
  std::string fail_next_submit_;
  uint64_t height_ = 1;
  uint64_t tx_counter_ = 0;
};

class RecordsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path dir = dir_.path();
    identity::CreateOrganizationOptions create;
    create.password_cost = identity::PasswordCost::Minimal();
    auto org = identity::Organization::Create(dir / "org", "Fake Hospital", create);
    ASSERT_TRUE(org.ok()) << org.error().ToString();
    org_ = std::move(*org);
    for (auto [name, role] :
         {std::pair{"dr.a", Role::kDoctor}, std::pair{"dr.b", Role::kDoctor}, std::pair{"registrar", Role::kAdmin},
          std::pair{"auditor", Role::kAuditor}, std::pair{"pat", Role::kPatient}}) {
      ASSERT_TRUE(org_->AddUser({name, role, name, {}}).ok()) << name;
    }
    auto sealing = org_->master_key().Derive("records service test keystore", "keystore");
    ASSERT_TRUE(sealing.ok());
    auto keys = content::FileKeystore::Open(dir / "keys", *sealing);
    ASSERT_TRUE(keys.ok()) << keys.error().ToString();
    keystore_ = std::move(*keys);
    vault_ = std::make_unique<content::ReportVault>(content_, *keystore_);
    auto patients = PatientDirectory::Open(dir / "patients", org_->master_key());
    ASSERT_TRUE(patients.ok()) << patients.error().ToString();
    patients_ = std::move(*patients);
    auto idem = IdempotencyStore::Open(dir / "idempotency");
    ASSERT_TRUE(idem.ok());
    idempotency_ = std::move(*idem);
    auto sealer = BookmarkSealer::Create(org_->master_key());
    ASSERT_TRUE(sealer.ok());
    sealer_ = std::make_unique<BookmarkSealer>(std::move(*sealer));

    ServiceParts parts;
    parts.ledger = &ledger_;
    parts.content = &content_;
    parts.org = org_.get();
    parts.patients = patients_.get();
    parts.vault = vault_.get();
    parts.keystore = keystore_.get();
    parts.idempotency = idempotency_.get();
    parts.bookmarks = sealer_.get();
    parts.clock = [this] { return now_; };
    svc_ = std::make_unique<RecordsService>(std::move(parts));

    std::vector<FieldIssue> issues;
    auto p = svc_->RegisterPatient(Admin(), {"MRN-1", "Ada Patient", "1980-04-01", "pat"}, &issues);
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    patient_id_ = p->patient_id;
  }

  static Principal As(const char* name, Role role) { return Principal{name, role, name}; }
  static Principal Admin() { return As("registrar", Role::kAdmin); }
  static Principal Doctor(const char* name = "dr.a") { return As(name, Role::kDoctor); }
  Principal Patient() const {
    Principal p = As("pat", Role::kPatient);
    p.patient_id = patient_id_;
    return p;
  }
  ReportInput Report(std::string content = "Stable angina; start aspirin.") const {
    return ReportInput{patient_id_, "Cardiology consult", "I20.8", std::move(content), {}};
  }

  testing::TempDir dir_;
  Timestamp now_ = Timestamp::FromRfc3339("2026-03-01T09:30:00Z").value();
  ContractLedger ledger_{[this] { return now_; }};
  MemoryContentStore content_;
  std::unique_ptr<identity::Organization> org_;
  std::unique_ptr<content::FileKeystore> keystore_;
  std::unique_ptr<content::ReportVault> vault_;
  std::unique_ptr<PatientDirectory> patients_;
  std::unique_ptr<IdempotencyStore> idempotency_;
  std::unique_ptr<BookmarkSealer> sealer_;
  std::unique_ptr<RecordsService> svc_;
  std::string patient_id_;
};

TEST_F(RecordsServiceTest, SubmittedReportReadsBackAndItsCidNamesTheStoredEnvelope) {
  auto receipt = svc_->SubmitReport(Doctor(), Report(), "", "", nullptr);
  ASSERT_TRUE(receipt.ok()) << receipt.error().ToString();
  EXPECT_EQ(receipt->version, 1u);
  EXPECT_EQ(ledger_.submitted().back(), "CreateReport");

  auto read = svc_->ReadReport(Patient(), receipt->report_id, "");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(content::Cid::Of(1, kRawCodec, read->envelope).ToString(), receipt->cid);
  EXPECT_EQ(HexEncode(crypto::Sha256(read->document)), receipt->content_hash);
  json doc = json::parse(read->document);
  EXPECT_EQ(doc["content"], "Stable angina; start aspirin.");
  EXPECT_EQ(doc["author"], "dr.a");
  // The stored plaintext never reaches the content store: only the sealed envelope does.
  EXPECT_EQ(read->envelope.find("Stable angina"), std::string::npos);
}

TEST_F(RecordsServiceTest, OnlyDoctorsSubmitAndARefusalTouchesNoStore) {
  const size_t blocks = content_.size();
  const size_t txs = ledger_.submitted().size();
  for (const Principal& who : {Admin(), As("auditor", Role::kAuditor), Patient()}) {
    EXPECT_EQ(RecordsService::MayPerform(who, RecordsService::Action::kSubmitReport).error().kind,
              ErrorKind::kPermissionDenied);
    auto r = svc_->SubmitReport(who, Report(), "", "", nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied) << who.username;
  }
  EXPECT_TRUE(RecordsService::MayPerform(Doctor(), RecordsService::Action::kSubmitReport).ok());
  EXPECT_EQ(content_.size(), blocks);
  EXPECT_EQ(ledger_.submitted().size(), txs);
}

TEST_F(RecordsServiceTest, InvalidReportIsRefusedWithItsFieldsAndNothingIsStored) {
  const size_t blocks = content_.size();
  ReportInput bad = Report("");
  bad.title = std::string(201, 't');
  std::vector<FieldIssue> issues;
  auto r = svc_->SubmitReport(Doctor(), bad, "", "", &issues);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "validation_failed");
  std::set<std::string> fields;
  for (const auto& i : issues) fields.insert(i.field);
  EXPECT_TRUE(fields.count("title"));
  EXPECT_TRUE(fields.count("content"));
  EXPECT_EQ(content_.size(), blocks);
}

TEST_F(RecordsServiceTest, ALedgerRefusalLeavesTheSealedEnvelopeUnreadable) {
  ledger_.FailNextSubmit("endorsement_failed");
  auto r = svc_->SubmitReport(Doctor(), Report(), "", "", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "endorsement_failed");
  // The envelope reached the content store before the transaction; with nothing on the ledger naming it, its
  // data key is destroyed, so the orphan cannot be opened by anyone.
  ASSERT_EQ(content_.size(), 1u);
  EXPECT_TRUE(std::find(ledger_.submitted().begin(), ledger_.submitted().end(), "CreateReport") ==
              ledger_.submitted().end());
}

TEST_F(RecordsServiceTest, IdempotencyKeyReplaysTheFirstReceiptAndRefusesAnotherBody) {
  auto first = svc_->SubmitReport(Doctor(), Report(), "key-1", "hash-a", nullptr);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  auto again = svc_->SubmitReport(Doctor(), Report(), "key-1", "hash-a", nullptr);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->report_id, first->report_id);
  EXPECT_EQ(again->tx_id, first->tx_id);
  auto other = svc_->SubmitReport(Doctor(), Report("other"), "key-1", "hash-b", nullptr);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "idempotency_key_reused");
  EXPECT_EQ(std::count(ledger_.submitted().begin(), ledger_.submitted().end(), "CreateReport"), 1);
}

TEST_F(RecordsServiceTest, TheServiceClockDatesTheDocumentAndDecidesConsentExpiry) {
  auto receipt = svc_->SubmitReport(Doctor(), Report(), "", "", nullptr);
  ASSERT_TRUE(receipt.ok());
  auto read = svc_->ReadReport(Patient(), receipt->report_id, "");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(json::parse(read->document)["createdAt"], "2026-03-01T09:30:00.000Z");

  // One second before the service's now is the past, whatever the machine's clock says.
  auto past = svc_->GrantConsent(Patient(), patient_id_, "dr.b", "treatment", "", "2026-03-01T09:29:59Z");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, "invalid_expiry");
  auto future = svc_->GrantConsent(Patient(), patient_id_, "dr.b", "treatment", "", "2026-03-02T09:30:00Z");
  EXPECT_TRUE(future.ok()) << future.error().ToString();
}

TEST_F(RecordsServiceTest, AReadIsRecordedInThePatientsAccessLogAndOnlyTheAuthorAmends) {
  auto receipt = svc_->SubmitReport(Doctor(), Report(), "", "", nullptr);
  ASSERT_TRUE(receipt.ok());
  ASSERT_TRUE(svc_->ReadReport(Doctor(), receipt->report_id, "treatment").ok());
  auto log = svc_->AccessLog(Patient(), patient_id_, 50, "");
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  bool seen = false;
  const json entries = json::parse(*log);  // named: a range-for over a temporary's member would dangle
  for (const auto& item : entries["items"]) {
    seen = seen || (item.value("reportId", "") == receipt->report_id && item.dump().find("dr.a") != std::string::npos);
  }
  EXPECT_TRUE(seen) << *log;

  AmendInput amend{std::nullopt, std::nullopt, "Corrected dose.", "dose"};
  auto by_other = svc_->AmendReport(Doctor("dr.b"), receipt->report_id, amend, nullptr);
  ASSERT_FALSE(by_other.ok());
  EXPECT_EQ(by_other.error().kind, ErrorKind::kPermissionDenied);
  auto by_author = svc_->AmendReport(Doctor(), receipt->report_id, amend, nullptr);
  ASSERT_TRUE(by_author.ok()) << by_author.error().ToString();
  EXPECT_EQ(by_author->version, 2u);
}

}  // namespace
}  // namespace medledger::service
