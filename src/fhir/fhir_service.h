// FHIR R4 spoken over RecordsService: every interaction of the /fhir/r4 door as a call that takes the caller's
// principal and parsed parameters and answers FHIR JSON. Each goes through the same RecordsService function the
// JSON API calls, with the same principal, so authorization, consent and recorded reads hold for FHIR exactly as
// for the JSON API. No HTTP here: src/http/api_fhir.cpp parses the request, negotiates the format and writes the
// answer; this class decides what the answer says.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/principal.h"
#include "common/result.h"
#include "fhir/search_params.h"
#include "service/records_service.h"

namespace medledger::fhir {

// Provenances in one answer: each costs a ledger lookup and an envelope check (ECDSA), so a Provenance search, or
// a report search's _revinclude, stops at this many.
inline constexpr size_t kMaxProvenances = 100;

// A resource the service created, with the Location and version the answer carries.
struct Created {
  nlohmann::json resource;
  std::string location;  // server-relative: /fhir/r4/<type>/<id>[/_history/<vid>]
  int64_t version = 0;   // 0: the resource type is not versioned
};

class FhirService {
 public:
  // `home_msp` qualifies this organisation's authors and agents (the MSP ID, "local" without one).
  FhirService(service::RecordsService* records, std::string home_msp);

  // ---- Searches. `q` comes from ParseSearch for the matching resource; `base` is the FHIR base the client
  // addressed (fullUrl and links are built on it). Each answers a searchset Bundle.
  Result<nlohmann::json> SearchReports(const auth::Principal& who, const SearchQuery& q, const std::string& base) const;
  Result<nlohmann::json> SearchPatients(const auth::Principal& who, const SearchQuery& q,
                                        const std::string& base) const;
  // BALP AuditEvents from the access trail: an auditor's through AuditEvents (every patient, or `patient`), a
  // patient's through AccessLog (their own). `agent`, `type`, `subtype` and `date` filter the page the service
  // returns, so a page may hold fewer than _count entries and still carry `next`.
  Result<nlohmann::json> SearchAuditEvents(const auth::Principal& who, const SearchQuery& q,
                                           const std::string& base) const;
  Result<nlohmann::json> SearchConsents(const auth::Principal& who, const SearchQuery& q,
                                        const std::string& base) const;
  Result<nlohmann::json> SearchProvenances(const auth::Principal& who, const SearchQuery& q,
                                           const std::string& base) const;

  // ---- Reads.
  // The current version with its content: a recorded read, as GET /api/v1/reports/{id}.
  Result<nlohmann::json> ReadReport(const auth::Principal& who, const std::string& id) const;
  // One version. The current one is a recorded content read; an earlier one is answered with its ledger
  // metadata (SUBSETTED), because the contract records reads of the current version only.
  Result<nlohmann::json> ReadReportVersion(const auth::Principal& who, const std::string& id, uint64_t version) const;
  // Every version, newest first, as a history Bundle.
  Result<nlohmann::json> ReportHistory(const auth::Principal& who, const std::string& id,
                                       const std::string& base) const;
  Result<nlohmann::json> ReadPatient(const auth::Principal& who, const std::string& id) const;
  Result<nlohmann::json> ReadProvenance(const auth::Principal& who, const std::string& id,
                                        const std::string& base) const;
  // A consent is found among the caller's own grants: only a patient reads a Consent by ID.
  Result<nlohmann::json> ReadConsent(const auth::Principal& who, const std::string& id) const;

  // ---- Writes. `issues` receives the field-level problems (FHIRPath expressions) of a refused body.
  // `idempotency_key` and `body_sha256` are the JSON API's replay protection, unchanged.
  Result<Created> CreateReport(const auth::Principal& who, const nlohmann::json& body,
                               const std::string& idempotency_key, const std::string& body_sha256,
                               std::vector<service::FieldIssue>* issues) const;
  Result<Created> CreateConsent(const auth::Principal& who, const nlohmann::json& body,
                                std::vector<service::FieldIssue>* issues) const;
  // Revocation is the one update of a Consent (status inactive): the grant stays readable, as the ledger keeps
  // it. Answers an informational OperationOutcome.
  Result<nlohmann::json> RevokeConsent(const auth::Principal& who, const std::string& id, const nlohmann::json& body,
                                       std::vector<service::FieldIssue>* issues) const;

 private:
  struct History {
    std::vector<nlohmann::json> versions;  // oldest first
    bool erased = false;
  };
  Result<History> LoadHistory(const auth::Principal& who, const std::string& id) const;
  // Every version's Provenance of one report (or only `only_version`), oldest first, at most `max_versions`;
  // authorized as reading the report's history.
  Result<std::vector<nlohmann::json>> LoadProvenances(const auth::Principal& who, const std::string& report_id,
                                                      std::optional<int64_t> only_version, size_t max_versions,
                                                      const std::string& base) const;
  Result<std::vector<nlohmann::json>> LoadConsents(const auth::Principal& who, const std::string& patient_id) const;
  nlohmann::json VersionResource(const nlohmann::json& version, bool erased) const;

  service::RecordsService* records_;
  std::string msp_;
};

}  // namespace medledger::fhir
