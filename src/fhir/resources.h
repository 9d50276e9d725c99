// FHIR R4 resources as pure functions over parsed JSON (docs/FHIR.md, "Resources"): a DiagnosticReport in (a
// create), the stored report out as a DiagnosticReport (a read's full form, a search's SUBSETTED form), Patient,
// OperationOutcome and Bundle. None of them throws, whatever shape the JSON has: every member is type-checked
// before it is read, and a wrong type is an issue naming its FHIRPath.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "service/records_service.h"
#include "service/report_validation.h"

namespace medledger::fhir {

inline constexpr const char* kFhirJson = "application/fhir+json";

// A DiagnosticReport create: subject.reference "Patient/<id>", code.text (title), conclusion (diagnosis),
// presentedForm[0].data (base64 content). Problems are appended to `issues` with FHIRPath fields
// ("DiagnosticReport.code.text"); the input is meaningful only when none were added.
service::ReportInput DiagnosticReportToInput(const nlohmann::json& resource, std::vector<service::FieldIssue>* issues);

// The report API's field name ("title", "attachments[0].data") as the FHIRPath of the DiagnosticReport member
// it came from; a name that is already a FHIRPath (starts with a resource type) is returned as is, other names
// prefixed with "DiagnosticReport.".
std::string ExpressionFor(std::string_view api_field);

// The stored report's JSON (RecordsService::ReportView::json) as a full DiagnosticReport. `attachments` are the
// decrypted attachments (content type, bytes) in the order of the JSON's `attachments` metadata. `home_msp` is
// this server's organisation, for authors without one in their ID. Missing or mistyped members become empty
// values rather than exceptions.
nlohmann::json ReportToDiagnosticReport(const nlohmann::json& report,
                                        const std::vector<std::pair<std::string, std::string>>& attachments,
                                        const std::string& home_msp);

// A report's ledger record as the contract's index knows it (a list item or a history version: reportId,
// version, patientId, author, createdAt, updatedAt, cid) as a DiagnosticReport tagged SUBSETTED: no title,
// conclusion or content, which only a recorded read gives.
nlohmann::json IndexEntryToDiagnosticReport(const nlohmann::json& entry, const std::string& home_msp);

nlohmann::json PatientToFhir(const service::PatientView& patient);

// One OperationOutcome issue: `type` from FHIR's IssueType value set, `code` our stable machine code (kept in
// details.coding), `expression` a FHIRPath or "".
nlohmann::json OutcomeIssue(const std::string& type, const std::string& code, const std::string& diagnostics,
                            const std::string& expression, const std::string& severity = "error");
nlohmann::json OperationOutcome(nlohmann::json issues);

// A problem+json body (docs/API.md) and its HTTP status as an OperationOutcome: one issue per field error or one
// for the whole problem.
nlohmann::json OperationOutcomeFromProblem(const nlohmann::json& problem, int status);
const char* IssueTypeForStatus(int status);

struct BundleLink {
  std::string relation;  // "self", "next"
  std::string url;
};

struct BundleEntry {
  nlohmann::json resource;
  std::string full_url;
  std::string mode;  // searchset: "match" | "include"; history: ""
};

// A searchset Bundle; `total` < 0 leaves `total` out (not known without walking further).
nlohmann::json SearchsetBundle(const std::vector<BundleEntry>& entries, const std::vector<BundleLink>& links,
                               int64_t total);
// A history Bundle: each entry carries request (method, url) and response (status, lastModified, etag).
nlohmann::json HistoryBundle(const std::string& base, const std::vector<nlohmann::json>& versions, int64_t total);

}  // namespace medledger::fhir
