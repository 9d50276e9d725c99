// libFuzzer: the FHIR R4 layer (src/fhir) on input from outside. The first byte picks the mode (mod 3):
// - 0: a search query string (the rest), for DiagnosticReport or Patient (bit 2), or Provenance, AuditEvent,
//   Consent (bits 4-5: 1, 2, 3), and lenient or strict handling (bit 3). ParseSearch never throws and gives a query or
//   issues, never both; a query's _count is within its bounds, its date ranges are non-empty, and its canonical
//   parameters (the self link) encode and parse back, strictly, to the same canonical parameters.
// - 1: a date value: ParseDateRange accepts it as a non-empty range or refuses it.
// - 2: JSON: a DiagnosticReport create (DiagnosticReportToInput), and the same JSON as a stored report, an
//   index entry and a problem document through the output mappings, and as a Consent create, a consent grant,
//   an access event and a Provenance's version (slice 2), which must not throw and must produce the resource
//   type they promise.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/audit_event.h"
#include "fhir/consent.h"
#include "fhir/provenance.h"
#include "fhir/resources.h"
#include "fhir/search_params.h"
#include "fuzz_check.h"

namespace {

using namespace medledger::fhir;
using nlohmann::json;

void FuzzSearch(uint8_t flags, std::string_view query) {
  static constexpr SearchResource kSlice2[] = {SearchResource::kProvenance, SearchResource::kAuditEvent,
                                               SearchResource::kConsent};
  const unsigned slice2 = (flags >> 4) & 3;
  const SearchResource resource = slice2 != 0           ? kSlice2[slice2 - 1]
                                  : (flags & 0x04) != 0 ? SearchResource::kPatient
                                                        : SearchResource::kDiagnosticReport;
  const bool strict = (flags & 0x08) != 0;
  SearchParse parsed = ParseSearch(resource, query, strict);
  if (!parsed.ok()) return;
  const SearchQuery& q = parsed.query;
  FUZZ_CHECK(q.count <= kMaxCount);
  for (const auto* dates : {&q.date, &q.last_updated, &q.birthdate}) {
    for (const auto& param : *dates) {
      for (const auto& c : param) FUZZ_CHECK(c.range.lo < c.range.hi);
    }
  }
  SearchParse again = ParseSearch(resource, EncodeQuery(q.canonical), /*strict=*/true);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.query.canonical == q.canonical);
}

void FuzzDate(std::string_view text) {
  DateRange range;
  if (ParseDateRange(text, &range)) FUZZ_CHECK(range.lo < range.hi);
}

void FuzzJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  std::vector<medledger::service::FieldIssue> issues;
  (void)DiagnosticReportToInput(j, &issues);
  if (!j.is_object()) FUZZ_CHECK(!issues.empty());
  FUZZ_CHECK(ReportToDiagnosticReport(j, {}, "Org1MSP").value("resourceType", "") == "DiagnosticReport");
  FUZZ_CHECK(IndexEntryToDiagnosticReport(j, "Org1MSP").value("resourceType", "") == "DiagnosticReport");
  json outcome = OperationOutcomeFromProblem(j, 400);
  FUZZ_CHECK(outcome.value("resourceType", "") == "OperationOutcome");
  FUZZ_CHECK(outcome.contains("issue") && outcome["issue"].is_array() && !outcome["issue"].empty());
  (void)outcome.dump();  // every string in it must be valid UTF-8 by now, or dump throws
  issues.clear();
  (void)ConsentToInput(j, &issues);
  if (!j.is_object()) FUZZ_CHECK(!issues.empty());
  FUZZ_CHECK(GrantToConsent(j, "Org1MSP", "2026-12-07T00:00:00Z").value("resourceType", "") == "Consent");
  json audit = AccessEventToAuditEvent(j, "Org1MSP");
  FUZZ_CHECK(audit.value("resourceType", "") == "AuditEvent");
  (void)AuditAgentCodings(audit);
  ProvenanceInput in;
  in.version = j;
  FUZZ_CHECK(ReportProvenance(in).value("resourceType", "") == "Provenance");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: FuzzSearch(data[0], in); break;
    case 1: FuzzDate(in); break;
    default: FuzzJson(in); break;
  }
  return 0;
}
