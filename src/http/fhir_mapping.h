// FHIR R4 <-> the report API, as pure functions over parsed JSON: DiagnosticReport in (a create), the stored
// report out as a DiagnosticReport, and errors as an OperationOutcome. None of them throws, whatever shape the
// JSON has: every member is type-checked before it is read, and a wrong type is an issue naming its FHIRPath.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "service/report_validation.h"

namespace medledger::http::fhir {

// A DiagnosticReport create: subject.reference "Patient/<id>", code.text (title), conclusion (diagnosis),
// presentedForm[0].data (base64 content). Problems are appended to `issues` with FHIRPath fields
// ("DiagnosticReport.code.text"); the input is meaningful only when none were added.
service::ReportInput DiagnosticReportToInput(const nlohmann::json& resource, std::vector<service::FieldIssue>* issues);

// The report API's field name ("title", "attachments[0].data") as the FHIRPath of the DiagnosticReport member
// it came from; other names are returned prefixed with "DiagnosticReport.".
std::string ExpressionFor(std::string_view api_field);

// The stored report's JSON (RecordsService::ReportView::json) as a DiagnosticReport. Missing or mistyped
// members become empty values rather than exceptions.
nlohmann::json ReportToDiagnosticReport(const nlohmann::json& report);

// A problem+json response (http::FromError) turned into an OperationOutcome with the same status: one issue
// per field error (severity "error", a FHIR issue-type code, diagnostics, expression) or one for the whole
// problem; the stable machine code is kept in issue[].details.coding. Content-Type application/fhir+json.
Response OperationOutcomeFrom(const Response& problem);

}  // namespace medledger::http::fhir
