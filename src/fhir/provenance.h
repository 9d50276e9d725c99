// Provenance (docs/FHIR.md, "Provenance"): one per report version, built from the version's ledger record and
// the transaction that wrote it. Its `signature` is the transaction's Fabric envelope (an enveloping
// signature: the signed bytes and the signatures over them), so a verifier holding only the organisation's
// root certificate checks it offline (verifier::VerifyProvenanceSignature). Pure functions; none throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace medledger::fhir {

// What sigFormat/targetFormat name: data is a serialized common.Envelope (Fabric's signed transaction) whose
// endorsements sign `ProposalResponsePayload || endorser` (targetFormat) and whose creator signs its payload.
inline constexpr const char* kEnvelopeSigFormat = "application/vnd.hyperledger.fabric.envelope+protobuf";
inline constexpr const char* kEndorsedTargetFormat = "application/vnd.hyperledger.fabric.proposal-response+protobuf";
// Entity identifier system of the ledger transaction ID.
inline constexpr const char* kLedgerTxSystem = "urn:medledger:ledger:tx";
// ASTM E1762-95 "Verification Signature": the endorsing peer attests the transaction's result.
inline constexpr const char* kSignatureTypeSystem = "urn:iso-astm:E1762-95:2013";
inline constexpr const char* kVerificationSignature = "1.2.840.10065.1.12.1.5";

struct ProvenanceInput {
  nlohmann::json version;  // the history item: reportId, version, patientId, author, authorMsp, updatedAt, txId
  std::string envelope;    // the transaction's serialized common.Envelope
  std::string recorded;    // the transaction's ledger time (RFC 3339)
  std::string endorser_msp;
  std::string endorser_name;  // the endorsing peer's certificate common name
  std::string home_msp;       // this server's organisation, for authors without one
  std::string receipt_url;    // the receipt route of the JSON API for this version
};

// "<reportId>-v<version>".
std::string ProvenanceId(std::string_view report_id, int64_t version);
// The inverse of ProvenanceId; nullopt when `id` is not one.
struct ProvenanceKey {
  std::string report_id;
  int64_t version = 0;
};
std::optional<ProvenanceKey> ParseProvenanceId(std::string_view id);

nlohmann::json ReportProvenance(const ProvenanceInput& in);

}  // namespace medledger::fhir
