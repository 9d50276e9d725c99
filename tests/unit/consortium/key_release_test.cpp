// The key release on real transactions: the records contract runs on the embedded ledger, and the parser and
// the checks read the envelopes the ledger committed, byte for byte as a peer's qscc would return them.
#include "consortium/key_release.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../ledger/test_support.h"
#include "common/encoding.h"
#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "pb/common/common.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::consortium {
namespace {

using json = nlohmann::json;
using ledger::testing::LedgerFixture;

const std::string kPatient = HexEncode(crypto::Sha256("patient"));
const std::string kOtherPatient = HexEncode(crypto::Sha256("other patient"));
const std::string kCid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
const std::string kHash = HexEncode(crypto::Sha256("v1"));

std::string WithBasis(const std::string& answer, const std::string& basis) {
  json j = json::parse(answer);
  j["basis"] = basis;
  return j.dump();
}

std::string Point() {
  return crypto::hpke::PrivateKey::Generate().value().public_key().bytes();
}

// ---- codecs ----

json RequestJson() {
  return {{"accessTxId", std::string(64, 'a')},
          {"reportId", "r1"},
          {"version", 1},
          {"recipientKey", Base64UrlEncode(Point())}};
}

std::string RequestCode(const json& j) {
  auto r = ParseReleaseRequest(j.dump());
  return r.ok() ? "ok" : r.error().code;
}

TEST(ReleaseRequestCodec, RoundTrips) {
  ReleaseRequest r{std::string(64, 'b'), "report-7", 3, Point()};
  auto back = ParseReleaseRequest(SerializeReleaseRequest(r));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->access_tx_id, r.access_tx_id);
  EXPECT_EQ(back->report_id, r.report_id);
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->recipient_key, r.recipient_key);
}

TEST(ReleaseRequestCodec, RefusesWithPreciseCodes) {
  auto with = [](auto edit) {
    json j = RequestJson();
    edit(j);
    return j;
  };
  EXPECT_EQ(RequestCode(RequestJson()), "ok");
  EXPECT_EQ(ParseReleaseRequest("not json").error().code, "malformed_json");
  EXPECT_EQ(ParseReleaseRequest("[]").error().code, "malformed_json");
  EXPECT_EQ(ParseReleaseRequest(R"({"reportId":"a","reportId":"b"})").error().code, "malformed_json");
  EXPECT_EQ(ParseReleaseRequest(std::string(kMaxRequestBytes + 1, ' ')).error().code, "body_too_large");
  EXPECT_EQ(RequestCode(with([](json& j) { j["doctor"] = "x"; })), "unknown_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j.erase("version"); })), "missing_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["accessTxId"] = std::string(64, 'A'); })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["accessTxId"] = std::string(63, 'a'); })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["reportId"] = "r/1"; })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["reportId"] = std::string(129, 'r'); })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["version"] = 0; })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["version"] = 1.0; })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["version"] = "1"; })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["version"] = 2147483648LL; })), "invalid_field");
  EXPECT_EQ(RequestCode(with([](json& j) { j["recipientKey"] = "not base64!"; })), "invalid_recipient_key");
  EXPECT_EQ(RequestCode(with([](json& j) { j["recipientKey"] = Base64Encode(Point()); })), "invalid_recipient_key");
  EXPECT_EQ(RequestCode(with([](json& j) { j["recipientKey"] = Base64UrlEncode(Point().substr(0, 33)); })),
            "invalid_recipient_key");
  std::string off_curve = Point();
  off_curve[64] ^= 1;
  EXPECT_EQ(RequestCode(with([&](json& j) { j["recipientKey"] = Base64UrlEncode(off_curve); })),
            "invalid_recipient_key");
}

TEST(ReleaseResponseCodec, RoundTripsAndRefuses) {
  ReleaseResponse r{std::string(64, 'c'), "k-1", std::string(65, '\x04'), std::string(48, 'x')};
  auto back = ParseReleaseResponse(SerializeReleaseResponse(r));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->release_tx_id, r.release_tx_id);
  EXPECT_EQ(back->key_id, "k-1");
  EXPECT_EQ(back->enc, r.enc);
  EXPECT_EQ(back->ciphertext, r.ciphertext);
  json j = json::parse(SerializeReleaseResponse(r));
  EXPECT_EQ(ParseReleaseResponse("<html>").error().code, "malformed_response");
  json extra = j;
  extra["key"] = "x";
  EXPECT_EQ(ParseReleaseResponse(extra.dump()).error().code, "unknown_field");
  json short_ct = j;
  short_ct["ciphertext"] = Base64UrlEncode(std::string(47, 'x'));
  EXPECT_EQ(ParseReleaseResponse(short_ct.dump()).error().code, "invalid_field");
  json no_enc = j;
  no_enc.erase("enc");
  EXPECT_EQ(ParseReleaseResponse(no_enc.dump()).error().code, "missing_field");
}

// ---- sealing ----

TEST(DataKeySealing, OpensOnlyForTheSameRequestAndRelease) {
  auto recipient = crypto::hpke::PrivateKey::Generate().value();
  ReleaseRequest req{std::string(64, 'a'), "r1", 2, recipient.public_key().bytes()};
  const std::string key(32, '\x42');
  const std::string release(64, 'e');
  EXPECT_EQ(ReleaseAad(req, release), std::string(64, 'a') + "\nr1\n2\n" + release);
  auto sealed = SealDataKey(key, req, release);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  ReleaseResponse resp{release, "k1", sealed->enc, sealed->ciphertext};
  EXPECT_EQ(OpenDataKey(recipient, req, resp).value(), key);
  // Any other binding fails: version, report, access, release transaction, recipient.
  ReleaseRequest other = req;
  other.version = 1;
  EXPECT_EQ(OpenDataKey(recipient, other, resp).error().code, "decrypt_failed");
  other = req;
  other.report_id = "r2";
  EXPECT_EQ(OpenDataKey(recipient, other, resp).error().code, "decrypt_failed");
  other = req;
  other.access_tx_id = std::string(64, 'b');
  EXPECT_EQ(OpenDataKey(recipient, other, resp).error().code, "decrypt_failed");
  ReleaseResponse moved = resp;
  moved.release_tx_id = std::string(64, 'f');
  EXPECT_EQ(OpenDataKey(recipient, req, moved).error().code, "decrypt_failed");
  auto stranger = crypto::hpke::PrivateKey::Generate().value();
  EXPECT_EQ(OpenDataKey(stranger, req, resp).error().code, "decrypt_failed");
  EXPECT_EQ(SealDataKey(std::string(16, 'k'), req, release).error().code, "bad_key_size");
}

// ---- real transactions ----

class KeyReleaseLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ledger::testing::TempDir("keyrelease");
    auto options = fx_.Options(dir_);
    options.chaincode = "records";
    options.contract = contract::NewRecordsContract();
    ledger_ = ledger::embedded::EmbeddedLedger::Open(options).value();
    Submit(*admin_, "RegisterPatient", {{"patientRef", kPatient}, {"login", "bob"}});
    Submit(*admin_, "RegisterPatient", {{"patientRef", kOtherPatient}});
    Submit(*fx_.alice, "CreateReport",
           {{"reportId", "r1"}, {"patientRef", kPatient}, {"cid", kCid}, {"contentHash", kHash}});
    Submit(*fx_.alice, "CreateReport",
           {{"reportId", "r2"}, {"patientRef", kOtherPatient}, {"cid", kCid}, {"contentHash", kHash}});
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
  // The committed envelope, as qscc GetTransactionByID would return it.
  std::string Envelope(const std::string& tx_id) {
    auto proof = ledger_->GetTransactionProof(tx_id);
    EXPECT_TRUE(proof.ok());
    EXPECT_EQ(proof->validation_code, "VALID");
    return proof->envelope;
  }
  // carol's consent from bob, and carol's read of r1.
  ledger::TxReceipt GrantAndRead() {
    auto grant = Submit(*bob_, "GrantAccess",
                        {{"patientRef", kPatient},
                         {"doctor", "carol"},
                         {"purpose", "treatment"},
                         {"expiresAt", Timestamp{Timestamp::Now().seconds + 3600, 0}.ToRfc3339()}});
    json consent = json::parse(grant.payload);
    consent_ =
        ConsentFact{kPatient, "Org1MSP/carol", Timestamp::FromRfc3339(consent["grantedAt"].get<std::string>()).value(),
                    Timestamp::FromRfc3339(consent["expiresAt"].get<std::string>()).value(), std::nullopt};
    return Submit(*carol_, "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  }
  ReleaseRequest RequestFor(const std::string& tx_id, const std::string& report = "r1", int64_t version = 1) {
    return ReleaseRequest{tx_id, report, version, Point()};
  }

  LedgerFixture fx_;
  std::shared_ptr<identity::SigningIdentity> admin_ = fx_.org.Issue("admin1", "admin", "admin");
  std::shared_ptr<identity::SigningIdentity> bob_ = fx_.bob;  // patient
  std::shared_ptr<identity::SigningIdentity> carol_ = fx_.org.Issue("carol", "client", "doctor");
  std::string dir_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;
  ConsentFact consent_;
};

TEST_F(KeyReleaseLedgerTest, ParsesACommittedRecordAccess) {
  auto read = GrantAndRead();
  auto tx = ParseAccessTransaction(Envelope(read.tx_id), 0);
  ASSERT_TRUE(tx.ok()) << tx.error().ToString();
  EXPECT_EQ(tx->tx_id, read.tx_id);
  EXPECT_FALSE(tx->channel.empty());
  EXPECT_EQ(tx->header_type, 3);
  EXPECT_EQ(tx->timestamp, read.timestamp);
  EXPECT_EQ(tx->creator_msp, "Org1MSP");
  EXPECT_EQ(tx->creator_cert_pem, carol_->certificate().ToPem());
  EXPECT_EQ(tx->chaincode, "records");
  EXPECT_EQ(tx->action_chaincode, "records");
  EXPECT_EQ(tx->function, "RecordAccess");
  EXPECT_EQ(json::parse(tx->argument)["reportId"], "r1");
  EXPECT_EQ(tx->response_status, 200);
  EXPECT_EQ(tx->response_payload, read.payload);
  EXPECT_EQ(tx->validation_code, 0);

  auto summary = SummarizeAccess(*tx);
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->doctor, "Org1MSP/carol");
  EXPECT_EQ(summary->role, "doctor");
  EXPECT_EQ(summary->report_id, "r1");
  EXPECT_EQ(summary->patient_ref, kPatient);
  EXPECT_EQ(summary->head_version, 1);
  EXPECT_EQ(summary->basis, "consent");
  EXPECT_FALSE(summary->emergency);

  // The same through a ProcessedTransaction (field 1: the envelope, field 2: the validation code).
  std::string envelope = Envelope(read.tx_id);
  std::string processed = "\x0a";
  uint64_t n = envelope.size();
  for (; n >= 0x80; n >>= 7) processed.push_back(static_cast<char>((n & 0x7f) | 0x80));
  processed.push_back(static_cast<char>(n));
  processed += envelope;
  auto again = ParseProcessedTransaction(processed);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->tx_id, read.tx_id);
  EXPECT_EQ(ParseProcessedTransaction(processed + "\x10\x0b").error().code, "access_tx_invalid");  // MVCC conflict
}

TEST_F(KeyReleaseLedgerTest, AConsentedReadPassesEveryCheck) {
  auto read = GrantAndRead();
  auto tx = ParseAccessTransaction(Envelope(read.tx_id), 0).value();
  ConsentFacts facts{{consent_}, {}};
  Status st = CheckAccessForRelease(tx, RequestFor(read.tx_id), "Org1MSP", read.timestamp, facts);
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  // Up to ten minutes later.
  Timestamp later{read.timestamp.seconds + kMaxAccessAgeSeconds, read.timestamp.nanos};
  EXPECT_TRUE(CheckAccessForRelease(tx, RequestFor(read.tx_id), "Org1MSP", later, facts).ok());
}

TEST_F(KeyReleaseLedgerTest, EveryCheckRefusesWithItsCode) {
  auto read = GrantAndRead();
  const auto tx = ParseAccessTransaction(Envelope(read.tx_id), 0).value();
  const ConsentFacts facts{{consent_}, {}};
  const Timestamp now = read.timestamp;
  auto code = [&](const AccessTransaction& t, const ReleaseRequest& r, const std::string& caller, Timestamp at,
                  const ConsentFacts& f) {
    Status st = CheckAccessForRelease(t, r, caller, at, f);
    return st.ok() ? std::string("ok") : st.error().code;
  };
  const ReleaseRequest req = RequestFor(read.tx_id);
  EXPECT_EQ(code(tx, req, "Org1MSP", now, facts), "ok");

  // 2. Not valid.
  AccessTransaction t = tx;
  t.validation_code = 11;
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_tx_invalid");
  EXPECT_EQ(ParseAccessTransaction(Envelope(read.tx_id), 11).error().code, "access_tx_invalid");

  // 3. Another organisation's caller, another report, a later version, another transaction.
  EXPECT_EQ(code(tx, req, "Org2MSP", now, facts), "access_mismatch");
  EXPECT_EQ(code(tx, RequestFor(read.tx_id, "r2"), "Org1MSP", now, facts), "access_mismatch");
  EXPECT_EQ(code(tx, RequestFor(read.tx_id, "r1", 2), "Org1MSP", now, facts), "access_mismatch");
  EXPECT_EQ(code(tx, RequestFor(std::string(64, 'a')), "Org1MSP", now, facts), "access_mismatch");
  t = tx;
  t.function = "GetReport";
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");
  t = tx;
  t.chaincode = "other";
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");
  EXPECT_EQ(CheckAccessForRelease(tx, req, "Org1MSP", now, facts, "medrec").error().code, "access_mismatch");
  t = tx;
  t.chaincode = t.action_chaincode = "medrec";  // a channel whose records contract has another name
  EXPECT_TRUE(CheckAccessForRelease(t, req, "Org1MSP", now, facts, "medrec").ok());
  t = tx;
  t.action_chaincode = "other";
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");
  t = tx;
  t.response_status = 403;
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");
  t = tx;
  t.header_type = 1;  // CONFIG
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");
  t = tx;
  t.argument = R"({"reportId":"r2","purpose":"treatment"})";  // asked for another report than answered
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "access_mismatch");

  // 4. No consent covering the doctor at the time.
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {}), "no_consent");
  ConsentFact c = consent_;
  c.doctor = "Org1MSP/alice";
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "no_consent");
  c = consent_;
  c.patient_ref = kOtherPatient;
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "no_consent");
  c = consent_;
  c.expires_at = read.timestamp;  // expired at the moment of the read
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "no_consent");
  c = consent_;
  c.revoked_at = Timestamp{read.timestamp.seconds - 1, 0};
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "no_consent");
  c = consent_;
  c.revoked_at = Timestamp{read.timestamp.seconds + 1, 0};  // revoked after the read: the read stands
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "ok");
  c = consent_;
  c.created = Timestamp{read.timestamp.seconds + 1, 0};  // granted after the read
  EXPECT_EQ(code(tx, req, "Org1MSP", now, {{c}, {}}), "no_consent");
  t = tx;
  t.response_payload = WithBasis(tx.response_payload, "author");
  EXPECT_EQ(code(t, req, "Org1MSP", now, facts), "no_consent");

  // 5. Too old, or from the future.
  EXPECT_EQ(code(tx, req, "Org1MSP", Timestamp{now.seconds + kMaxAccessAgeSeconds + 1, now.nanos}, facts),
            "access_expired");
  EXPECT_EQ(code(tx, req, "Org1MSP", Timestamp{now.seconds - kMaxClockSkewSeconds - 1, now.nanos}, facts),
            "access_expired");
}

TEST_F(KeyReleaseLedgerTest, AnEmergencyGrantCoversItsReportOnly) {
  auto grant = Submit(*carol_, "EmergencyAccess", {{"reportId", "r2"}, {"reasonNote", kCid}});
  auto read = Submit(*carol_, "RecordAccess", {{"reportId", "r2"}, {"purpose", "treatment"}});
  auto tx = ParseAccessTransaction(Envelope(read.tx_id), 0).value();
  EXPECT_EQ(SummarizeAccess(tx)->basis, "emergency");
  EXPECT_TRUE(SummarizeAccess(tx)->emergency);
  json g = json::parse(grant.payload);
  EmergencyFact e{"Org1MSP/carol", "r2", Timestamp::FromRfc3339(g["grantedAt"].get<std::string>()).value(),
                  Timestamp::FromRfc3339(g["expiresAt"].get<std::string>()).value()};
  auto req = RequestFor(read.tx_id, "r2");
  EXPECT_TRUE(CheckAccessForRelease(tx, req, "Org1MSP", read.timestamp, {{}, {e}}).ok());
  EmergencyFact other = e;
  other.report_id = "r1";
  EXPECT_EQ(CheckAccessForRelease(tx, req, "Org1MSP", read.timestamp, {{}, {other}}).error().code, "no_consent");
  other = e;
  other.doctor = "Org1MSP/alice";
  EXPECT_EQ(CheckAccessForRelease(tx, req, "Org1MSP", read.timestamp, {{}, {other}}).error().code, "no_consent");
}

TEST_F(KeyReleaseLedgerTest, OnlyADoctorsReadOfTheRecordsChaincodeCounts) {
  // The author reading her own report: basis "author", and a read by the author's own organisation.
  auto own = Submit(*fx_.alice, "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  auto tx = ParseAccessTransaction(Envelope(own.tx_id), 0).value();
  EXPECT_EQ(SummarizeAccess(tx)->basis, "author");
  EXPECT_EQ(CheckAccessForRelease(tx, RequestFor(own.tx_id), "Org1MSP", own.timestamp, {}).error().code, "no_consent");
  // Another function of the contract.
  auto reg = Submit(*admin_, "RegisterPatient", {{"patientRef", HexEncode(crypto::Sha256("p3"))}});
  auto other = ParseAccessTransaction(Envelope(reg.tx_id), 0);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  EXPECT_EQ(other->function, "RegisterPatient");
  EXPECT_EQ(SummarizeAccess(*other).error().code, "access_mismatch");
  // The creator's role comes from its certificate: an admin's read is refused even if the contract allowed it.
  AccessTransaction t = tx;
  t.creator_cert_pem = admin_->certificate().ToPem();
  t.response_payload = WithBasis(tx.response_payload, "consent");
  EXPECT_EQ(CheckAccessForRelease(t, RequestFor(own.tx_id), "Org1MSP", own.timestamp, {}).error().code,
            "access_mismatch");
}

TEST_F(KeyReleaseLedgerTest, MalformedAndForeignEnvelopesAreRefused) {
  auto read = GrantAndRead();
  const std::string envelope = Envelope(read.tx_id);
  EXPECT_EQ(ParseAccessTransaction("", 0).error().code, "access_tx_malformed");
  EXPECT_EQ(ParseAccessTransaction("\xff\xff\xff", 0).error().code, "access_tx_malformed");
  for (size_t cut : {size_t{1}, envelope.size() / 2, envelope.size() - 1}) {
    EXPECT_FALSE(ParseAccessTransaction(envelope.substr(0, cut), 0).ok()) << cut;
  }
  // A CONFIG transaction decodes without chaincode fields and fails the checks.
  common::Envelope env;
  ASSERT_TRUE(env.ParseFromString(envelope));
  common::Payload payload;
  ASSERT_TRUE(payload.ParseFromString(env.payload()));
  common::ChannelHeader ch;
  ASSERT_TRUE(ch.ParseFromString(payload.header().channel_header()));
  ch.set_type(common::CONFIG);
  payload.mutable_header()->set_channel_header(ch.SerializeAsString());
  env.set_payload(payload.SerializeAsString());
  auto config = ParseAccessTransaction(env.SerializeAsString(), 0);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->header_type, common::CONFIG);
  EXPECT_TRUE(config->function.empty());
  EXPECT_EQ(SummarizeAccess(*config).error().code, "access_mismatch");
  // Two actions in one endorser transaction.
  common::Payload original;
  common::Envelope original_env;
  ASSERT_TRUE(original_env.ParseFromString(envelope));
  ASSERT_TRUE(original.ParseFromString(original_env.payload()));
  protos::Transaction transaction;
  ASSERT_TRUE(transaction.ParseFromString(original.data()));
  *transaction.add_actions() = transaction.actions(0);
  original.set_data(transaction.SerializeAsString());
  original_env.set_payload(original.SerializeAsString());
  EXPECT_EQ(ParseAccessTransaction(original_env.SerializeAsString(), 0).error().code, "access_tx_malformed");
}

TEST(CheckCallerTest, MembersOtherThanSelfOnly) {
  ConsortiumConfig c;
  c.self = "HospitalAMSP";
  c.members = {Member{"HospitalAMSP", "A", "/a", "https://a", {}}, Member{"HospitalBMSP", "B", "/b", "https://b", {}}};
  EXPECT_TRUE(CheckCaller(c, "HospitalBMSP").ok());
  EXPECT_EQ(CheckCaller(c, "HospitalAMSP").error().code, "not_a_member");
  EXPECT_EQ(CheckCaller(c, "HospitalCMSP").error().code, "not_a_member");
}

}  // namespace
}  // namespace medledger::consortium
