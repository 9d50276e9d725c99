#include "consortium/key_release.h"

#include <set>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "crypto/x509.h"
#include "reportlog/wire.h"

namespace medledger::consortium {
namespace {

using json = nlohmann::json;
namespace wire = reportlog::wire;

constexpr size_t kMaxEnvelopeBytes = 16 * 1024 * 1024;
constexpr int64_t kMaxVersion = 2147483647;
constexpr uint64_t kEndorserTransaction = 3;  // common.HeaderType.ENDORSER_TRANSACTION

Error Invalid(std::string code, std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, std::move(code), std::move(why));
}
Error Mismatch(std::string why) {
  return MakeError(ErrorKind::kPermissionDenied, "access_mismatch", std::move(why));
}
Error NoConsent(std::string why) {
  return MakeError(ErrorKind::kPermissionDenied, "no_consent", std::move(why));
}
Error Malformed(std::string why) {
  return MakeError(ErrorKind::kCorruption, "access_tx_malformed", std::move(why));
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == s.npos;
}

// A JSON object with exactly `fields`: unknown ones and missing ones are both refused.
Result<json> StrictObject(std::string_view body, size_t max_bytes, const std::set<std::string, std::less<>>& fields,
                          const char* malformed_code) {
  if (body.size() > max_bytes) {
    return MakeError(ErrorKind::kTooLarge, "body_too_large",
                     "the body exceeds " + std::to_string(max_bytes) + " bytes");
  }
  auto parsed = ParseStrictJson(body, StrictJsonOptions{2});
  if (!parsed.ok()) return Invalid(malformed_code, parsed.error().message);
  if (!parsed->is_object()) return Invalid(malformed_code, "the body must be a JSON object");
  for (const auto& [key, value] : parsed->items()) {
    if (!fields.count(key)) return Invalid("unknown_field", "unknown field \"" + key.substr(0, 64) + "\"");
  }
  for (const auto& f : fields) {
    if (!parsed->contains(f)) return Invalid("missing_field", "\"" + f + "\" is required");
  }
  return std::move(parsed).value();
}

Result<std::string> StringField(const json& j, const char* name, bool (*valid)(std::string_view), const char* what) {
  const json& v = j.at(name);
  if (!v.is_string() || !valid(v.get_ref<const std::string&>())) {
    return Invalid("invalid_field", std::string("\"") + name + "\" must be " + what);
  }
  return v.get<std::string>();
}

// Canonical unpadded base64url only, so one value has one spelling.
Result<std::string> Base64UrlField(const json& j, const char* name, size_t size, const char* code) {
  const json& v = j.at(name);
  auto bad = [&] {
    return Invalid(code, std::string("\"") + name + "\" must be " + std::to_string(size) + " bytes in base64url");
  };
  if (!v.is_string()) return bad();
  const std::string& text = v.get_ref<const std::string&>();
  if (text.size() > 4 * size) return bad();
  auto raw = Base64UrlDecode(text);
  if (!raw.ok() || raw->size() != size || Base64UrlEncode(*raw) != text) return bad();
  return std::move(raw).value();
}

// Reads the fields of an endorser transaction's single action. Field numbers are those of fabric-protos:
// Transaction.actions=1; TransactionAction.payload=2; ChaincodeActionPayload{chaincode_proposal_payload=1,
// action=2}; ChaincodeProposalPayload.input=1; ChaincodeInvocationSpec.chaincode_spec=1;
// ChaincodeSpec{chaincode_id=2, input=3}; ChaincodeID.name=2; ChaincodeInput.args=1;
// ChaincodeEndorsedAction.proposal_response_payload=1; ProposalResponsePayload.extension=2;
// ChaincodeAction{response=3, chaincode_id=4}; Response{status=1, payload=3}.
Status ReadEndorserAction(std::string_view data, AccessTransaction& out) {
  std::vector<std::string_view> actions;
  if (!wire::Repeated(data, 1, &actions)) return Malformed("the transaction does not parse");
  if (actions.size() != 1) return Malformed("not one transaction action");
  std::string_view action_payload, proposal_payload, endorsed, input, spec, cc_id, cc_name, cc_input;
  std::string endorsed_storage, spec_storage, cc_id_storage, cc_input_storage;
  if (!wire::Bytes(actions[0], 2, &action_payload) || !wire::Bytes(action_payload, 1, &proposal_payload) ||
      !wire::Message(action_payload, 2, &endorsed, &endorsed_storage) || !wire::Bytes(proposal_payload, 1, &input) ||
      !wire::Message(input, 1, &spec, &spec_storage) || !wire::Message(spec, 2, &cc_id, &cc_id_storage) ||
      !wire::Bytes(cc_id, 2, &cc_name) || !wire::Message(spec, 3, &cc_input, &cc_input_storage)) {
    return Malformed("the chaincode proposal payload does not parse");
  }
  std::vector<std::string_view> args;
  if (!wire::Repeated(cc_input, 1, &args)) return Malformed("the chaincode input does not parse");
  out.chaincode = std::string(cc_name);
  if (!args.empty()) out.function = std::string(args[0]);
  if (args.size() > 1) out.argument = std::string(args[1]);

  std::string_view prp, extension, response, action_cc_id, action_cc_name, payload;
  std::string response_storage, action_cc_storage;
  uint64_t status = 0;
  if (!wire::Bytes(endorsed, 1, &prp) || !wire::Bytes(prp, 2, &extension) ||
      !wire::Message(extension, 3, &response, &response_storage) ||
      !wire::Message(extension, 4, &action_cc_id, &action_cc_storage) ||
      !wire::Bytes(action_cc_id, 2, &action_cc_name) || !wire::Varint(response, 1, &status) ||
      !wire::Bytes(response, 3, &payload)) {
    return Malformed("the endorsed chaincode action does not parse");
  }
  out.action_chaincode = std::string(action_cc_name);
  out.response_status = static_cast<int32_t>(status);  // int32 on the wire: negatives are sign-extended
  out.response_payload = std::string(payload);
  return OkStatus();
}

std::string RoleOf(const crypto::Certificate& cert) {
  auto attrs = cert.FabricAttributes();
  if (!attrs.ok()) return {};
  auto it = attrs->find("role");
  return it == attrs->end() ? std::string() : it->second;
}

bool ActiveAt(Timestamp from, Timestamp until, Timestamp t) {
  return from <= t && t < until;
}

}  // namespace

// ---- wire formats ----

Result<ReleaseRequest> ParseReleaseRequest(std::string_view body) {
  ML_ASSIGN_OR_RETURN(json j, StrictObject(body, kMaxRequestBytes,
                                           {"accessTxId", "reportId", "version", "recipientKey"}, "malformed_json"));
  ReleaseRequest r;
  ML_ASSIGN_OR_RETURN(r.access_tx_id, StringField(j, "accessTxId", IsHex64, "a transaction ID (64 lowercase hex)"));
  ML_ASSIGN_OR_RETURN(r.report_id, StringField(j, "reportId", IsIdentifier, "a report ID [A-Za-z0-9._:-]{1,128}"));
  const json& v = j.at("version");
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxVersion) {
    return Invalid("invalid_field", "\"version\" must be an integer from 1 to 2^31-1");
  }
  r.version = v.get<int64_t>();
  ML_ASSIGN_OR_RETURN(r.recipient_key,
                      Base64UrlField(j, "recipientKey", crypto::hpke::kPublicKeySize, "invalid_recipient_key"));
  if (!crypto::hpke::PublicKey::FromBytes(r.recipient_key).ok()) {
    return Invalid("invalid_recipient_key", "\"recipientKey\" is not an uncompressed P-256 point");
  }
  return r;
}

std::string SerializeReleaseRequest(const ReleaseRequest& request) {
  return json{{"accessTxId", request.access_tx_id},
              {"reportId", request.report_id},
              {"version", request.version},
              {"recipientKey", Base64UrlEncode(request.recipient_key)}}
      .dump();
}

Result<ReleaseResponse> ParseReleaseResponse(std::string_view body) {
  ML_ASSIGN_OR_RETURN(json j, StrictObject(body, kMaxResponseBytes, {"releaseTxId", "keyId", "enc", "ciphertext"},
                                           "malformed_response"));
  ReleaseResponse r;
  ML_ASSIGN_OR_RETURN(r.release_tx_id, StringField(j, "releaseTxId", IsHex64, "a transaction ID (64 lowercase hex)"));
  ML_ASSIGN_OR_RETURN(r.key_id, StringField(j, "keyId", IsIdentifier, "a key ID [A-Za-z0-9._:-]{1,128}"));
  ML_ASSIGN_OR_RETURN(r.enc, Base64UrlField(j, "enc", crypto::hpke::kEncSize, "invalid_field"));
  ML_ASSIGN_OR_RETURN(r.ciphertext,
                      Base64UrlField(j, "ciphertext", kDataKeySize + crypto::hpke::kTagSize, "invalid_field"));
  return r;
}

std::string SerializeReleaseResponse(const ReleaseResponse& response) {
  return json{{"releaseTxId", response.release_tx_id},
              {"keyId", response.key_id},
              {"enc", Base64UrlEncode(response.enc)},
              {"ciphertext", Base64UrlEncode(response.ciphertext)}}
      .dump();
}

// ---- the access transaction ----

Result<AccessTransaction> ParseAccessTransaction(std::string_view envelope, int validation_code) {
  // The peer's verdict comes first: an invalidated transaction is refused for that, whatever it holds.
  if (validation_code != kTxValid) {
    return MakeError(ErrorKind::kConflict, "access_tx_invalid",
                     "the access transaction was invalidated by the peers (validation code " +
                         std::to_string(validation_code) + ")");
  }
  if (envelope.empty() || envelope.size() > kMaxEnvelopeBytes) return Malformed("no envelope, or an oversized one");
  AccessTransaction out;
  out.validation_code = validation_code;
  // Envelope.payload=1; Payload{header=1, data=2}; Header{channel_header=1, signature_header=2};
  // ChannelHeader{type=1, timestamp=3, channel_id=4, tx_id=5}; Timestamp{seconds=1, nanos=2};
  // SignatureHeader.creator=1; SerializedIdentity{mspid=1, id_bytes=2}.
  std::string_view payload, header, channel_header, signature_header, data, timestamp, channel, tx_id, creator, msp,
      cert;
  std::string header_storage, timestamp_storage;
  uint64_t type = 0, seconds = 0, nanos = 0;
  if (!wire::Bytes(envelope, 1, &payload) || !wire::Message(payload, 1, &header, &header_storage) ||
      !wire::Bytes(payload, 2, &data) || !wire::Bytes(header, 1, &channel_header) ||
      !wire::Bytes(header, 2, &signature_header) || !wire::Varint(channel_header, 1, &type) ||
      !wire::Message(channel_header, 3, &timestamp, &timestamp_storage) || !wire::Bytes(channel_header, 4, &channel) ||
      !wire::Bytes(channel_header, 5, &tx_id) || !wire::Varint(timestamp, 1, &seconds) ||
      !wire::Varint(timestamp, 2, &nanos) || !wire::Bytes(signature_header, 1, &creator) ||
      !wire::Bytes(creator, 1, &msp) || !wire::Bytes(creator, 2, &cert)) {
    return Malformed("the envelope's header does not parse");
  }
  if (nanos > 999999999) return Malformed("the timestamp's nanoseconds are out of range");
  out.tx_id = std::string(tx_id);
  out.channel = std::string(channel);
  out.header_type = static_cast<int32_t>(type);
  out.timestamp = Timestamp{static_cast<int64_t>(seconds), static_cast<int32_t>(nanos)};
  out.creator_msp = std::string(msp);
  out.creator_cert_pem = std::string(cert);
  if (type != kEndorserTransaction) return out;
  ML_RETURN_IF_ERROR(ReadEndorserAction(data, out));
  return out;
}

Result<AccessTransaction> ParseProcessedTransaction(std::string_view processed_transaction) {
  // ProcessedTransaction{transactionEnvelope=1, validationCode=2}.
  std::string_view envelope;
  std::string storage;
  uint64_t code = 0;
  if (!wire::Message(processed_transaction, 1, &envelope, &storage) || !wire::Varint(processed_transaction, 2, &code)) {
    return Malformed("the processed transaction does not parse");
  }
  if (code > 255) return Malformed("the validation code is out of range");
  return ParseAccessTransaction(envelope, static_cast<int>(code));
}

Result<AccessSummary> SummarizeAccess(const AccessTransaction& tx, std::string_view chaincode) {
  if (tx.header_type != static_cast<int32_t>(kEndorserTransaction)) {
    return Mismatch("the transaction is not an endorser transaction");
  }
  if (tx.chaincode != chaincode || tx.action_chaincode != chaincode) {
    return Mismatch("the transaction is not of the records chaincode");
  }
  if (tx.function != kRecordAccessFunction) return Mismatch("the transaction is not a RecordAccess");
  if (tx.response_status != 200) return Mismatch("the access was not granted by the contract");
  AccessSummary out;
  if (!IsIdentifier(tx.creator_msp)) return Mismatch("the transaction's creator has no valid MSP ID");
  auto cert = crypto::Certificate::FromPem(tx.creator_cert_pem);
  if (!cert.ok()) return Mismatch("the transaction's creator certificate does not parse");
  const std::string cn = cert->SubjectCommonName();
  // The contract's caller ID: "<mspId>/<CN>" with a CN of identifier characters (and '@').
  if (cn.empty() || cn.size() > 128 ||
      cn.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789._:-@") != cn.npos) {
    return Mismatch("the transaction's creator has no valid user name");
  }
  out.doctor = tx.creator_msp + "/" + cn;
  out.role = RoleOf(*cert);

  auto arg = ParseStrictJson(tx.argument);
  auto answer = ParseStrictJson(tx.response_payload);
  if (!arg.ok() || !arg->is_object() || !answer.ok() || !answer->is_object()) {
    return Mismatch("the access transaction's argument or answer is not a JSON object");
  }
  auto text = [](const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string asked = text(*arg, "reportId");
  auto report = answer->find("report");
  if (report == answer->end() || !report->is_object()) return Mismatch("the access answer names no report");
  out.report_id = text(*report, "reportId");
  out.patient_ref = text(*report, "patientRef");
  if (out.report_id.empty() || out.report_id != asked || out.patient_ref.empty()) {
    return Mismatch("the access answer does not name the report it was asked for");
  }
  auto version = report->find("version");
  if (version == report->end() || !version->is_number_integer() || version->get<int64_t>() < 1) {
    return Mismatch("the access answer names no report version");
  }
  out.head_version = version->get<int64_t>();
  out.basis = text(*answer, "basis");
  auto emergency = answer->find("emergency");
  out.emergency = emergency != answer->end() && emergency->is_boolean() && emergency->get<bool>();
  return out;
}

// ---- the checks ----

Status CheckCaller(const ConsortiumConfig& config, std::string_view caller_msp) {
  if (config.Find(caller_msp) == nullptr) {
    return MakeError(ErrorKind::kPermissionDenied, "not_a_member", "the caller is not a consortium member");
  }
  if (caller_msp == config.self) {
    return MakeError(ErrorKind::kPermissionDenied, "not_a_member",
                     "a server does not ask itself for keys: it holds them");
  }
  return OkStatus();
}

Status CheckAccessForRelease(const AccessTransaction& tx, const ReleaseRequest& request, std::string_view caller_msp,
                             Timestamp now, const ConsentFacts& facts, std::string_view chaincode) {
  // 2. Committed and valid.
  if (tx.validation_code != kTxValid) {
    return MakeError(ErrorKind::kConflict, "access_tx_invalid", "the access transaction is not valid");
  }
  // 3. The right kind of transaction, for this report, by a doctor of the caller.
  if (tx.tx_id != request.access_tx_id) return Mismatch("the transaction is not the one the request names");
  ML_ASSIGN_OR_RETURN(AccessSummary access, SummarizeAccess(tx, chaincode));
  if (access.report_id != request.report_id) return Mismatch("the access was to another report");
  if (request.version > access.head_version) {
    return Mismatch("the access preceded version " + std::to_string(request.version) + " of the report");
  }
  if (tx.creator_msp != caller_msp) return Mismatch("the access was made by another organisation");
  if (access.role != "doctor") return Mismatch("the access was not made by a doctor");
  // 4. The contract's basis, re-checked against the holder's own view of consents and grants.
  if (access.basis != "consent" && access.basis != "emergency") {
    return NoConsent("the access rests on neither a consent nor an emergency grant");
  }
  const Timestamp at = tx.timestamp;
  bool covered = false;
  for (const auto& c : facts.consents) {
    if (c.patient_ref != access.patient_ref || c.doctor != access.doctor) continue;
    if (!ActiveAt(c.created, c.expires_at, at)) continue;
    if (c.revoked_at && *c.revoked_at <= at) continue;
    covered = true;
    break;
  }
  for (const auto& e : facts.emergencies) {
    if (covered) break;
    if (e.doctor == access.doctor && e.report_id == access.report_id && ActiveAt(e.granted_at, e.expires_at, at)) {
      covered = true;
    }
  }
  if (!covered) {
    return NoConsent("no consent of the patient or emergency grant covered this doctor at the time of the access");
  }
  // 5. Fresh.
  if (at.seconds > now.seconds + kMaxClockSkewSeconds) {
    return MakeError(ErrorKind::kPermissionDenied, "access_expired",
                     "the access transaction's time is ahead of this server's clock");
  }
  if (now.seconds - at.seconds > kMaxAccessAgeSeconds) {
    return MakeError(ErrorKind::kPermissionDenied, "access_expired",
                     "the access transaction is more than 10 minutes old: record a new access");
  }
  return OkStatus();
}

// ---- the key ----

std::string ReleaseAad(const ReleaseRequest& request, std::string_view release_tx_id) {
  std::string aad = request.access_tx_id;
  aad += '\n';
  aad += request.report_id;
  aad += '\n';
  aad += std::to_string(request.version);
  aad += '\n';
  aad += release_tx_id;
  return aad;
}

Result<crypto::hpke::Sealed> SealDataKey(std::string_view data_key, const ReleaseRequest& request,
                                         std::string_view release_tx_id) {
  if (data_key.size() != kDataKeySize) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_key_size", "a report's data key is 32 bytes");
  }
  ML_ASSIGN_OR_RETURN(crypto::hpke::PublicKey recipient, crypto::hpke::PublicKey::FromBytes(request.recipient_key));
  return crypto::hpke::Seal(recipient, kReleaseInfo, ReleaseAad(request, release_tx_id), data_key);
}

Result<std::string> OpenDataKey(const crypto::hpke::PrivateKey& recipient, const ReleaseRequest& request,
                                const ReleaseResponse& response) {
  ML_ASSIGN_OR_RETURN(std::string key,
                      crypto::hpke::Open(recipient, response.enc, kReleaseInfo,
                                         ReleaseAad(request, response.release_tx_id), response.ciphertext));
  if (key.size() != kDataKeySize) {
    return MakeError(ErrorKind::kCorruption, "bad_key_size", "the released key is not 32 bytes");
  }
  return key;
}

}  // namespace medledger::consortium
