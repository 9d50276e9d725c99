// VerifyLedgerEvidence over evidence cut from the real embedded ledger (a committed transaction, its block
// header and the orderer's signature), then each input tampered with: every change is refused by name.
#include "receipt/ledger_evidence.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "ledger/embedded/embedded_ledger.h"
#include "pb/common/common.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"
#include "test_support.h"

namespace medledger::receipt {
namespace {

using ledger::testing::LedgerFixture;
using ledger::testing::TestOrg;

class LedgerEvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ledger::testing::TempDir("receipt");
    auto l = ledger::embedded::EmbeddedLedger::Open(fx_.Options(dir_));
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    ledger_ = std::move(l).value();
    // A few blocks first, so the number is not trivially 0 or 1.
    ASSERT_TRUE(ledger_->Submit(*fx_.alice, {"put", {"a", "1"}}).ok());
    auto receipt = ledger_->Submit(*fx_.alice, {"create", {"report-7", "v"}});
    ASSERT_TRUE(receipt.ok()) << receipt.error().ToString();
    tx_id_ = receipt->tx_id;
    block_number_ = receipt->block_number;
    auto proof = ledger_->GetTransactionProof(tx_id_);
    ASSERT_TRUE(proof.ok()) << proof.error().ToString();
    auto parts = SplitSignaturesMetadata(proof->orderer_signature);
    ASSERT_TRUE(parts.ok()) << parts.error().ToString();
    evidence_.channel = "medledger";
    evidence_.tx_id = tx_id_;
    evidence_.block_number = proof->block_number;
    evidence_.envelope = proof->envelope;
    evidence_.block_header = proof->block_header;
    evidence_.block_signature = parts->metadata_signature;
    evidence_.block_metadata_value = parts->metadata_value;
    trust_ = LedgerTrust{{fx_.org.ca_cert}, fx_.org.msp_id};
  }
  void TearDown() override {
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Fails(const LedgerEvidence& ev) const { return Fails(ev, trust_); }
  static std::string Fails(const LedgerEvidence& ev, const LedgerTrust& trust) {
    auto r = VerifyLedgerEvidence(ev, trust);
    return r.ok() ? "passed" : r.error().code;
  }

  // Rewrites the envelope's single endorsement and has the creator (alice) sign the result again, so only
  // the endorsement is wrong.
  std::string WithEndorsement(const std::string& endorser, const std::string& signature) const {
    common::Envelope env;
    common::Payload payload;
    protos::Transaction tx;
    protos::ChaincodeActionPayload cap;
    EXPECT_TRUE(env.ParseFromString(evidence_.envelope) && payload.ParseFromString(env.payload()) &&
                tx.ParseFromString(payload.data()) && cap.ParseFromString(tx.actions(0).payload()));
    auto* e = cap.mutable_action()->mutable_endorsements(0);
    e->set_endorser(endorser);
    e->set_signature(signature);
    tx.mutable_actions(0)->set_payload(cap.SerializeAsString());
    payload.set_data(tx.SerializeAsString());
    env.set_payload(payload.SerializeAsString());
    env.set_signature(fx_.alice->Sign(env.payload()).value());
    return env.SerializeAsString();
  }
  // Replaces the proposal response payload and the peer's endorsement of it; the creator signs again.
  std::string WithProposalResponse(const std::string& prp, const std::string& peer_signature) const {
    common::Envelope env;
    common::Payload payload;
    protos::Transaction tx;
    protos::ChaincodeActionPayload cap;
    EXPECT_TRUE(env.ParseFromString(evidence_.envelope) && payload.ParseFromString(env.payload()) &&
                tx.ParseFromString(payload.data()) && cap.ParseFromString(tx.actions(0).payload()));
    cap.mutable_action()->set_proposal_response_payload(prp);
    cap.mutable_action()->mutable_endorsements(0)->set_signature(peer_signature);
    tx.mutable_actions(0)->set_payload(cap.SerializeAsString());
    payload.set_data(tx.SerializeAsString());
    env.set_payload(payload.SerializeAsString());
    env.set_signature(fx_.alice->Sign(env.payload()).value());
    return env.SerializeAsString();
  }
  std::string ProposalResponsePayload() const {
    common::Envelope env;
    common::Payload payload;
    protos::Transaction tx;
    protos::ChaincodeActionPayload cap;
    EXPECT_TRUE(env.ParseFromString(evidence_.envelope) && payload.ParseFromString(env.payload()) &&
                tx.ParseFromString(payload.data()) && cap.ParseFromString(tx.actions(0).payload()));
    return cap.action().proposal_response_payload();
  }
  // A MetadataSignature over this block header by `signer`, as the orderer makes it.
  std::string BlockSignatureBy(const identity::SigningIdentity& signer) const {
    common::BlockHeader h;
    EXPECT_TRUE(h.ParseFromString(evidence_.block_header));
    common::SignatureHeader sh;
    sh.set_creator(signer.serialized());
    sh.set_nonce("nonce-nonce-nonce-nonce!");
    common::MetadataSignature sig;
    sig.set_signature_header(sh.SerializeAsString());
    sig.set_signature(signer
                          .Sign(evidence_.block_metadata_value + sig.signature_header() +
                                BlockHeaderAsn1(h.number(), h.previous_hash(), h.data_hash()))
                          .value());
    return sig.SerializeAsString();
  }

  LedgerFixture fx_;
  std::string dir_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;
  std::string tx_id_;
  uint64_t block_number_ = 0;
  LedgerEvidence evidence_;
  LedgerTrust trust_;
};

TEST_F(LedgerEvidenceTest, EvidenceFromTheEmbeddedLedgerVerifies) {
  auto v = VerifyLedgerEvidence(evidence_, trust_);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->tx_id, tx_id_);
  EXPECT_EQ(v->channel, "medledger");
  EXPECT_EQ(v->block_number, block_number_);
  EXPECT_GE(v->block_number, 1u) << "after the first transaction's block";
  EXPECT_EQ(v->creator.msp_id, "Org1MSP");
  EXPECT_EQ(v->creator.common_name, "alice");
  ASSERT_EQ(v->endorsers.size(), 1u);
  EXPECT_EQ(v->endorsers[0].common_name, "peer0");
  EXPECT_EQ(v->orderer.common_name, "orderer0");
  EXPECT_EQ(v->chaincode, "kv");
  EXPECT_EQ(v->response_status, 200);
  ASSERT_TRUE(v->event.has_value()) << "the contract's SetEvent must come out of the endorsed action";
  EXPECT_EQ(v->event->chaincode, "kv");
  EXPECT_EQ(v->event->event_name, "created");
  EXPECT_EQ(v->event->payload, "report-7");
  EXPECT_GT(v->timestamp.seconds, 0);
}

TEST(BlockHeaderAsn1Test, MatchesHandEncodedDer) {
  // Go's asn1.Marshal of {Number *big.Int, PreviousHash, DataHash}, as Fabric's protoutil.BlockHeaderBytes.
  EXPECT_EQ(HexEncode(BlockHeaderAsn1(127, "", "")), "300702017f04000400");
  EXPECT_EQ(HexEncode(BlockHeaderAsn1(128, "", "")), "30080202008004000400");
  EXPECT_EQ(HexEncode(BlockHeaderAsn1(UINT64_MAX, "", "")), "300f020900ffffffffffffffff04000400");
  std::string der = BlockHeaderAsn1(2, "", std::string(200, '\x33'));
  EXPECT_EQ(HexEncode(der.substr(0, 12)), "3081d002010204000481c833");
}

TEST_F(LedgerEvidenceTest, EveryByteOfTheEnvelopeIsCovered) {
  // Flipping any bit of any byte must fail some named check: nothing in the envelope is unsigned.
  for (size_t i = 0; i < evidence_.envelope.size(); ++i) {
    LedgerEvidence ev = evidence_;
    ev.envelope[i] ^= 0x01;
    EXPECT_NE(Fails(ev), "passed") << "byte " << i;
  }
  LedgerEvidence ev = evidence_;
  ev.envelope.back() ^= 0x01;  // inside the creator's signature
  EXPECT_EQ(Fails(ev), "ledger_creator_signature");
}

TEST_F(LedgerEvidenceTest, TamperedBlockHeaderIsRefused) {
  common::BlockHeader h;
  ASSERT_TRUE(h.ParseFromString(evidence_.block_header));
  LedgerEvidence ev = evidence_;
  std::string previous = h.previous_hash();
  previous[0] ^= 0x01;
  h.set_previous_hash(previous);
  ev.block_header = h.SerializeAsString();
  EXPECT_EQ(Fails(ev), "ledger_orderer_signature");

  ev = evidence_;
  ev.block_header.back() ^= 0x01;  // the data hash's last byte
  EXPECT_EQ(Fails(ev), "ledger_orderer_signature");

  ev = evidence_;
  ev.block_number += 1;
  EXPECT_EQ(Fails(ev), "ledger_block_number_mismatch");

  ev = evidence_;
  ev.block_header = "\xff\xff";
  EXPECT_EQ(Fails(ev), "ledger_block_header_malformed");
}

TEST_F(LedgerEvidenceTest, TamperedBlockSignatureIsRefused) {
  LedgerEvidence ev = evidence_;
  ev.block_signature.back() ^= 0x01;  // the ECDSA signature's last byte
  EXPECT_EQ(Fails(ev), "ledger_orderer_signature");

  ev = evidence_;
  ev.block_metadata_value += "x";
  EXPECT_EQ(Fails(ev), "ledger_orderer_signature");

  ev = evidence_;
  ev.block_signature = "garbage";
  EXPECT_EQ(Fails(ev), "ledger_block_signature_malformed");

  // A well-formed signature over this very header by a member who is not the orderer.
  ev = evidence_;
  ev.block_signature = BlockSignatureBy(*fx_.peer);
  EXPECT_EQ(Fails(ev), "ledger_orderer_not_orderer");
  ev.block_signature = BlockSignatureBy(*fx_.orderer);
  EXPECT_EQ(Fails(ev), "passed") << "the same construction by the orderer verifies";
}

TEST_F(LedgerEvidenceTest, WrongRootIsRefused) {
  TestOrg other = TestOrg::Create("Org2MSP");
  EXPECT_EQ(Fails(evidence_, LedgerTrust{{other.ca_cert}, ""}), "ledger_creator_untrusted");
  EXPECT_EQ(Fails(evidence_, LedgerTrust{{other.ca_cert, fx_.org.ca_cert}, ""}), "passed");
  EXPECT_EQ(Fails(evidence_, LedgerTrust{{fx_.org.ca_cert}, "Org2MSP"}), "ledger_creator_untrusted")
      << "the MSP ID must be the trusted organisation's";
  EXPECT_EQ(Fails(evidence_, LedgerTrust{}), "ledger_no_trusted_roots");
  // A separate orderer organisation: the orderer is held to its MSP, the others to the application's.
  EXPECT_EQ(Fails(evidence_, LedgerTrust{{fx_.org.ca_cert}, "Org1MSP", "OrdererMSP"}), "ledger_orderer_untrusted");
  EXPECT_EQ(Fails(evidence_, LedgerTrust{{fx_.org.ca_cert}, "Org1MSP", "Org1MSP"}), "passed");

  auto from_pem = LedgerTrust::FromPem(other.ca_cert.ToPem() + fx_.org.ca_cert.ToPem(), "Org1MSP");
  ASSERT_TRUE(from_pem.ok());
  EXPECT_EQ(from_pem->roots.size(), 2u);
  EXPECT_EQ(Fails(evidence_, *from_pem), "passed");
  auto none = LedgerTrust::FromPem("nothing here");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "ledger_no_trusted_roots");
}

TEST_F(LedgerEvidenceTest, EndorsementByAnotherOrganisationIsRefused) {
  TestOrg other = TestOrg::Create("Org1MSP");  // same MSP name, another CA: only the chain tells them apart
  auto intruder = other.Issue("peer0", "peer");
  const std::string prp = ProposalResponsePayload();
  LedgerEvidence ev = evidence_;
  ev.envelope = WithEndorsement(intruder->serialized(), intruder->Sign(prp + intruder->serialized()).value());
  EXPECT_EQ(Fails(ev), "ledger_endorser_untrusted");

  // A member of the organisation that is not a peer.
  ev.envelope = WithEndorsement(fx_.bob->serialized(), fx_.bob->Sign(prp + fx_.bob->serialized()).value());
  EXPECT_EQ(Fails(ev), "ledger_endorser_not_peer");

  // The real peer, but a signature over something else.
  ev.envelope = WithEndorsement(fx_.peer->serialized(), fx_.peer->Sign(prp).value());
  EXPECT_EQ(Fails(ev), "ledger_endorsement_signature");

  // The construction itself is sound: the real peer's real signature passes.
  ev.envelope = WithEndorsement(fx_.peer->serialized(), fx_.peer->Sign(prp + fx_.peer->serialized()).value());
  EXPECT_EQ(Fails(ev), "passed");
}

TEST_F(LedgerEvidenceTest, ClaimsMustMatchTheSignedData) {
  LedgerEvidence ev = evidence_;
  ev.tx_id[0] = ev.tx_id[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Fails(ev), "ledger_tx_id_mismatch");
  ev = evidence_;
  ev.channel = "other";
  EXPECT_EQ(Fails(ev), "ledger_channel_mismatch");
  ev = evidence_;
  ev.envelope = "";
  EXPECT_EQ(Fails(ev), "ledger_envelope_malformed");
  ev = evidence_;
  ev.certificate_pems = {"not a certificate"};
  EXPECT_EQ(Fails(ev), "ledger_certificate_malformed");
  ev = evidence_;
  ev.envelope.assign(kMaxEnvelopeBytes + 1, '\0');
  EXPECT_EQ(Fails(ev), "ledger_evidence_too_large");
}

TEST_F(LedgerEvidenceTest, IntermediateCasComeFromTheCertificatesList) {
  // An orderer certified by an intermediate CA under the organisation's root.
  auto issue = [&](const std::string& cn, bool is_ca, const std::string& ou, const crypto::EcPrivateKey& issuer_key,
                   const crypto::Certificate& issuer, crypto::EcPrivateKey* key_out) {
    *key_out = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest req;
    req.common_name = cn;
    req.organization = fx_.org.msp_id;
    req.is_ca = is_ca;
    if (!ou.empty()) req.organizational_units = {ou};
    return crypto::IssueCertificate(req, key_out->PublicKey(), issuer_key, &issuer).value();
  };
  crypto::EcPrivateKey ica_key = crypto::EcPrivateKey::Generate().value(), orderer_key = ica_key;
  crypto::Certificate ica = issue("ica." + fx_.org.msp_id, true, "", fx_.org.ca_key, fx_.org.ca_cert, &ica_key);
  crypto::Certificate cert = issue("orderer1", false, "orderer", ica_key, ica, &orderer_key);
  identity::SigningIdentity orderer1(fx_.org.msp_id, cert, orderer_key);

  LedgerEvidence ev = evidence_;
  ev.block_signature = BlockSignatureBy(orderer1);
  EXPECT_EQ(Fails(ev), "ledger_orderer_untrusted") << "no path to the root without the intermediate";
  ev.certificate_pems = {ica.ToPem()};
  EXPECT_EQ(Fails(ev), "passed");

  // An intermediate that is not under the trusted root does not help.
  TestOrg other = TestOrg::Create("Org1MSP");
  ev.certificate_pems = {other.ca_cert.ToPem()};
  EXPECT_EQ(Fails(ev), "ledger_orderer_untrusted");
}

// Found by ledger_evidence_fuzzer: a channel-header timestamp beyond what a time_point holds overflowed the
// conversion for the certificate checks (UBSan). Signed by the real creator, so only the range check stops it.
TEST_F(LedgerEvidenceTest, OutOfRangeTimestampIsMalformed) {
  // 10386554883 (year 2299) is the fuzzer's: a valid protobuf Timestamp, but past what system_clock holds.
  for (int64_t seconds : {INT64_MAX, INT64_MIN, int64_t{10386554883}, int64_t{-10386554883}}) {
    common::Envelope env;
    common::Payload payload;
    common::ChannelHeader ch;
    ASSERT_TRUE(env.ParseFromString(evidence_.envelope) && payload.ParseFromString(env.payload()) &&
                ch.ParseFromString(payload.header().channel_header()));
    ch.mutable_timestamp()->set_seconds(seconds);
    payload.mutable_header()->set_channel_header(ch.SerializeAsString());
    env.set_payload(payload.SerializeAsString());
    env.set_signature(fx_.alice->Sign(env.payload()).value());
    LedgerEvidence ev = evidence_;
    ev.envelope = env.SerializeAsString();
    EXPECT_EQ(Fails(ev), "ledger_envelope_malformed") << seconds;
  }
}

// A response the contract refused, endorsed and signed by the real peer and creator: never a valid
// transaction, so never evidence for a leaf.
TEST_F(LedgerEvidenceTest, ErrorResponseIsRefused) {
  protos::ProposalResponsePayload prp;
  protos::ChaincodeAction action;
  ASSERT_TRUE(prp.ParseFromString(ProposalResponsePayload()) && action.ParseFromString(prp.extension()));
  for (int32_t status : {400, 403, 500, 999}) {
    action.mutable_response()->set_status(status);
    prp.set_extension(action.SerializeAsString());
    const std::string bytes = prp.SerializeAsString();
    LedgerEvidence ev = evidence_;
    ev.envelope = WithProposalResponse(bytes, fx_.peer->Sign(bytes + fx_.peer->serialized()).value());
    EXPECT_EQ(Fails(ev), "ledger_response_error") << status;
  }
  action.mutable_response()->set_status(200);
  prp.set_extension(action.SerializeAsString());
  const std::string bytes = prp.SerializeAsString();
  LedgerEvidence ev = evidence_;
  ev.envelope = WithProposalResponse(bytes, fx_.peer->Sign(bytes + fx_.peer->serialized()).value());
  EXPECT_EQ(Fails(ev), "passed") << "the re-endorsement itself is sound";
}

TEST_F(LedgerEvidenceTest, ReceiptJsonRoundTripsAndVerifies) {
  evidence_.certificate_pems = {fx_.org.ca_cert.ToPem()};
  const nlohmann::json j = LedgerEvidenceToJson(evidence_);
  EXPECT_EQ(j.at("blockNumber"), evidence_.block_number);
  EXPECT_EQ(j.at("envelope"), Base64Encode(evidence_.envelope));
  auto parsed = LedgerEvidenceFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->envelope, evidence_.envelope);
  EXPECT_EQ(parsed->block_header, evidence_.block_header);
  EXPECT_EQ(parsed->block_signature, evidence_.block_signature);
  EXPECT_EQ(parsed->block_metadata_value, evidence_.block_metadata_value);
  EXPECT_EQ(parsed->certificate_pems, evidence_.certificate_pems);
  EXPECT_EQ(Fails(*parsed), "passed");
}

TEST_F(LedgerEvidenceTest, MalformedReceiptJsonNamesTheField) {
  const nlohmann::json good = LedgerEvidenceToJson(evidence_);
  auto code_and_message = [](const nlohmann::json& j) {
    auto r = LedgerEvidenceFromJson(j);
    return r.ok() ? std::string("parsed") : r.error().code + " " + r.error().message;
  };
  EXPECT_EQ(code_and_message(nlohmann::json::array()), "ledger_evidence_malformed ledger is not an object");
  nlohmann::json j = good;
  j.erase("envelope");
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.envelope is missing");
  j = good;
  j["blockHeader"] = "not base64!";
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.blockHeader is not base64");
  j = good;
  j["blockNumber"] = -1;
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.blockNumber is not a non-negative integer");
  j["blockNumber"] = "7";
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.blockNumber is not a non-negative integer");
  j = good;
  j["extra"] = 1;
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.extra is not a field of the format");
  j = good;
  j["txId"] = 7;
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.txId is not a string");
  j = good;
  j["envelope"] = std::string((kMaxEnvelopeBytes + 3) / 3 * 4 + 4, 'A');
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.envelope exceeds its bound");
  j = good;
  j["certificates"] = nlohmann::json::array({1});
  EXPECT_EQ(code_and_message(j),
            "ledger_evidence_malformed ledger.certificates holds something other than a bounded PEM string");
  j["certificates"] = std::vector<std::string>(kMaxCertificates + 1, "x");
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.certificates lists too many certificates");
  j = good;
  j["blockSignature"] = "";
  EXPECT_EQ(code_and_message(j), "ledger_evidence_malformed ledger.blockSignature is empty");
}

TEST_F(LedgerEvidenceTest, EnvelopeSignedByAnotherMemberIsRefused) {
  // Bob re-signs alice's transaction: the creator in the header is still alice.
  common::Envelope env;
  ASSERT_TRUE(env.ParseFromString(evidence_.envelope));
  env.set_signature(fx_.bob->Sign(env.payload()).value());
  LedgerEvidence ev = evidence_;
  ev.envelope = env.SerializeAsString();
  EXPECT_EQ(Fails(ev), "ledger_creator_signature");
}

}  // namespace
}  // namespace medledger::receipt
