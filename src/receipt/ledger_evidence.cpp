#include "receipt/ledger_evidence.h"

#include <algorithm>
#include <chrono>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "pb/common/common.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode_event.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::receipt {
namespace {

template <class M>
bool ParseBytes(M* m, std::string_view bytes) {
  return bytes.size() <= kMaxEnvelopeBytes && m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

Error Malformed(const char* code, std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, code, std::move(message));
}
Error Denied(const char* code, std::string message) {
  return MakeError(ErrorKind::kPermissionDenied, code, std::move(message));
}
Error Broken(const char* code, std::string message) {
  return MakeError(ErrorKind::kCorruption, code, std::move(message));
}

void PutDer(std::string* out, uint8_t tag, std::string_view content) {
  out->push_back(static_cast<char>(tag));
  size_t n = content.size();
  if (n < 0x80) {
    out->push_back(static_cast<char>(n));
  } else {
    std::string len;
    for (; n > 0; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
    out->push_back(static_cast<char>(0x80 | len.size()));
    out->append(len);
  }
  out->append(content);
}

// A non-negative INTEGER's minimal content octets (a leading 0x00 when the top bit is set).
std::string DerUnsigned(uint64_t v) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v != 0);
  if (static_cast<uint8_t>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return bytes;
}

bool HasOu(const crypto::Certificate& cert, std::string_view ou) {
  auto ous = cert.SubjectOrganizationalUnits();
  return std::find(ous.begin(), ous.end(), ou) != ous.end();
}

// Which signer a check is about, so each failure carries its own name.
struct Role {
  const char* malformed;
  const char* untrusted;
  const char* wrong_role;
  const char* what;  // for messages
};
constexpr Role kCreator{"ledger_creator_malformed", "ledger_creator_untrusted", "ledger_creator_not_client", "creator"};
constexpr Role kEndorser{"ledger_endorser_malformed", "ledger_endorser_untrusted", "ledger_endorser_not_peer",
                         "endorser"};
constexpr Role kOrderer{"ledger_orderer_malformed", "ledger_orderer_untrusted", "ledger_orderer_not_orderer",
                        "orderer"};

struct Signer {
  SignerInfo info;
  crypto::Certificate cert;
};

// Issuer of `cert` among the roots (done) or the intermediates (then up again), valid at `at`.
Status Chain(const crypto::Certificate& cert, const std::vector<crypto::Certificate>& intermediates,
             const LedgerTrust& trust, std::chrono::system_clock::time_point at, int depth, const Role& role) {
  for (const auto& root : trust.roots) {
    if (cert.IsIssuedBy(root)) {
      auto st = cert.VerifyIssuedBy(root, at);
      if (!st.ok()) return Denied(role.untrusted, std::string(role.what) + " certificate: " + st.error().message);
      return OkStatus();
    }
  }
  if (depth < kMaxChainDepth) {
    for (const auto& ca : intermediates) {
      if (ca == cert || !ca.IsCa() || !cert.IsIssuedBy(ca)) continue;
      auto st = cert.VerifyIssuedBy(ca, at);
      if (!st.ok()) return Denied(role.untrusted, std::string(role.what) + " certificate: " + st.error().message);
      return Chain(ca, intermediates, trust, at, depth + 1, role);
    }
  }
  return Denied(role.untrusted, std::string(role.what) + " certificate '" + cert.SubjectCommonName() +
                                    "' does not chain to a trusted root");
}

// A serialized msp.SerializedIdentity whose certificate chains to the trust set and carries `ou`.
Result<Signer> ResolveSigner(std::string_view serialized, const std::vector<crypto::Certificate>& intermediates,
                             const LedgerTrust& trust, std::string_view msp_id, Timestamp at, const Role& role,
                             std::initializer_list<std::string_view> ous) {
  msp::SerializedIdentity sid;
  if (serialized.empty() || !ParseBytes(&sid, serialized)) {
    return Malformed(role.malformed, std::string(role.what) + " is not an msp.SerializedIdentity");
  }
  if (sid.id_bytes().size() > kMaxEvidenceFieldBytes) {
    return Malformed(role.malformed, std::string(role.what) + " certificate is too large");
  }
  auto cert = crypto::Certificate::FromPem(sid.id_bytes());
  if (!cert.ok()) return Malformed(role.malformed, std::string(role.what) + " certificate does not parse");
  if (!msp_id.empty() && sid.mspid() != msp_id) {
    return Denied(role.untrusted, std::string(role.what) + " belongs to MSP '" + sid.mspid().substr(0, 64) +
                                      "', not '" + std::string(msp_id) + "'");
  }
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(at.seconds));
  ML_RETURN_IF_ERROR(Chain(*cert, intermediates, trust, when, 0, role));
  if (std::none_of(ous.begin(), ous.end(), [&](std::string_view ou) { return HasOu(*cert, ou); })) {
    return Denied(role.wrong_role, std::string(role.what) + " certificate '" + cert->SubjectCommonName() +
                                       "' lacks the organisational unit of its role");
  }
  Signer out{{sid.mspid(), cert->SubjectCommonName(), cert->SubjectOrganizationalUnits(), sid.id_bytes()}, *cert};
  return out;
}

}  // namespace

namespace {

Error BadField(const std::string& field, const std::string& why) {
  return Malformed("ledger_evidence_malformed", "ledger." + field + " " + why);
}

Result<std::string> StringField(const nlohmann::json& j, const std::string& field, size_t max) {
  auto it = j.find(field);
  if (it == j.end()) return BadField(field, "is missing");
  if (!it->is_string()) return BadField(field, "is not a string");
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > max) return BadField(field, "exceeds its bound");
  return text;
}

Result<std::string> Base64Field(const nlohmann::json& j, const std::string& field, size_t max_bytes) {
  ML_ASSIGN_OR_RETURN(std::string text, StringField(j, field, (max_bytes + 2) / 3 * 4));
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) return BadField(field, "is not base64");
  if (bytes->empty()) return BadField(field, "is empty");
  return std::move(bytes).value();
}

}  // namespace

Result<LedgerEvidence> LedgerEvidenceFromJson(const nlohmann::json& j) {
  static constexpr std::string_view kFields[] = {"channel",     "txId",           "blockNumber",        "envelope",
                                                 "blockHeader", "blockSignature", "blockMetadataValue", "certificates"};
  if (!j.is_object()) return Malformed("ledger_evidence_malformed", "ledger is not an object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields)) {
      return BadField(key.substr(0, 64), "is not a field of the format");
    }
  }
  LedgerEvidence ev;
  ML_ASSIGN_OR_RETURN(ev.channel, StringField(j, "channel", 256));
  ML_ASSIGN_OR_RETURN(ev.tx_id, StringField(j, "txId", 256));
  auto number = j.find("blockNumber");
  if (number == j.end()) return BadField("blockNumber", "is missing");
  if (!number->is_number_unsigned() && !(number->is_number_integer() && number->get<int64_t>() >= 0)) {
    return BadField("blockNumber", "is not a non-negative integer");
  }
  ev.block_number = number->get<uint64_t>();
  ML_ASSIGN_OR_RETURN(ev.envelope, Base64Field(j, "envelope", kMaxEnvelopeBytes));
  ML_ASSIGN_OR_RETURN(ev.block_header, Base64Field(j, "blockHeader", kMaxEvidenceFieldBytes));
  ML_ASSIGN_OR_RETURN(ev.block_signature, Base64Field(j, "blockSignature", kMaxEvidenceFieldBytes));
  ML_ASSIGN_OR_RETURN(ev.block_metadata_value, Base64Field(j, "blockMetadataValue", kMaxEvidenceFieldBytes));
  auto certs = j.find("certificates");
  if (certs != j.end()) {
    if (!certs->is_array()) return BadField("certificates", "is not an array");
    if (certs->size() > kMaxCertificates) return BadField("certificates", "lists too many certificates");
    for (const auto& pem : *certs) {
      if (!pem.is_string() || pem.get_ref<const std::string&>().size() > kMaxEvidenceFieldBytes) {
        return BadField("certificates", "holds something other than a bounded PEM string");
      }
      ev.certificate_pems.push_back(pem.get<std::string>());
    }
  }
  return ev;
}

nlohmann::json LedgerEvidenceToJson(const LedgerEvidence& ev) {
  return nlohmann::json{{"channel", ev.channel},
                        {"txId", ev.tx_id},
                        {"blockNumber", ev.block_number},
                        {"envelope", Base64Encode(ev.envelope)},
                        {"blockHeader", Base64Encode(ev.block_header)},
                        {"blockSignature", Base64Encode(ev.block_signature)},
                        {"blockMetadataValue", Base64Encode(ev.block_metadata_value)},
                        {"certificates", ev.certificate_pems}};
}

Result<LedgerTrust> LedgerTrust::FromPem(std::string_view pem, std::string msp_id) {
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  LedgerTrust trust;
  trust.msp_id = std::move(msp_id);
  for (size_t at = 0; (at = pem.find("-----BEGIN CERTIFICATE-----", at)) != std::string_view::npos;) {
    size_t end = pem.find(kEnd, at);
    if (end == std::string_view::npos) break;
    auto cert = crypto::Certificate::FromPem(pem.substr(at, end + kEnd.size() - at));
    if (cert.ok()) trust.roots.push_back(std::move(cert).value());
    at = end + kEnd.size();
  }
  if (trust.roots.empty()) {
    return Malformed("ledger_no_trusted_roots", "no certificate in the organisation's trusted roots");
  }
  return trust;
}

std::string BlockHeaderAsn1(uint64_t number, std::string_view previous_hash, std::string_view data_hash) {
  std::string body;
  PutDer(&body, 0x02, DerUnsigned(number));
  PutDer(&body, 0x04, previous_hash);
  PutDer(&body, 0x04, data_hash);
  std::string out;
  PutDer(&out, 0x30, body);
  return out;
}

Result<BlockSignatureParts> SplitSignaturesMetadata(std::string_view serialized_metadata) {
  common::Metadata md;
  if (serialized_metadata.size() > kMaxEvidenceFieldBytes || !ParseBytes(&md, serialized_metadata) ||
      md.signatures_size() == 0) {
    return Malformed("ledger_block_signature_malformed", "not a common.Metadata with a signature");
  }
  return BlockSignatureParts{md.value(), md.signatures(0).SerializeAsString()};
}

namespace {

Result<std::vector<crypto::Certificate>> Intermediates(const std::vector<std::string>& pems) {
  if (pems.size() > kMaxCertificates) {
    return MakeError(ErrorKind::kTooLarge, "ledger_evidence_too_large", "too many certificates");
  }
  std::vector<crypto::Certificate> out;
  for (const auto& pem : pems) {
    if (pem.size() > kMaxEvidenceFieldBytes) {
      return MakeError(ErrorKind::kTooLarge, "ledger_evidence_too_large", "a certificate exceeds its bound");
    }
    auto cert = crypto::Certificate::FromPem(pem);
    if (!cert.ok()) return Malformed("ledger_certificate_malformed", "a listed certificate does not parse");
    out.push_back(std::move(cert).value());
  }
  return out;
}

// The envelope: structure, bindings, creator, endorsements and the endorsed event (every field of the answer
// but the block's). `channel`: the channel the caller was told, or null when it was told none.
Result<VerifiedLedgerEvidence> VerifyEnvelope(std::string_view envelope, const std::string* channel,
                                              std::string_view tx_id,
                                              const std::vector<crypto::Certificate>& intermediates,
                                              const LedgerTrust& trust) {
  if (trust.roots.empty()) return Malformed("ledger_no_trusted_roots", "no trusted root certificate");
  if (envelope.size() > kMaxEnvelopeBytes) {
    return MakeError(ErrorKind::kTooLarge, "ledger_evidence_too_large", "the envelope exceeds its bound");
  }
  common::Envelope env;
  common::Payload payload;
  common::ChannelHeader ch;
  common::SignatureHeader sh;
  if (envelope.empty() || !ParseBytes(&env, envelope) || !ParseBytes(&payload, env.payload()) ||
      !payload.has_header() || !ParseBytes(&ch, payload.header().channel_header()) ||
      !ParseBytes(&sh, payload.header().signature_header())) {
    return Malformed("ledger_envelope_malformed", "the envelope, its payload or its headers do not parse");
  }
  if (ch.type() != common::ENDORSER_TRANSACTION) {
    return Malformed("ledger_not_endorser_transaction", "the envelope is not an endorser transaction");
  }
  if (channel != nullptr && ch.channel_id() != *channel) {
    return Broken("ledger_channel_mismatch", "the envelope is for another channel than the receipt says");
  }
  if (ch.tx_id() != tx_id) {
    return Broken("ledger_tx_id_mismatch", "the envelope's transaction ID is not the one claimed");
  }
  if (HexEncode(crypto::Sha256(sh.nonce() + sh.creator())) != ch.tx_id()) {
    return Broken("ledger_tx_id_mismatch", "the transaction ID is not SHA-256(nonce || creator)");
  }
  // The certificate checks run at this time, as a system_clock time_point (nanoseconds in 64 bits: about
  // 1678 to 2262). A timestamp outside that range is no transaction time; converting it would overflow.
  constexpr int64_t kMaxSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count() - 1;
  if (ch.timestamp().seconds() < -kMaxSeconds || ch.timestamp().seconds() > kMaxSeconds || ch.timestamp().nanos() < 0 ||
      ch.timestamp().nanos() > 999999999) {
    return Malformed("ledger_envelope_malformed", "the channel header's timestamp is out of range");
  }
  const Timestamp at{ch.timestamp().seconds(), ch.timestamp().nanos()};
  ML_ASSIGN_OR_RETURN(Signer creator, ResolveSigner(sh.creator(), intermediates, trust, trust.msp_id, at, kCreator,
                                                    {"client", "admin"}));
  // EcPublicKey::Verify accepts only DER, low-S ECDSA P-256 over SHA-256.
  if (!creator.cert.PublicKey().Verify(env.payload(), env.signature())) {
    return Broken("ledger_creator_signature", "the creator's signature over the envelope does not verify");
  }

  // --- The endorsed action.
  protos::Transaction tx;
  protos::ChaincodeActionPayload cap;
  if (!ParseBytes(&tx, payload.data()) || tx.actions_size() != 1 ||
      tx.actions(0).header() != payload.header().signature_header() || !ParseBytes(&cap, tx.actions(0).payload()) ||
      !cap.has_action()) {
    return Malformed("ledger_envelope_malformed", "not one endorsed action signed by the envelope's creator");
  }
  protos::ProposalResponsePayload prp;
  protos::ChaincodeAction action;
  if (!ParseBytes(&prp, cap.action().proposal_response_payload()) || !ParseBytes(&action, prp.extension())) {
    return Malformed("ledger_envelope_malformed", "the proposal response payload does not parse");
  }
  // The endorsement binds the proposal (channel header, signature header, chaincode input) by its hash.
  crypto::Sha256Hasher proposal_hash;
  proposal_hash.Update(payload.header().channel_header());
  proposal_hash.Update(payload.header().signature_header());
  proposal_hash.Update(cap.chaincode_proposal_payload());
  if (proposal_hash.Finish() != prp.proposal_hash()) {
    return Broken("ledger_proposal_hash_mismatch", "the endorsements were made for another proposal");
  }
  const auto& endorsements = cap.action().endorsements();
  if (endorsements.empty()) return Broken("ledger_no_endorsement", "the transaction carries no endorsement");
  if (endorsements.size() > static_cast<int>(kMaxEndorsements)) {
    return MakeError(ErrorKind::kTooLarge, "ledger_evidence_too_large", "too many endorsements");
  }
  VerifiedLedgerEvidence out;
  for (const auto& e : endorsements) {
    ML_ASSIGN_OR_RETURN(Signer endorser,
                        ResolveSigner(e.endorser(), intermediates, trust, trust.msp_id, at, kEndorser, {"peer"}));
    if (!endorser.cert.PublicKey().Verify(cap.action().proposal_response_payload() + e.endorser(), e.signature())) {
      return Broken("ledger_endorsement_signature",
                    "the endorsement of '" + endorser.info.common_name + "' does not verify");
    }
    out.endorsers.push_back(std::move(endorser.info));
  }
  out.chaincode = action.chaincode_id().name();
  out.response_status = action.response().status();
  // Fabric's peers neither endorse nor validate a response of status 400 or more (shim.ERRORTHRESHOLD, the
  // same rule as ParseEndorserTransaction): such a transaction is never a committed, valid one.
  if (out.response_status >= 400) {
    return Broken("ledger_response_error",
                  "the endorsed response has error status " + std::to_string(out.response_status));
  }
  if (!action.events().empty()) {
    protos::ChaincodeEvent event;
    if (!ParseBytes(&event, action.events())) {
      return Malformed("ledger_event_malformed", "the endorsed chaincode event does not parse");
    }
    if (event.tx_id() != ch.tx_id() || event.chaincode_id() != out.chaincode) {
      return Broken("ledger_event_mismatch", "the chaincode event names another transaction or chaincode");
    }
    out.event = ChaincodeEventInfo{event.chaincode_id(), event.event_name(), event.payload()};
  }
  out.tx_id = ch.tx_id();
  out.channel = ch.channel_id();
  out.timestamp = at;
  out.creator = std::move(creator.info);
  return out;
}

}  // namespace

Result<VerifiedLedgerEvidence> VerifyTransactionEnvelope(std::string_view envelope, std::string_view tx_id,
                                                         const std::vector<std::string>& certificate_pems,
                                                         const LedgerTrust& trust) {
  ML_ASSIGN_OR_RETURN(auto intermediates, Intermediates(certificate_pems));
  return VerifyEnvelope(envelope, nullptr, tx_id, intermediates, trust);
}

Result<VerifiedLedgerEvidence> VerifyLedgerEvidence(const LedgerEvidence& ev, const LedgerTrust& trust) {
  if (trust.roots.empty()) return Malformed("ledger_no_trusted_roots", "no trusted root certificate");
  if (ev.envelope.size() > kMaxEnvelopeBytes || ev.block_header.size() > kMaxEvidenceFieldBytes ||
      ev.block_signature.size() > kMaxEvidenceFieldBytes || ev.block_metadata_value.size() > kMaxEvidenceFieldBytes ||
      ev.certificate_pems.size() > kMaxCertificates) {
    return MakeError(ErrorKind::kTooLarge, "ledger_evidence_too_large", "the ledger evidence exceeds its bounds");
  }
  ML_ASSIGN_OR_RETURN(auto intermediates, Intermediates(ev.certificate_pems));
  ML_ASSIGN_OR_RETURN(VerifiedLedgerEvidence out,
                      VerifyEnvelope(ev.envelope, &ev.channel, ev.tx_id, intermediates, trust));
  const Timestamp at = out.timestamp;

  // --- The block header and the orderer's signature over it.
  common::BlockHeader header;
  if (ev.block_header.empty() || !ParseBytes(&header, ev.block_header)) {
    return Malformed("ledger_block_header_malformed", "the block header does not parse");
  }
  if (header.number() != ev.block_number) {
    return Broken("ledger_block_number_mismatch", "the block header's number is " + std::to_string(header.number()) +
                                                      ", the receipt says " + std::to_string(ev.block_number));
  }
  common::MetadataSignature signature;
  common::SignatureHeader orderer_sh;
  if (ev.block_signature.empty() || !ParseBytes(&signature, ev.block_signature) ||
      signature.signature_header().empty() || !ParseBytes(&orderer_sh, signature.signature_header())) {
    return Malformed("ledger_block_signature_malformed", "the block signature does not parse");
  }
  ML_ASSIGN_OR_RETURN(Signer orderer, ResolveSigner(orderer_sh.creator(), intermediates, trust,
                                                    trust.orderer_msp_id.empty() ? trust.msp_id : trust.orderer_msp_id,
                                                    at, kOrderer, {"orderer"}));
  const std::string signed_bytes = ev.block_metadata_value + signature.signature_header() +
                                   BlockHeaderAsn1(header.number(), header.previous_hash(), header.data_hash());
  if (!orderer.cert.PublicKey().Verify(signed_bytes, signature.signature())) {
    return Broken("ledger_orderer_signature", "the orderer's signature over the block header does not verify");
  }

  out.block_number = header.number();
  out.block_previous_hash = header.previous_hash();
  out.block_data_hash = header.data_hash();
  out.orderer = std::move(orderer.info);
  return out;
}

}  // namespace medledger::receipt
