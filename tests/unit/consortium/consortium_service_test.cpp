// The key holder's side of service::ConsortiumService on real transactions: the records contract runs on the
// embedded ledger (one organisation, Org1MSP, whose doctor reads under a patient's consent), and the holder is
// configured as another member (HoldMSP) that receives the read's key request from Org1MSP's server. Only
// RecordKeyRelease is answered by a stand-in for the consortium's contract (the embedded channel has one
// organisation, so the contract itself would refuse a release to it; tests/unit/contract covers that function).
// The live two-hospital version of this is tests/integration/consortium_servers_test.cpp (FABRIC_BIN).
#include "service/consortium_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "../ledger/test_support.h"
#include "common/encoding.h"
#include "consortium/key_release.h"
#include "content/car.h"
#include "content/embedded_store.h"
#include "content/keystore.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "crypto/hpke.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
using ledger::testing::LedgerFixture;

const std::string kPatient = std::string(64, 'b');

// The embedded ledger for everything but RecordKeyRelease, which it answers as the consortium's contract would for
// uniqueness (one release per read) and records in order.
class ConsortiumLedger final : public ledger::Ledger {
 public:
  explicit ConsortiumLedger(ledger::Ledger& inner) : inner_(inner) {}
  Result<std::string> Evaluate(const identity::SigningIdentity& caller, const ledger::Invocation& call) override {
    return inner_.Evaluate(caller, call);
  }
  void SubmitAsync(const identity::SigningIdentity& caller, ledger::Invocation call, SubmitCallback done) override {
    if (call.function != "RecordKeyRelease") return inner_.SubmitAsync(caller, std::move(call), std::move(done));
    json arg = json::parse(call.args.at(0));
    std::unique_lock lock(mu_);
    records_.push_back(arg);
    if (arg["outcome"] == "released" && !released_.insert(arg["accessTxId"].get<std::string>()).second) {
      lock.unlock();
      return done(MakeError(ErrorKind::kAlreadyExists, "key_already_released", "a key was released for this read"));
    }
    ledger::TxReceipt receipt;
    receipt.tx_id = HexEncode(crypto::RandomBytes(32));
    lock.unlock();
    done(receipt);
  }
  Result<ledger::ChainInfo> GetChainInfo() override { return inner_.GetChainInfo(); }
  Result<std::string> GetBlock(uint64_t n) override { return inner_.GetBlock(n); }
  Result<ledger::TransactionProof> GetTransactionProof(const std::string& tx_id) override {
    return inner_.GetTransactionProof(tx_id);
  }
  std::vector<json> records() {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  ledger::Ledger& inner_;
  std::mutex mu_;
  std::vector<json> records_;
  std::set<std::string> released_;
};

crypto::Certificate SelfSignedCa(const crypto::EcPrivateKey& key, const std::string& name) {
  crypto::CertificateRequest req;
  req.common_name = name;
  req.organization = name;
  req.is_ca = true;
  return crypto::IssueCertificate(req, key.PublicKey(), key, nullptr).value();
}

struct TlsCa {
  crypto::EcPrivateKey key = crypto::EcPrivateKey::Generate().value();
  crypto::Certificate cert;
  explicit TlsCa(const std::string& name) : cert(SelfSignedCa(key, name)) {}
  std::string Leaf(const std::string& cn) const {
    auto leaf_key = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest req;
    req.common_name = cn;
    req.organization = cert.SubjectCommonName();
    // As the TLS handshake verified it: leaf first, up to the CA.
    return crypto::IssueCertificate(req, leaf_key.PublicKey(), key, &cert).value().ToPem() + cert.ToPem();
  }
};

class ConsortiumServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ledger::testing::TempDir("consortium_service");
    auto options = fx_.Options(dir_ + "/ledger");
    options.chaincode = "records";
    options.contract = contract::NewRecordsContract();
    embedded_ = ledger::embedded::EmbeddedLedger::Open(options).value();
    ledger_ = std::make_unique<ConsortiumLedger>(*embedded_);
    content::EmbeddedStoreOptions so;
    so.sync = false;
    store_ = content::EmbeddedStore::Open(dir_ + "/content", so).value();
    vault_ = std::make_unique<content::ReportVault>(*store_, keys_);
    stored_ = vault_->Put("r1", kPatient, "Holter: paroxysmal AF, 3 episodes").value();

    Submit(*admin_, "RegisterPatient", {{"patientRef", kPatient}, {"login", "bob"}});
    Submit(*fx_.alice, "CreateReport",
           {{"reportId", "r1"}, {"patientRef", kPatient}, {"cid", stored_.cid}, {"contentHash", stored_.content_hash}});
    Submit(*fx_.bob, "GrantAccess",
           {{"patientRef", kPatient},
            {"doctor", "carol"},
            {"purpose", "treatment"},
            {"expiresAt", Timestamp{Timestamp::Now().seconds + 3600, 0}.ToRfc3339()}});
    read_tx_ = Submit(*carol_, "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}}).tx_id;

    config_.self = "HoldMSP";
    config_.replication_factor = 1;
    config_.members.push_back({"HoldMSP", "Holder", "", "https://127.0.0.1:1", {hold_ca_.cert}});
    config_.members.push_back({"Org1MSP", "Reader", "", "https://127.0.0.1:2", {reader_ca_.cert}});
    ConsortiumParts parts;
    parts.ledger = ledger_.get();
    parts.content = store_.get();
    parts.vault = vault_.get();
    parts.config = &config_;
    parts.service_identity = [this]() -> Result<identity::SigningIdentity> { return *service_; };
    parts.http = [](const net::HttpCall&) -> Result<net::HttpReply> {
      return MakeError(ErrorKind::kUnavailable, "http_unavailable", "no network in this test");
    };
    holder_ = std::make_unique<ConsortiumService>(std::move(parts));
  }
  void TearDown() override {
    holder_.reset();
    ledger_.reset();
    embedded_.reset();
    std::filesystem::remove_all(dir_);
  }
  ledger::TxReceipt Submit(const identity::SigningIdentity& who, const std::string& fn, const json& arg) {
    auto r = embedded_->Submit(who, {fn, {arg.dump()}});
    EXPECT_TRUE(r.ok()) << fn << ": " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? *r : ledger::TxReceipt{};
  }
  consortium::ReleaseRequest Request(const std::string& tx) { return {tx, "r1", 1, ephemeral_.public_key().bytes()}; }
  // The refusals recorded so far, by reason (they are submitted without waiting).
  std::multiset<std::string> Refusals(size_t at_least) {
    std::multiset<std::string> out;
    for (int i = 0; i < 200; ++i) {
      out.clear();
      for (const auto& r : ledger_->records()) {
        if (r["outcome"] == "refused") out.insert(r["reason"].get<std::string>());
      }
      if (out.size() >= at_least) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }

  LedgerFixture fx_;
  std::shared_ptr<identity::SigningIdentity> admin_ = fx_.org.Issue("admin1", "admin", "admin");
  std::shared_ptr<identity::SigningIdentity> carol_ = fx_.org.Issue("carol", "client", "doctor");
  std::shared_ptr<identity::SigningIdentity> service_ = fx_.org.Issue("medledger-log", "client", "service");
  std::string dir_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> embedded_;
  std::unique_ptr<ConsortiumLedger> ledger_;
  content::MemoryKeystore keys_;
  std::unique_ptr<content::EmbeddedStore> store_;
  std::unique_ptr<content::ReportVault> vault_;
  content::StoredReport stored_;
  std::string read_tx_;
  TlsCa hold_ca_{"tlsca.hold"}, reader_ca_{"tlsca.reader"}, stranger_ca_{"tlsca.stranger"};
  consortium::ConsortiumConfig config_;
  crypto::hpke::PrivateKey ephemeral_ = crypto::hpke::PrivateKey::Generate().value();
  std::unique_ptr<ConsortiumService> holder_;
};

TEST_F(ConsortiumServiceTest, AConsentedReadGetsItsKeyAfterTheReleaseIsRecorded) {
  const std::string reader_chain = reader_ca_.Leaf("server.reader");
  auto request = Request(read_tx_);
  auto answer = holder_->ReleaseKey(reader_chain, consortium::SerializeReleaseRequest(request));
  ASSERT_TRUE(answer.ok()) << answer.error().ToString();
  auto response = consortium::ParseReleaseResponse(*answer).value();
  EXPECT_EQ(response.key_id, stored_.key_id);
  // The release on the ledger names the read and the recipient, and its transaction is what the key is bound to.
  auto records = ledger_->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["outcome"], "released");
  EXPECT_EQ(records[0]["accessTxId"], read_tx_);
  EXPECT_EQ(records[0]["recipientMsp"], "Org1MSP");
  auto key = consortium::OpenDataKey(ephemeral_, request, response);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto opened =
      content::ReportVault::OpenReleased(store_->Cat(stored_.cid).value(), *key, "r1", kPatient, stored_.content_hash);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(*opened, "Holter: paroxysmal AF, 3 episodes");
  EXPECT_EQ(holder_->releases(), 1u);

  // The same read again is a replay: refused, and the refusal recorded.
  auto replay = holder_->ReleaseKey(reader_chain, consortium::SerializeReleaseRequest(Request(read_tx_)));
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, "key_already_released");
  EXPECT_EQ(Refusals(1).count("key_already_released"), 1u);
}

TEST_F(ConsortiumServiceTest, RefusesStrangersUnknownReadsAndOtherOrganisationsReads) {
  // A client certificate from no member's CA, and the holder's own: refused before anything is read.
  auto stranger = holder_->ReleaseKey(stranger_ca_.Leaf("x"), consortium::SerializeReleaseRequest(Request(read_tx_)));
  EXPECT_EQ(stranger.error().code, "not_a_member");
  auto self = holder_->ReleaseKey(hold_ca_.Leaf("x"), consortium::SerializeReleaseRequest(Request(read_tx_)));
  EXPECT_EQ(self.error().code, "not_a_member");
  EXPECT_TRUE(ledger_->records().empty());  // a stranger cannot make the holder write to the ledger

  const std::string reader_chain = reader_ca_.Leaf("server.reader");
  auto unknown = holder_->ReleaseKey(reader_chain, consortium::SerializeReleaseRequest(Request(std::string(64, 'c'))));
  EXPECT_EQ(unknown.error().code, "access_tx_not_found");
  // The author's own read rests on authorship, which releases nothing to anyone.
  auto own = Submit(*fx_.alice, "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  auto authors = holder_->ReleaseKey(reader_chain, consortium::SerializeReleaseRequest(Request(own.tx_id)));
  EXPECT_EQ(authors.error().code, "no_consent");
  auto garbage = holder_->ReleaseKey(reader_chain, "{\"accessTxId\": 1}");
  EXPECT_FALSE(garbage.ok());
  auto refusals = Refusals(2);
  EXPECT_EQ(refusals.count("access_tx_not_found"), 1u);
  EXPECT_EQ(refusals.count("no_consent"), 1u);
  EXPECT_EQ(holder_->releases(), 0u);
}

TEST_F(ConsortiumServiceTest, ServesItsCiphertextAsAVerifiableCarToMembersOnly) {
  auto car = holder_->ServeCar(reader_ca_.Leaf("server.reader"), stored_.cid);
  ASSERT_TRUE(car.ok()) << car.error().ToString();
  auto cid = content::Cid::Parse(stored_.cid).value();
  EXPECT_EQ(content::FileFromCar(*car, cid).value(), store_->Cat(stored_.cid).value());
  EXPECT_EQ(holder_->ServeCar(stranger_ca_.Leaf("x"), stored_.cid).error().code, "not_a_member");
  EXPECT_EQ(holder_->ServeCar(reader_ca_.Leaf("y"), "not-a-cid").error().kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace medledger::service
