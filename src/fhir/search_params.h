// FHIR search parameters (docs/FHIR.md, search_params): a query string becomes a typed SearchQuery or a list of
// issues for a 400 OperationOutcome, never an exception and never a partial query. Dates take FHIR's partial
// forms as ranges and the prefixes eq ne lt gt le ge sa eb; repeated parameters are AND, a comma inside one
// value is OR. Unknown parameters are ignored (left out of the self link) unless the client asked for strict
// handling, where they are issues.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medledger::fhir {

inline constexpr uint32_t kDefaultCount = 20;
inline constexpr uint32_t kMaxCount = 100;
// Longest query string parsed; a longer one is one issue (too-long), not work proportional to its size.
inline constexpr size_t kMaxQueryChars = 4096;
inline constexpr size_t kMaxValuesPerParam = 20;

enum class SearchResource { kDiagnosticReport, kPatient, kProvenance, kAuditEvent, kConsent };

// A date value as the half-open range [lo, hi) of Unix milliseconds it denotes ("2026" is the whole year).
struct DateRange {
  int64_t lo = 0;
  int64_t hi = 0;
};

// One prefixed date value: "ge2026-01" -> {kGe, 2026-01-01T00:00Z .. 2026-02-01T00:00Z}.
struct DateCondition {
  enum class Prefix { kEq, kNe, kLt, kGt, kLe, kGe, kSa, kEb } prefix = Prefix::kEq;
  DateRange range;
  bool Matches(int64_t instant_ms) const;
};

// Values of one parameter occurrence: any of them matches (OR). Occurrences combine with AND.
using DateParam = std::vector<DateCondition>;
using TokenParam = std::vector<std::string>;

struct SearchQuery {
  SearchResource resource = SearchResource::kDiagnosticReport;
  std::string id;       // _id
  std::string patient;  // patient=<id> or subject=Patient/<id>, the bare ID
  std::vector<TokenParam> status;
  std::vector<DateParam> date;          // DiagnosticReport.effectiveDateTime
  std::vector<DateParam> last_updated;  // meta.lastUpdated
  std::string name;                     // Patient: name (contains, case-insensitive, the directory's search)
  std::vector<DateParam> birthdate;     // Patient.birthDate
  uint32_t count = kDefaultCount;
  bool include_subject = false;        // _include=DiagnosticReport:subject
  bool revinclude_provenance = false;  // _revinclude=Provenance:target
  std::string target;                  // Provenance: target=DiagnosticReport/<id>, the bare report ID
  // AuditEvent: agent (a username, optionally "<MSP>|<username>" as a token), type and subtype (system|code or
  // code), date (AuditEvent.recorded). Consent: status, actor (Practitioner/<username> or the username).
  std::vector<TokenParam> agent;
  std::vector<TokenParam> type;
  std::vector<TokenParam> subtype;
  std::vector<TokenParam> actor;
  std::string page_token;  // _page_token, opaque
  // The parameters understood, in canonical order, for the self link (no _page_token, no unknown parameters).
  std::vector<std::pair<std::string, std::string>> canonical;

  bool MatchesStatus(std::string_view status) const;
  // A token parameter over codings (system, code): a value "code", "system|code" or "system|" matches one of
  // them; occurrences AND, values OR, as everywhere.
  static bool MatchesCodings(const std::vector<TokenParam>& params,
                             const std::vector<std::pair<std::string, std::string>>& codings);
  static bool MatchesDates(const std::vector<DateParam>& params, int64_t instant_ms);
};

struct SearchIssue {
  std::string type;   // FHIR IssueType: invalid, not-supported, required, too-long
  std::string param;  // the parameter's name
  std::string message;
};

struct SearchParse {
  SearchQuery query;
  std::vector<SearchIssue> issues;  // non-empty: the query is not to be run
  bool ok() const { return issues.empty(); }
};

// `raw_query` is the URL's query string (or a form body), percent-encoded, without '?'.
SearchParse ParseSearch(SearchResource resource, std::string_view raw_query, bool strict);

// "2026", "2026-12", "2026-12-07", "2026-12-07T10:00:00Z" (or with an offset, or fractional seconds) as a range;
// false for anything else.
bool ParseDateRange(std::string_view text, DateRange* out);

// The query's canonical parameters, percent-encoded, joined with '&' (the self and next links).
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& params);

// "Prefer: handling=strict" (RFC 7240 preference, as FHIR defines it).
bool PrefersStrict(std::string_view prefer_header);

}  // namespace medledger::fhir
