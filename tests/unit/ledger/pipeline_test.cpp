// The execute-order-validate-commit pipeline end to end, with the hostile inputs issue 2 names: MVCC and
// phantom conflicts, replayed envelopes, forged creators, unknown identities, tampered endorsements.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "common/encoding.h"
#include "crypto/random.h"
#include "ledger/embedded/verifier.h"
#include "ledger/wire/protoutil.h"
#include "ledger/wire/transaction.h"
#include "pb/common/common.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "test_support.h"

namespace medledger::ledger {
namespace {

using embedded::EmbeddedLedger;
using testing::LedgerFixture;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::TempDir("pipeline"); }
  void TearDown() override {
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(embedded::EmbeddedLedgerOptions o) {
    auto l = EmbeddedLedger::Open(std::move(o));
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    ledger_ = std::move(l).value();
  }
  void Open() { Open(fx_.Options(dir_)); }

  // Submits all calls at once and waits for every result, in submission order.
  std::vector<Result<TxReceipt>> SubmitAll(const identity::SigningIdentity& who, const std::vector<Invocation>& calls) {
    std::vector<std::promise<Result<TxReceipt>>> promises(calls.size());
    std::vector<std::future<Result<TxReceipt>>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    for (size_t i = 0; i < calls.size(); ++i) {
      ledger_->SubmitAsync(who, calls[i], [&promises, i](Result<TxReceipt> r) { promises[i].set_value(std::move(r)); });
    }
    std::vector<Result<TxReceipt>> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  Result<TxReceipt> Broadcast(std::string envelope) {
    std::promise<Result<TxReceipt>> p;
    auto f = p.get_future();
    ledger_->BroadcastAsync(std::move(envelope), [&p](Result<TxReceipt> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  // A transaction built the way an external client would: signed proposal -> ProcessProposal ->
  // envelope signed by `envelope_signer` (normally the creator itself).
  struct Built {
    wire::ProposalParts parts;
    protos::ProposalResponse response;
  };
  Built Endorse(const identity::SigningIdentity& creator, std::vector<std::string> args) {
    auto parts =
        wire::BuildProposal(creator.serialized(), crypto::RandomBytes(24), Timestamp::Now(), "medledger", "kv", args);
    auto sig = creator.Sign(parts.proposal).value();
    auto pr_bytes = ledger_->ProcessProposal(wire::SerializeSignedProposal(parts.proposal, sig));
    EXPECT_TRUE(pr_bytes.ok()) << pr_bytes.error().ToString();
    Built b{parts, {}};
    EXPECT_TRUE(b.response.ParseFromString(*pr_bytes));
    return b;
  }
  std::string Envelope(const Built& b, const identity::SigningIdentity& signer, std::string endorsement_sig = "") {
    if (endorsement_sig.empty()) endorsement_sig = b.response.endorsement().signature();
    std::string payload =
        wire::BuildEnvelopePayload(b.parts, b.response.payload(), b.response.endorsement().endorser(), endorsement_sig);
    return wire::SerializeEnvelope(payload, signer.Sign(payload).value());
  }

  embedded::VerifyReport VerifyNow() {
    embedded::VerifyOptions vo;
    vo.chaincode = "kv";
    auto r = ledger_->Verify(vo);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : embedded::VerifyReport{};
  }

  LedgerFixture fx_;
  std::string dir_;
  std::unique_ptr<EmbeddedLedger> ledger_;
};

TEST_F(PipelineTest, SubmitCommitsAndEvaluateReads) {
  Open();
  auto r = ledger_->Submit(*fx_.alice, {"put", {"k1", "v1"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->tx_id.size(), 64u);
  EXPECT_EQ(r->block_number, 0u);
  EXPECT_EQ(r->payload, "ok");
  auto info = ledger_->GetChainInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->height, 1u);
  EXPECT_EQ(info->current_hash, r->block_hash);
  EXPECT_EQ(info->previous_hash, "");

  auto v = ledger_->Evaluate(*fx_.bob, {"get", {"k1"}});
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(*v, "v1");
  auto who = ledger_->Evaluate(*fx_.bob, {"whoami", {}});
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(*who, "Org1MSP");

  auto r2 = ledger_->Submit(*fx_.alice, {"put", {"k2", "v2"}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->block_number, 1u);
  info = ledger_->GetChainInfo();
  EXPECT_EQ(info->previous_hash, r->block_hash);  // hash chain

  auto proof = ledger_->GetTransactionProof(r->tx_id);
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_EQ(proof->validation_code, "VALID");
  EXPECT_EQ(proof->block_hash, r->block_hash);
  common::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(proof->block_header));
  EXPECT_EQ(HexEncode(wire::BlockHeaderHash(header.number(), header.previous_hash(), header.data_hash())),
            r->block_hash);
  EXPECT_EQ(HexEncode(wire::BlockDataHash({proof->envelope})), proof->data_hash);  // one tx in block 0
  auto where = ledger_->GetTransactionBlock(r->tx_id);
  ASSERT_TRUE(where.ok()) << where.error().ToString();
  EXPECT_EQ(where->block_number, proof->block_number);
  EXPECT_EQ(where->block_hash, r->block_hash);
  EXPECT_EQ(ledger_->GetTransactionBlock("no-such-tx").error().code, "tx_not_found");

  auto report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.blocks, 2u);
  EXPECT_EQ(report.txs_valid, 2u);
  EXPECT_EQ(report.state_keys, 2u);
}

TEST_F(PipelineTest, ContractErrorsReturnWithoutOrdering) {
  Open();
  auto denied = ledger_->Submit(*fx_.alice, {"deny", {}});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(denied.error().code, "not_allowed");
  EXPECT_EQ(denied.error().message, "this caller may not do that");
  auto missing = ledger_->Evaluate(*fx_.alice, {"get", {"nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "not_found");
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"create", {"x", "1"}}).ok());
  auto exists = ledger_->Submit(*fx_.alice, {"create", {"x", "2"}});
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.error().kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(exists.error().code, "key_exists");
  auto bad_key = ledger_->Submit(*fx_.alice, {"put", {std::string("\xff\xfe", 2), "v"}});
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().code, "invalid_key");
  EXPECT_EQ(ledger_->GetChainInfo()->height, 1u);  // only the successful create was ordered
}

// State-based endorsement on one organisation's channel: a key-level policy naming its own peers is recorded in the
// write set and commits; one naming another organisation could never be satisfied here, so the validator marks
// the transaction ENDORSEMENT_POLICY_FAILURE and the key is not written.
TEST_F(PipelineTest, KeyLevelPoliciesNamingAnotherOrganisationAreInvalidated) {
  Open();
  auto own = ledger_->Submit(*fx_.alice, {"policy", {"mine", "Org1MSP"}});
  ASSERT_TRUE(own.ok()) << own.error().ToString();
  auto foreign = ledger_->Submit(*fx_.alice, {"policy", {"theirs", "HospitalBMSP"}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, "endorsement_policy_failure");
  EXPECT_EQ(*ledger_->Evaluate(*fx_.alice, {"get", {"mine"}}), "v");
  EXPECT_EQ(ledger_->Evaluate(*fx_.alice, {"get", {"theirs"}}).error().code, "not_found");
}

// One organisation: it may name itself as the endorser, never another organisation, and the refusal comes before
// anything is endorsed or ordered.
TEST_F(PipelineTest, EndorsingOrganizationsOtherThanItsOwnAreRefused) {
  Open();
  Invocation own{"put", {"k", "v"}, {"Org1MSP"}};
  auto ok = ledger_->Submit(*fx_.alice, own);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  auto foreign = ledger_->Submit(*fx_.alice, Invocation{"put", {"k", "w"}, {"Org1MSP", "HospitalBMSP"}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, "endorsing_organization_unknown");
  EXPECT_EQ(foreign.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(foreign.error().message.find("HospitalBMSP"), std::string::npos) << foreign.error().message;
  EXPECT_NE(foreign.error().message.find("Org1MSP"), std::string::npos) << foreign.error().message;
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {""}, {"Org1MSP", "Org1MSP"}, {"Org 1"}, std::vector<std::string>(17, "Org1MSP")}) {
    auto r = ledger_->Submit(*fx_.alice, Invocation{"put", {"k", "x"}, bad});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "bad_endorsing_organizations");
  }
  auto eval = ledger_->Evaluate(*fx_.alice, Invocation{"get", {"k"}, {"Org1MSP"}});
  ASSERT_FALSE(eval.ok());
  EXPECT_EQ(eval.error().code, "bad_endorsing_organizations");
  EXPECT_EQ(*ledger_->Evaluate(*fx_.alice, {"get", {"k"}}), "v");  // none of the refused writes happened
  EXPECT_EQ(ledger_->GetChainInfo()->height, 1u);
}

TEST_F(PipelineTest, MvccConflictInOneBlockInvalidatesTheSecondReader) {
  auto o = fx_.Options(dir_);
  o.batch.max_tx_count = 2;
  o.batch.timeout_ms = 300;  // both land in one block
  o.batch.cut_when_idle = false;
  o.execute_threads = 1;  // deterministic order
  Open(std::move(o));
  auto results = SubmitAll(*fx_.alice, {{"incr", {"counter"}}, {"incr", {"counter"}}});
  ASSERT_TRUE(results[0].ok()) << results[0].error().ToString();
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, "mvcc_read_conflict");
  EXPECT_EQ(results[1].error().kind, ErrorKind::kConflict);
  EXPECT_EQ(ledger_->GetChainInfo()->height, 1u);
  EXPECT_EQ(*ledger_->Evaluate(*fx_.alice, {"get", {"counter"}}), "1");
  // Later transactions read the new version and succeed.
  auto again = ledger_->Submit(*fx_.alice, {"incr", {"counter"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->payload, "2");
  auto report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.txs_valid, 2u);
  EXPECT_EQ(report.txs_invalid, 1u);
}

TEST_F(PipelineTest, MvccConflictAcrossBlocks) {
  auto o = fx_.Options(dir_);
  Open(std::move(o));
  // Endorse against version v0, commit another writer, then submit the stale endorsement.
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"acct", "10"}}).ok());
  auto stale = Endorse(*fx_.alice, {"incr", "acct"});
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"acct", "20"}}).ok());
  auto r = Broadcast(Envelope(stale, *fx_.alice));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "mvcc_read_conflict");
  EXPECT_EQ(*ledger_->Evaluate(*fx_.alice, {"get", {"acct"}}), "20");
}

TEST_F(PipelineTest, PhantomReadIsDetected) {
  auto o = fx_.Options(dir_);
  o.batch.max_tx_count = 2;
  o.batch.timeout_ms = 300;
  o.batch.cut_when_idle = false;
  o.execute_threads = 1;
  Open(std::move(o));
  ASSERT_TRUE(SubmitAll(*fx_.alice, {{"put", {"a1", "x"}}, {"put", {"zz", "x"}}})[0].ok());
  // The insert of a2 lands before the scan of [a, b) in the same block: the scan saw a phantom.
  auto results = SubmitAll(*fx_.alice, {{"put", {"a2", "y"}}, {"scan", {"a", "b"}}});
  ASSERT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, "phantom_read_conflict");
  // A stale scan endorsed before an insert in an earlier block is caught by re-running the range.
  auto stale = Endorse(*fx_.alice, {"scan", "a", "b"});
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"a3", "z"}}).ok());
  auto r = Broadcast(Envelope(stale, *fx_.alice));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "phantom_read_conflict");
  auto ok = ledger_->Submit(*fx_.alice, {"scan", {"a", "b"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->payload, "3");
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_F(PipelineTest, PaginatedRangeRevalidatesOnlyWhatItSaw) {
  Open();
  std::vector<Invocation> seed;
  for (const char* k : {"a1", "a3", "a5", "a7"}) seed.push_back({"put", {k, "x"}});
  for (auto& r : SubmitAll(*fx_.alice, seed)) ASSERT_TRUE(r.ok());
  auto first = ledger_->Submit(*fx_.alice, {"page", {"a", "b", "2"}});
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->payload, "a1,a3,|a5");  // two items, bookmark at the third key

  // A key inserted past the bookmark is outside what the page saw: still valid.
  auto beyond = Endorse(*fx_.alice, {"page", "a", "b", "2"});
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"a6", "x"}}).ok());
  ASSERT_TRUE(Broadcast(Envelope(beyond, *fx_.alice)).ok());
  // A key inserted before the bookmark changes the page (and its bookmark): phantom.
  auto inside = Endorse(*fx_.alice, {"page", "a", "b", "2"});
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"a2", "x"}}).ok());
  auto r = Broadcast(Envelope(inside, *fx_.alice));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "phantom_read_conflict");
  // Deleting a key the page returned is a phantom too.
  auto deleted = Endorse(*fx_.alice, {"page", "a", "b", "2"});
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"del", {"a1"}}).ok());
  auto r2 = Broadcast(Envelope(deleted, *fx_.alice));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "phantom_read_conflict");
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_F(PipelineTest, ReplayedEnvelopeIsDuplicateTxid) {
  Open();
  auto built = Endorse(*fx_.alice, {"put", "k", "v"});
  std::string envelope = Envelope(built, *fx_.alice);
  auto first = Broadcast(envelope);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->tx_id, built.parts.tx_id);
  auto replay = Broadcast(envelope);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, "duplicate_txid");
  EXPECT_EQ(replay.error().kind, ErrorKind::kAlreadyExists);
  // The index still points at the original, valid transaction.
  auto proof = ledger_->GetTransactionProof(built.parts.tx_id);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(proof->validation_code, "VALID");
  EXPECT_EQ(proof->block_number, first->block_number);
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_F(PipelineTest, DuplicateTxidWithinOneBlock) {
  auto o = fx_.Options(dir_);
  o.batch.max_tx_count = 2;
  o.batch.timeout_ms = 300;
  o.batch.cut_when_idle = false;
  Open(std::move(o));
  auto built = Endorse(*fx_.alice, {"put", "k", "v"});
  std::string envelope = Envelope(built, *fx_.alice);
  std::promise<Result<TxReceipt>> p1, p2;
  ledger_->BroadcastAsync(envelope, [&](Result<TxReceipt> r) { p1.set_value(std::move(r)); });
  ledger_->BroadcastAsync(envelope, [&](Result<TxReceipt> r) { p2.set_value(std::move(r)); });
  auto r1 = p1.get_future().get();
  auto r2 = p2.get_future().get();
  ASSERT_TRUE(r1.ok());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "duplicate_txid");
  EXPECT_EQ(ledger_->GetChainInfo()->height, 1u);
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_F(PipelineTest, ForgedCreatorSignatureIsRejected) {
  Open();
  auto built = Endorse(*fx_.alice, {"put", "k", "forged"});
  // Bob signs an envelope that names Alice as creator.
  auto r = Broadcast(Envelope(built, *fx_.bob));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_creator_signature");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_FALSE(ledger_->Evaluate(*fx_.alice, {"get", {"k"}}).ok());
  // The forged transaction does not claim Alice's tx_id: her real one still commits.
  auto real = Broadcast(Envelope(built, *fx_.alice));
  ASSERT_TRUE(real.ok()) << real.error().ToString();
  EXPECT_TRUE(VerifyNow().ok);

  // A forged proposal signature is refused at endorsement.
  auto parts = wire::BuildProposal(fx_.alice->serialized(), crypto::RandomBytes(24), Timestamp::Now(), "medledger",
                                   "kv", {"put", "k", "x"});
  auto sp = wire::SerializeSignedProposal(parts.proposal, fx_.bob->Sign(parts.proposal).value());
  auto pr = ledger_->ProcessProposal(sp);
  ASSERT_FALSE(pr.ok());
  EXPECT_EQ(pr.error().code, "bad_proposal_signature");
  // A tx_id that is not SHA-256(nonce || creator) is refused.
  parts.tx_id = std::string(64, 'a');
  auto bad = wire::BuildProposal(fx_.alice->serialized(), "", Timestamp::Now(), "medledger", "kv", {"put"});
  auto pr2 =
      ledger_->ProcessProposal(wire::SerializeSignedProposal(bad.proposal, fx_.alice->Sign(bad.proposal).value()));
  ASSERT_FALSE(pr2.ok());
  EXPECT_EQ(pr2.error().code, "bad_proposal_txid");
  auto garbage = ledger_->ProcessProposal("\x0a\x05hello");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, "malformed_proposal");
}

TEST_F(PipelineTest, UnknownOrWrongOrgCreatorIsRejected) {
  Open();
  auto other = testing::TestOrg::Create("Org2MSP");
  auto mallory = other.Issue("mallory", "client", "doctor");
  auto r = ledger_->Submit(*mallory, {"put", {"k", "v"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "unknown_msp");
  EXPECT_FALSE(ledger_->Evaluate(*mallory, {"get", {"k"}}).ok());

  // Same MSP ID, but a certificate from a CA that is not ours.
  auto imposter_org = testing::TestOrg::Create("Org1MSP");
  auto imposter = imposter_org.Issue("alice", "client", "doctor");
  auto r2 = ledger_->Submit(*imposter, {"put", {"k", "v"}});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "untrusted_certificate");

  // An envelope from the imposter, carrying a genuine endorsement made for Alice, fails validation.
  auto built = Endorse(*fx_.alice, {"put", "k", "v"});
  auto parts = wire::BuildProposal(imposter->serialized(), crypto::RandomBytes(24), Timestamp::Now(), "medledger", "kv",
                                   {"put", "k", "v"});
  std::string payload =
      wire::BuildEnvelopePayload(parts, built.response.payload(), built.response.endorsement().endorser(),
                                 built.response.endorsement().signature());
  auto r3 = Broadcast(wire::SerializeEnvelope(payload, imposter->Sign(payload).value()));
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, "bad_creator_signature");
  EXPECT_EQ(ledger_->GetChainInfo()->height, 1u);  // committed as invalid, like Fabric
  auto report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.txs_invalid, 1u);
}

TEST_F(PipelineTest, TamperedOrForeignEndorsementFailsPolicy) {
  Open();
  auto built = Endorse(*fx_.alice, {"put", "k", "v"});
  std::string sig = built.response.endorsement().signature();
  sig[sig.size() / 2] ^= 0x01;
  auto r = Broadcast(Envelope(built, *fx_.alice, sig));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "endorsement_policy_failure");

  // An endorsement signed by a member that is not the peer (Alice endorsing herself) fails the policy.
  auto self = Endorse(*fx_.alice, {"put", "k", "self"});
  std::string endorser = fx_.alice->serialized();
  std::string self_sig = fx_.alice->Sign(self.response.payload() + endorser).value();
  std::string payload = wire::BuildEnvelopePayload(self.parts, self.response.payload(), endorser, self_sig);
  auto r2 = Broadcast(wire::SerializeEnvelope(payload, fx_.alice->Sign(payload).value()));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "endorsement_policy_failure");

  // An endorsement made for another proposal (its hash) cannot be reused under a new tx_id.
  auto other = Endorse(*fx_.alice, {"put", "k", "other"});
  auto parts = wire::BuildProposal(fx_.alice->serialized(), crypto::RandomBytes(24), Timestamp::Now(), "medledger",
                                   "kv", {"put", "k", "other"});
  std::string p3 = wire::BuildEnvelopePayload(parts, other.response.payload(), other.response.endorsement().endorser(),
                                              other.response.endorsement().signature());
  auto r3 = Broadcast(wire::SerializeEnvelope(p3, fx_.alice->Sign(p3).value()));
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, "bad_response_payload");
  EXPECT_FALSE(ledger_->Evaluate(*fx_.alice, {"get", {"k"}}).ok());
  auto report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.txs_invalid, 3u);
}

TEST_F(PipelineTest, GarbageEnvelopesAreCommittedInvalidNotFatal) {
  Open();
  auto r = Broadcast("not a protobuf at all \xff\xff");
  ASSERT_FALSE(r.ok());
  auto r2 = Broadcast("");
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "nil_envelope");
  ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"k", "v"}}).ok());
  EXPECT_TRUE(VerifyNow().ok);
}

class LocalTrustTest : public PipelineTest,
                       public ::testing::WithParamInterface<embedded::EmbeddedLedgerOptions::LocalTrust> {};

TEST_P(LocalTrustTest, EveryTrustLevelCommitsAndVerifies) {
  auto o = fx_.Options(dir_);
  o.local_trust = GetParam();
  Open(std::move(o));
  std::vector<Invocation> calls;
  for (int i = 0; i < 50; ++i) calls.push_back({"put", {"k" + std::to_string(i), "v"}});
  for (auto& r : SubmitAll(*fx_.alice, calls)) ASSERT_TRUE(r.ok()) << r.error().ToString();
  // External envelopes are fully checked whatever the level.
  auto built = Endorse(*fx_.alice, {"put", "k", "forged"});
  auto forged = Broadcast(Envelope(built, *fx_.bob));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, "bad_creator_signature");
  auto report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.txs_valid, 50u);
}

INSTANTIATE_TEST_SUITE_P(Levels, LocalTrustTest,
                         ::testing::Values(embedded::EmbeddedLedgerOptions::LocalTrust::kNone,
                                           embedded::EmbeddedLedgerOptions::LocalTrust::kEndorsement,
                                           embedded::EmbeddedLedgerOptions::LocalTrust::kAll));

TEST_F(PipelineTest, ReopenRecoversChainAndState) {
  Open();
  std::vector<Invocation> calls;
  for (int i = 0; i < 200; ++i) calls.push_back({"put", {"k" + std::to_string(i), std::to_string(i)}});
  auto results = SubmitAll(*fx_.alice, calls);
  for (auto& r : results) ASSERT_TRUE(r.ok()) << r.error().ToString();
  auto before = *ledger_->GetChainInfo();
  ledger_.reset();
  Open();
  auto after = *ledger_->GetChainInfo();
  EXPECT_EQ(after.height, before.height);
  EXPECT_EQ(after.current_hash, before.current_hash);
  EXPECT_EQ(*ledger_->Evaluate(*fx_.alice, {"get", {"k199"}}), "199");
  for (auto& r : results) {
    EXPECT_EQ(ledger_->GetTransactionProof(r->tx_id)->validation_code, "VALID");
    // After a reopen only the last block's hash is cached: the others come from reading their blocks.
    auto where = ledger_->GetTransactionBlock(r->tx_id);
    ASSERT_TRUE(where.ok()) << where.error().ToString();
    EXPECT_EQ(where->block_number, r->block_number);
    EXPECT_EQ(where->block_hash, r->block_hash);
  }
  auto next = ledger_->Submit(*fx_.alice, {"put", {"after", "x"}});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->block_number, before.height);
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_F(PipelineTest, CloseDrainsInFlightSubmissions) {
  Open();
  std::atomic<int> done{0}, ok{0};
  for (int i = 0; i < 300; ++i) {
    ledger_->SubmitAsync(*fx_.alice, {"put", {"d" + std::to_string(i), "v"}}, [&](Result<TxReceipt> r) {
      ok += r.ok();
      ++done;
    });
  }
  ledger_->Close();
  EXPECT_EQ(done.load(), 300);
  EXPECT_EQ(ok.load(), 300);
  auto late = ledger_->Submit(*fx_.alice, {"put", {"late", "v"}});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "ledger_closed");
}

}  // namespace
}  // namespace medledger::ledger
