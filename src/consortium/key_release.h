// The cross-hospital key release (docs/CONSORTIUM.md, "POST /peer/v1/keys/release"): the request and answer
// codecs, the decoding of the access transaction the holder reads from its own peer, the checks of steps 1-5
// as pure functions of that transaction and of ledger facts the caller looks up, and the HPKE wrapping of the
// data key. The server wires them in; nothing here talks to a peer, a key store or the network.
//
// The holder's order of work:
//   caller  = MemberForClientCertificate(config, request.peer_certificates_pem, now); CheckCaller(config, caller)
//   request = ParseReleaseRequest(body)
//   tx      = ParseProcessedTransaction(qscc GetTransactionByID(request.access_tx_id))  (absent: 404
//             access_tx_not_found)
//   summary = SummarizeAccess(tx)             -> look up the consents of (summary.patient_ref, summary.doctor)
//                                                and the emergency grants of (summary.report_id, summary.doctor)
//   CheckAccessForRelease(tx, request, caller, now, facts)
//   replay (key_already_released) and the key itself (version_not_found, key_destroyed) from the ledger/keystore
//   RecordKeyRelease, wait for its commit, then SealDataKey(key, request, release_tx_id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "consortium/consortium_config.h"
#include "crypto/hpke.h"

namespace medledger::consortium {

inline constexpr std::string_view kReleaseInfo = "medledger key release v1";
inline constexpr std::string_view kRecordsChaincode = "records";
inline constexpr std::string_view kRecordAccessFunction = "RecordAccess";
inline constexpr int64_t kMaxAccessAgeSeconds = 10 * 60;
// A transaction's timestamp is its creator's clock: one from further ahead than this is refused, since it
// would stretch the 10-minute window (and the contract judged consent at that time).
inline constexpr int64_t kMaxClockSkewSeconds = 60;
inline constexpr size_t kMaxRequestBytes = 4 * 1024;
inline constexpr size_t kMaxResponseBytes = 4 * 1024;
inline constexpr size_t kDataKeySize = 32;
inline constexpr int kTxValid = 0;  // Fabric's TxValidationCode VALID

// ---- wire formats ----

struct ReleaseRequest {
  std::string access_tx_id;   // 64 lowercase hex
  std::string report_id;      // [A-Za-z0-9._:-]{1,128}
  int64_t version = 0;        // 1..2^31-1
  std::string recipient_key;  // 65 bytes, a P-256 point (validated)
};

// Strict: a JSON object with exactly these fields. kInvalidArgument "malformed_json", "unknown_field",
// "missing_field", "invalid_field" (message names the field), "invalid_recipient_key"; kTooLarge
// "body_too_large" over kMaxRequestBytes.
Result<ReleaseRequest> ParseReleaseRequest(std::string_view body);
std::string SerializeReleaseRequest(const ReleaseRequest& request);

struct ReleaseResponse {
  std::string release_tx_id;  // 64 lowercase hex
  std::string key_id;         // [A-Za-z0-9._:-]{1,128}
  std::string enc;            // 65 bytes
  std::string ciphertext;     // 48 bytes: the sealed 32-byte key and the tag
};

// Same strictness and codes; "invalid_field" for an enc or ciphertext of the wrong size. "malformed_response"
// replaces "malformed_json" (the requester reads this from the holder).
Result<ReleaseResponse> ParseReleaseResponse(std::string_view body);
std::string SerializeReleaseResponse(const ReleaseResponse& response);

// ---- the access transaction ----

struct AccessTransaction {
  std::string tx_id;
  std::string channel;
  int32_t header_type = -1;  // common.HeaderType; 3 = ENDORSER_TRANSACTION
  Timestamp timestamp;       // the channel header's: the contract's clock for this transaction
  std::string creator_msp;
  std::string creator_cert_pem;
  std::string chaincode;         // the invoked chaincode (the proposal's ChaincodeSpec)
  std::string action_chaincode;  // the chaincode whose endorsed action this is (ChaincodeAction.chaincode_id)
  std::string function;          // ChaincodeInput.args[0]
  std::string argument;          // ChaincodeInput.args[1] (JSON text), "" if absent
  int32_t response_status = 0;
  std::string response_payload;
  int validation_code = -1;  // TxValidationCode
};

// Decodes a serialized common.Envelope as the holder's peer returned it, with its validation code. A
// validation code other than VALID is 409 "access_tx_invalid" (kConflict), before anything else; an envelope
// that does not decode is "access_tx_malformed" (kCorruption). Transactions that are no endorser transaction
// decode with header_type set and no chaincode fields (CheckAccessForRelease refuses them).
Result<AccessTransaction> ParseAccessTransaction(std::string_view envelope, int validation_code);
// The same from a serialized protos.ProcessedTransaction (what qscc GetTransactionByID returns).
Result<AccessTransaction> ParseProcessedTransaction(std::string_view processed_transaction);

// What an access transaction says, read without judging it yet: who read (the creator's caller ID), as what,
// which report of which patient, and on what basis. "access_mismatch" (kPermissionDenied) when it is no
// RecordAccess of `chaincode` (the channel's records contract, FabricConfig::chaincode) that succeeded, or its
// creator or answer cannot be read.
struct AccessSummary {
  std::string doctor;  // "<mspId>/<CN>", as the contract names the caller
  std::string role;    // the certificate's Fabric CA "role" attribute
  std::string report_id;
  std::string patient_ref;
  int64_t head_version = 0;  // the report's version when it was read
  std::string basis;         // "consent", "emergency", "author", ...
  bool emergency = false;
};
Result<AccessSummary> SummarizeAccess(const AccessTransaction& tx, std::string_view chaincode = kRecordsChaincode);

// ---- the checks ----

// Ledger facts the holder reads on its own peer, for the patient and doctor of SummarizeAccess.
struct ConsentFact {
  std::string patient_ref;
  std::string doctor;  // caller ID
  Timestamp created;
  Timestamp expires_at;
  std::optional<Timestamp> revoked_at;
};
struct EmergencyFact {
  std::string doctor;
  std::string report_id;
  Timestamp granted_at;
  Timestamp expires_at;
};
struct ConsentFacts {
  std::vector<ConsentFact> consents;
  std::vector<EmergencyFact> emergencies;
};

// Step 1: the caller is a member and not the holder itself ("not_a_member", kPermissionDenied).
Status CheckCaller(const ConsortiumConfig& config, std::string_view caller_msp);

// Steps 2-5 (the replay half of step 5 needs the ledger and stays with the caller):
//   2. VALID, else 409 "access_tx_invalid";
//   3. an endorser transaction of `records`, function RecordAccess, for request.report_id, answered 200, of a
//      version the report had then; its creator's MSP ID is caller_msp and its certificate's role is doctor
//      (403 "access_mismatch");
//   4. basis consent or emergency, and a consent of the report's patient naming the creator was active at the
//      transaction's time, or an emergency grant for the creator and the report was (403 "no_consent");
//   5. at most kMaxAccessAgeSeconds old at `now`, and not from the future (403 "access_expired").
Status CheckAccessForRelease(const AccessTransaction& tx, const ReleaseRequest& request, std::string_view caller_msp,
                             Timestamp now, const ConsentFacts& facts, std::string_view chaincode = kRecordsChaincode);

// ---- the key ----

// accessTxId "\n" reportId "\n" version "\n" releaseTxId: binds the sealed key to one release of one version.
std::string ReleaseAad(const ReleaseRequest& request, std::string_view release_tx_id);
// Seals a 32-byte data key to request.recipient_key ("bad_key_size" for another length).
Result<crypto::hpke::Sealed> SealDataKey(std::string_view data_key, const ReleaseRequest& request,
                                         std::string_view release_tx_id);
// The requester's side: opens the answer with the ephemeral key it made for `request`. "decrypt_failed"
// for an answer sealed to another key, request or release.
Result<std::string> OpenDataKey(const crypto::hpke::PrivateKey& recipient, const ReleaseRequest& request,
                                const ReleaseResponse& response);

}  // namespace medledger::consortium
