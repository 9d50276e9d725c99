// /fhir/r4: the FHIR R4 door into RecordsService (docs/FHIR.md). Thin handlers: parse (fhir::ParseSearch,
// fhir::DiagnosticReportToInput), call the same service function the JSON API calls with the same principal,
// map (fhir::resources), answer application/fhir+json. Errors are problem+json from the service turned into an
// OperationOutcome by FhirOutcome, which App applies to every /fhir/ answer (401, 404 route, 429 included).
#include <algorithm>
#include <charconv>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "fhir/audit_event.h"
#include "fhir/bulk_export.h"
#include "fhir/capability.h"
#include "fhir/consent.h"
#include "fhir/provenance.h"
#include "fhir/resources.h"
#include "fhir/search_params.h"
#include "http/api_backend.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "identity/organization.h"
#include "service/bulk_groups.h"
#include "service/records_service.h"
#include "service/smart_auth.h"
#include "service/smart_scopes.h"

namespace medledger::http {
namespace {

using service::RecordsService;
constexpr const char* kBase = "/fhir/r4";
constexpr const char* kSoftwareVersion = "1.0";

// The FHIR base as the client addressed it, for fullUrl and links.
std::string BaseUrl(const Request& req) {
  std::string host = req.Header("host");
  if (host.empty() || host.size() > 255 || host.find_first_of(" \r\n/\\\"") != std::string::npos) return kBase;
  return std::string(req.tls ? "https://" : "http://") + host + kBase;
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// _format wins over Accept. JSON in any of FHIR's spellings (or no preference) is served; anything else,
// XML first of all, is 406: this server does not speak it (CapabilityStatement.format is ["json"]).
std::optional<Response> Negotiate(const Request& req) {
  auto refuse = [](const std::string& what) {
    return ProblemResponse(MakeError(ErrorKind::kUnsupportedType, "not_acceptable",
                                     what + ": this server answers application/fhir+json only"),
                           406);
  };
  if (auto f = req.QueryParam("_format")) {
    if (*f == "json" || *f == "application/json" || *f == "application/fhir+json") return std::nullopt;
    return refuse("_format " + *f);
  }
  std::string accept = req.Header("accept");
  if (accept.empty() || Contains(accept, "json") || Contains(accept, "*/*")) return std::nullopt;
  return refuse("Accept " + accept);
}

Response Fhir(const Request& req, int status, const json& resource) {
  bool pretty = req.QueryParam("_pretty").value_or("") == "true";
  Response r = JsonResponse(status, resource.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace));
  r.SetHeader("Content-Type", "application/fhir+json; charset=utf-8");
  return r;
}

Response SearchIssues(const std::vector<fhir::SearchIssue>& issues) {
  json list = json::array();
  for (const auto& i : issues) {
    list.push_back(fhir::OutcomeIssue(i.type, "invalid_search", i.message, i.param));
  }
  Response r = JsonResponse(400, fhir::OperationOutcome(std::move(list)).dump());
  r.SetHeader("Content-Type", "application/fhir+json; charset=utf-8");
  return r;
}

int64_t Millis(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return INT64_MIN;
  auto ts = Timestamp::FromRfc3339(it->get<std::string>());
  return ts.ok() ? ts->UnixMillis() : INT64_MIN;
}

// The search filters the contract's index cannot apply, over one index item (API JSON of a report head).
bool KeepReport(const fhir::SearchQuery& q, const json& item) {
  if (!item.is_object()) return false;
  const int64_t version = item.value("version", int64_t{1});
  if (!q.MatchesStatus(version > 1 ? "amended" : "final")) return false;
  if (!q.date.empty() && !fhir::SearchQuery::MatchesDates(q.date, Millis(item, "createdAt"))) return false;
  if (!q.last_updated.empty()) {
    int64_t updated = Millis(item, "updatedAt");
    if (updated == INT64_MIN) updated = Millis(item, "createdAt");
    if (!fhir::SearchQuery::MatchesDates(q.last_updated, updated)) return false;
  }
  return true;
}

std::string MspOf(const AppDeps& deps) {
  return deps.org != nullptr ? deps.org->msp_id() : std::string("local");
}

// The versions of GetReportHistory's answer, oldest first, and whether the report was erased.
struct History {
  std::vector<json> versions;
  bool erased = false;
};
Result<History> LoadHistory(RecordsService* svc, const service::Principal& who, const std::string& id) {
  ML_ASSIGN_OR_RETURN(std::string text, svc->ReportHistory(who, id));
  json h = json::parse(text, nullptr, false);
  History out;
  if (!h.is_object()) return out;
  out.erased = h.contains("erasure") && !h["erasure"].is_null();
  if (h.contains("items") && h["items"].is_array()) {
    for (const auto& v : h["items"]) out.versions.push_back(v);
  }
  std::sort(out.versions.begin(), out.versions.end(), [](const json& a, const json& b) {
    return a.value("version", int64_t{0}) < b.value("version", int64_t{0});
  });
  return out;
}

json VersionResource(const json& version, bool erased, const std::string& msp) {
  json r = fhir::IndexEntryToDiagnosticReport(version, msp);
  if (erased) r["status"] = "entered-in-error";
  return r;
}

// Every version's Provenance of one report, oldest first; authorized as reading the report's history (the
// service's ReportTransactions calls ReportHistory with the same principal).
// Provenances in one answer: each costs a ledger lookup and an envelope check (ECDSA), so a search, or a
// report search's _revinclude, stops at this many.
constexpr size_t kMaxProvenances = 100;

Result<std::vector<json>> LoadProvenances(RecordsService* svc, const AppDeps& deps, const RequestContext& ctx,
                                          const std::string& report_id, std::optional<int64_t> only_version,
                                          size_t max_versions) {
  const Request& req = ctx.request;
  ML_ASSIGN_OR_RETURN(auto versions, svc->ReportTransactions(*ctx.principal, report_id, only_version, max_versions));
  std::vector<json> out;
  for (auto& v : versions) {
    fhir::ProvenanceInput in;
    in.version = json::parse(v.version_json, nullptr, false);
    in.envelope = std::move(v.envelope);
    in.recorded = v.recorded;
    in.endorser_msp = v.endorser_msp;
    in.endorser_name = v.endorser_name;
    in.home_msp = MspOf(deps);
    std::string base = BaseUrl(req);
    base.resize(base.size() - std::string_view(kBase).size());
    in.receipt_url = base + "/api/v1/reports/" + report_id + "/receipt?version=" +
                     std::to_string(in.version.is_object() ? in.version.value("version", int64_t{1}) : 1);
    out.push_back(fhir::ReportProvenance(in));
  }
  return out;
}

Response SearchReports(RecordsService* svc, const AppDeps& deps, RequestContext& ctx, std::string_view raw) {
  auto parsed = fhir::ParseSearch(fhir::SearchResource::kDiagnosticReport, raw,
                                  fhir::PrefersStrict(ctx.request.Header("prefer")));
  if (!parsed.ok()) return SearchIssues(parsed.issues);
  const fhir::SearchQuery& q = parsed.query;
  const std::string base = BaseUrl(ctx.request);
  const std::string msp = MspOf(deps);
  std::vector<fhir::BundleEntry> entries;
  std::string patient = q.patient;
  std::string token;
  int64_t total = -1;
  if (!q.id.empty()) {
    // One report: its metadata as the history knows it, authorized as reading the report's metadata.
    auto history = LoadHistory(svc, *ctx.principal, q.id);
    if (!history.ok()) return FromError(history.error());
    total = 0;
    if (!history->versions.empty()) {
      const json& head = history->versions.back();
      if ((q.patient.empty() || head.value("patientId", "") == q.patient) && !history->erased && KeepReport(q, head)) {
        patient = head.value("patientId", "");
        total = 1;
        if (q.count > 0) {
          entries.push_back({VersionResource(head, false, msp), base + "/DiagnosticReport/" + q.id, "match"});
        }
      }
    }
  } else {
    auto walk = svc->WalkPatientReports(
        *ctx.principal, q.patient, fhir::EncodeQuery(q.canonical),
        [&q](const std::string& item) { return KeepReport(q, json::parse(item, nullptr, false)); }, q.count,
        q.page_token);
    if (!walk.ok()) return FromError(walk.error());
    for (const auto& item : walk->items) {
      json e = json::parse(item, nullptr, false);
      entries.push_back(
          {fhir::IndexEntryToDiagnosticReport(e, msp), base + "/DiagnosticReport/" + e.value("reportId", ""), "match"});
    }
    token = walk->page_token;
    if (walk->complete) total = static_cast<int64_t>(walk->matched);
  }
  if (q.revinclude_provenance) {
    // Each matched report's Provenances (its history's authorization, the same as the match's own).
    // At most kMaxProvenances in all; past it the Bundle says so (an OperationOutcome, search.mode outcome).
    const size_t matched = entries.size();
    size_t included = 0;
    bool truncated = false;
    for (size_t i = 0; i < matched && !truncated; ++i) {
      const std::string id = entries[i].resource.value("id", "");
      auto provenances = LoadProvenances(svc, deps, ctx, id, std::nullopt, kMaxProvenances - included + 1);
      if (!provenances.ok()) return FromError(provenances.error());
      for (auto& p : *provenances) {
        if (included == kMaxProvenances) {
          truncated = true;
          break;
        }
        ++included;
        const std::string url = base + "/Provenance/" + p.value("id", "");
        entries.push_back({std::move(p), url, "include"});
      }
    }
    if (truncated) {
      entries.push_back({fhir::OperationOutcome(json::array({fhir::OutcomeIssue(
                             "too-costly", "revinclude_truncated",
                             "_revinclude=Provenance:target stopped at " + std::to_string(kMaxProvenances) +
                                 " Provenances; search Provenance?target= per report for the rest",
                             "", "warning")})),
                         "", "outcome"});
    }
  }
  if (q.include_subject && !entries.empty() && !patient.empty()) {
    auto p = svc->GetPatient(*ctx.principal, patient);  // a recorded lookup, as the JSON API's
    if (p.ok()) entries.push_back({fhir::PatientToFhir(*p), base + "/Patient/" + patient, "include"});
  }
  const std::string self = base + "/DiagnosticReport?" + fhir::EncodeQuery(q.canonical);
  std::vector<fhir::BundleLink> links = {{"self", self}};
  if (!token.empty() && q.count > 0) {
    links.push_back({"next", self + "&" + fhir::EncodeQuery({{"_page_token", token}})});
  }
  return Fhir(ctx.request, 200, fhir::SearchsetBundle(entries, links, total));
}

Response SearchPatients(RecordsService* svc, RequestContext& ctx, std::string_view raw) {
  auto parsed =
      fhir::ParseSearch(fhir::SearchResource::kPatient, raw, fhir::PrefersStrict(ctx.request.Header("prefer")));
  if (!parsed.ok()) return SearchIssues(parsed.issues);
  const fhir::SearchQuery& q = parsed.query;
  const std::string base = BaseUrl(ctx.request);
  auto keep = [&q](const service::PatientView& p) {
    if (q.birthdate.empty()) return true;
    auto d = CivilDate::Parse(p.birth_date);
    return d.ok() && fhir::SearchQuery::MatchesDates(q.birthdate, d->DaysSinceEpoch() * 86400000);
  };
  std::vector<fhir::BundleEntry> entries;
  std::string token;
  int64_t total = -1;
  if (!q.id.empty()) {
    auto p = svc->GetPatient(*ctx.principal, q.id);
    if (!p.ok()) return FromError(p.error());
    bool match = keep(*p) && (q.name.empty() || Contains(p->name, q.name));
    total = match ? 1 : 0;
    if (match && q.count > 0) entries.push_back({fhir::PatientToFhir(*p), base + "/Patient/" + p->patient_id, "match"});
  } else {
    auto page =
        svc->SearchPatients(*ctx.principal, q.name, std::max<uint32_t>(q.count, service::kMinPageSize), q.page_token);
    if (!page.ok()) return FromError(page.error());
    if (q.count > 0) {
      for (const auto& p : page->items) {
        if (keep(p)) entries.push_back({fhir::PatientToFhir(p), base + "/Patient/" + p.patient_id, "match"});
      }
    }
    token = page->bookmark;
    if (token.empty() && q.page_token.empty() && q.count > 0) total = static_cast<int64_t>(entries.size());
  }
  const std::string self = base + "/Patient?" + fhir::EncodeQuery(q.canonical);
  std::vector<fhir::BundleLink> links = {{"self", self}};
  if (!token.empty() && q.count > 0) {
    links.push_back({"next", self + "&" + fhir::EncodeQuery({{"_page_token", token}})});
  }
  return Fhir(ctx.request, 200, fhir::SearchsetBundle(entries, links, total));
}

// BALP AuditEvents from the access trail: an auditor's through AuditEvents (every patient, or `patient`), a
// patient's through AccessLog (their own), the JSON API's two calls with the same principal. `agent`, `type`,
// `subtype` and `date` filter the page the service returns, so a page may hold fewer than _count entries and
// still carry `next`.
Response SearchAuditEvents(RecordsService* svc, const AppDeps& deps, RequestContext& ctx) {
  auto parsed = fhir::ParseSearch(fhir::SearchResource::kAuditEvent, ctx.request.query,
                                  fhir::PrefersStrict(ctx.request.Header("prefer")));
  if (!parsed.ok()) return SearchIssues(parsed.issues);
  const fhir::SearchQuery& q = parsed.query;
  const uint32_t page = std::clamp<uint32_t>(q.count, service::kMinPageSize, service::kMaxPageSize);
  Result<std::string> events = std::string();
  if (ctx.principal->role == Role::kAuditor) {
    RecordsService::AuditFilter f;
    f.patient_id = q.patient;
    f.page_size = page;
    f.bookmark = q.page_token;
    events = svc->AuditEvents(*ctx.principal, f);
  } else {
    // A patient reads their own trail; anyone else is refused by the service (deny by default).
    std::string patient = q.patient;
    if (patient.empty() && ctx.principal->patient_id) patient = *ctx.principal->patient_id;
    if (patient.empty()) {
      events = svc->AuditEvents(*ctx.principal, {});
    } else {
      events = svc->AccessLog(*ctx.principal, patient, page, q.page_token);
    }
  }
  if (!events.ok()) return FromError(events.error());
  json list = json::parse(*events, nullptr, false);
  const std::string base = BaseUrl(ctx.request);
  std::vector<fhir::BundleEntry> entries;
  if (q.count > 0 && list.is_object() && list.contains("items") && list["items"].is_array()) {
    for (const auto& e : list["items"]) {
      json ev = fhir::AccessEventToAuditEvent(e, MspOf(deps));
      if (!q.date.empty() && !fhir::SearchQuery::MatchesDates(q.date, Millis(ev, "recorded"))) continue;
      if (!fhir::SearchQuery::MatchesCodings(q.type, fhir::AuditTypeCodings(ev))) continue;
      if (!fhir::SearchQuery::MatchesCodings(q.subtype, fhir::AuditSubtypeCodings(ev))) continue;
      if (!fhir::SearchQuery::MatchesCodings(q.agent, fhir::AuditAgentCodings(ev))) continue;
      const std::string url = base + "/AuditEvent/" + ev.value("id", "");
      entries.push_back({std::move(ev), url, "match"});
    }
  }
  const std::string token = list.is_object() ? list.value("bookmark", "") : std::string();
  const std::string self = base + "/AuditEvent?" + fhir::EncodeQuery(q.canonical);
  std::vector<fhir::BundleLink> links = {{"self", self}};
  if (!token.empty() && q.count > 0) {
    links.push_back({"next", self + "&" + fhir::EncodeQuery({{"_page_token", token}})});
  }
  const int64_t total = token.empty() && q.page_token.empty() ? static_cast<int64_t>(entries.size()) : -1;
  return Fhir(ctx.request, 200, fhir::SearchsetBundle(entries, links, q.count > 0 ? total : -1));
}

// The patient's grants as Consents, through ListConsents (the patient, or an administrator), the JSON API's call.
Result<std::vector<json>> LoadConsents(RecordsService* svc, const AppDeps& deps, RequestContext& ctx,
                                       const std::string& patient_id) {
  ML_ASSIGN_OR_RETURN(std::string text, svc->ListConsents(*ctx.principal, patient_id));
  json list = json::parse(text, nullptr, false);
  std::vector<json> out;
  const std::string now = Timestamp::Now().ToRfc3339();
  if (list.is_object() && list.contains("items") && list["items"].is_array()) {
    for (const auto& c : list["items"]) out.push_back(fhir::GrantToConsent(c, MspOf(deps), now));
  }
  return out;
}

Response SearchConsents(RecordsService* svc, const AppDeps& deps, RequestContext& ctx) {
  auto parsed = fhir::ParseSearch(fhir::SearchResource::kConsent, ctx.request.query,
                                  fhir::PrefersStrict(ctx.request.Header("prefer")));
  if (!parsed.ok()) return SearchIssues(parsed.issues);
  const fhir::SearchQuery& q = parsed.query;
  auto consents = LoadConsents(svc, deps, ctx, q.patient);
  if (!consents.ok()) return FromError(consents.error());
  const std::string base = BaseUrl(ctx.request);
  std::vector<fhir::BundleEntry> entries;
  int64_t total = 0;
  for (auto& c : *consents) {
    if (!q.MatchesStatus(c.value("status", ""))) continue;
    if (!q.actor.empty()) {
      std::vector<std::pair<std::string, std::string>> actor;
      const json& id = c["provision"]["actor"][0]["reference"]["identifier"];
      actor.emplace_back(id.value("system", ""), id.value("value", ""));
      if (!fhir::SearchQuery::MatchesCodings(q.actor, actor)) continue;
    }
    ++total;
    if (entries.size() < q.count) {
      const std::string url = base + "/Consent/" + c.value("id", "");
      entries.push_back({std::move(c), url, "match"});
    }
  }
  // One page: a patient's grants are few (the contract lists them whole); _count cuts, `total` tells.
  const std::string self = base + "/Consent?" + fhir::EncodeQuery(q.canonical);
  return Fhir(ctx.request, 200, fhir::SearchsetBundle(entries, {{"self", self}}, total));
}

Response ConsentIssues(std::vector<service::FieldIssue> issues) {
  return FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the Consent is invalid"),
                   std::move(issues));
}

// A FHIR JSON body: application/fhir+json is JSON.
Result<json> FhirBody(RequestContext& ctx) {
  std::string ct = ctx.request.Header("content-type");
  if (ct.rfind("application/fhir+json", 0) == 0) ctx.request.headers["content-type"] = "application/json";
  return JsonBody(ctx.request);
}

// Wraps a handler with content negotiation: a 406 before any service call.
template <typename F>
Handler Negotiated(F f) {
  return [f = std::move(f)](RequestContext& ctx) -> Response {
    if (auto refusal = Negotiate(ctx.request)) return std::move(*refusal);
    return f(ctx);
  };
}

// ---- Bulk Data $export (docs/FHIR.md, Bulk Data). The work is a sequence of the same service calls a FHIR read
// makes, with the kick-off's principal: each exported report is a ReadReport, recorded on the ledger.

constexpr const char* kExportTypes[] = {"Patient", "DiagnosticReport", "Provenance"};
// Reports one export reads at most; past it the export ends with an OperationOutcome line saying so.
constexpr size_t kMaxExportReports = 10000;

struct ExportParams {
  std::vector<std::string> types;
  bool explicit_types = false;
  int64_t since_ms = INT64_MIN;
};

Error BadExport(std::string code, std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, std::move(code), std::move(message));
}

Result<ExportParams> ParseExportParams(const Request& req) {
  if (!Contains(req.Header("prefer"), "respond-async")) {
    return BadExport("respond_async_required", "$export is asynchronous: send Prefer: respond-async");
  }
  if (!Contains(req.Header("accept"), "application/fhir+json")) {
    return BadExport("accept_required", "$export needs Accept: application/fhir+json");
  }
  ExportParams out;
  std::string_view text = req.query;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key.ok() || !value.ok()) return BadExport("invalid_query", "a query parameter is not percent-encoded");
    if (*key == "_type") {
      out.explicit_types = true;
      for (auto one : SplitOn(*value, ',')) {
        if (std::find(std::begin(kExportTypes), std::end(kExportTypes), one) == std::end(kExportTypes)) {
          return BadExport("unsupported_type", "_type " + std::string(one).substr(0, 64) +
                                                   ": this server exports Patient, DiagnosticReport, Provenance");
        }
        if (std::find(out.types.begin(), out.types.end(), one) == out.types.end()) out.types.emplace_back(one);
      }
    } else if (*key == "_since") {
      auto ts = Timestamp::FromRfc3339(*value);
      if (!ts.ok()) return BadExport("invalid_since", "_since is a FHIR instant (2026-12-07T10:00:00Z)");
      out.since_ms = ts->UnixMillis();
    } else if (*key == "_outputFormat") {
      if (*value != "application/fhir+ndjson" && *value != "application/ndjson" && *value != "ndjson") {
        return BadExport("unsupported_output_format", "_outputFormat: this server writes application/fhir+ndjson");
      }
    } else if (*key != "_format" && *key != "_pretty") {
      // An ignored filter would export more than was asked for.
      return BadExport("unsupported_parameter", key->substr(0, 64) + " is not supported by this server's $export");
    }
  }
  if (!out.explicit_types) out.types.assign(std::begin(kExportTypes), std::end(kExportTypes));
  // Keep the server's order whatever order _type named them in.
  std::vector<std::string> ordered;
  for (const char* t : kExportTypes) {
    if (std::find(out.types.begin(), out.types.end(), t) != out.types.end()) ordered.emplace_back(t);
  }
  out.types = std::move(ordered);
  return out;
}

fhir::ExportOwner OwnerOf(const service::Principal& who) {
  return {who.username, who.client_id};
}

// The origin the client addressed ("https://host"), for absolute URLs.
std::string Origin(const Request& req) {
  std::string base = BaseUrl(req);
  return base.substr(0, base.size() - std::string_view(kBase).size());
}

json ExportErrorLine(const std::string& reference, const Error& e) {
  json issue = fhir::OutcomeIssue(e.kind == ErrorKind::kPermissionDenied ? "forbidden"
                                  : e.kind == ErrorKind::kNotFound       ? "not-found"
                                                                         : "exception",
                                  e.code, reference + ": " + e.message, "");
  return fhir::OperationOutcome(json::array({issue}));
}

// One patient's record as `who` would read it, into `sink`; `done` counts reports across the whole export.
Status ExportPatient(RecordsService* svc, const std::string& msp, const service::Principal& who,
                     const std::string& patient_id, const ExportParams& params, const std::string& origin,
                     fhir::ExportSink& sink, size_t& done) {
  {
    auto wants = [&params](std::string_view type) {
      return std::find(params.types.begin(), params.types.end(), type) != params.types.end();
    };
    if (wants("Patient")) {
      ML_ASSIGN_OR_RETURN(auto p, svc->GetPatient(who, patient_id));
      ML_RETURN_IF_ERROR(sink.Emit(fhir::PatientToFhir(p)));
    }
    if (!wants("DiagnosticReport") && !wants("Provenance")) return OkStatus();
    auto keep = [since = params.since_ms](const std::string& item) {
      if (since == INT64_MIN) return true;
      json j = json::parse(item, nullptr, false);
      if (!j.is_object()) return false;
      int64_t updated = Millis(j, "updatedAt");
      if (updated == INT64_MIN) updated = Millis(j, "createdAt");
      return updated >= since;
    };
    std::string token;
    do {
      ML_ASSIGN_OR_RETURN(auto walk, svc->WalkPatientReports(who, patient_id, "bulk-export", keep,
                                                             RecordsService::kMaxWalkEntries, token));
      for (const auto& item : walk.items) {
        if (sink.Cancelled()) return OkStatus();
        if (done == kMaxExportReports) {
          return sink.EmitError(fhir::OperationOutcome(json::array({fhir::OutcomeIssue(
              "too-costly", "export_truncated",
              "the export stopped at " + std::to_string(kMaxExportReports) + " reports; export again with _since", "",
              "warning")})));
        }
        const std::string id = json::parse(item, nullptr, false).value("reportId", "");
        const std::string ref = "DiagnosticReport/" + id;
        if (wants("DiagnosticReport")) {
          // The same recorded read as GET /DiagnosticReport/{id}: consent, erasure and the access log apply.
          auto v = svc->ReadReport(who, id, "");
          if (!v.ok()) {
            ML_RETURN_IF_ERROR(sink.EmitError(ExportErrorLine(ref, v.error())));
          } else {
            ML_RETURN_IF_ERROR(
                sink.Emit(fhir::ReportToDiagnosticReport(json::parse(v->json, nullptr, false), v->attachments, msp)));
          }
        }
        if (wants("Provenance")) {
          auto versions = svc->ReportTransactions(who, id);
          if (!versions.ok()) {
            ML_RETURN_IF_ERROR(sink.EmitError(ExportErrorLine("Provenance?target=" + ref, versions.error())));
          } else {
            for (auto& v : *versions) {
              fhir::ProvenanceInput in;
              in.version = json::parse(v.version_json, nullptr, false);
              in.envelope = std::move(v.envelope);
              in.recorded = v.recorded;
              in.endorser_msp = v.endorser_msp;
              in.endorser_name = v.endorser_name;
              in.home_msp = msp;
              in.receipt_url = origin + "/api/v1/reports/" + id + "/receipt?version=" +
                               std::to_string(in.version.is_object() ? in.version.value("version", int64_t{1}) : 1);
              ML_RETURN_IF_ERROR(sink.Emit(fhir::ReportProvenance(in)));
            }
          }
        }
        ++done;
        sink.Progress(std::to_string(done) + " reports");
      }
      token = walk.page_token;
    } while (!token.empty());
    return OkStatus();
  }
}

fhir::ExportWork PatientExportWork(RecordsService* svc, const AppDeps& deps, service::Principal who,
                                   std::string patient_id, ExportParams params, std::string origin) {
  return [svc, msp = MspOf(deps), who = std::move(who), patient_id = std::move(patient_id), params = std::move(params),
          origin = std::move(origin)](fhir::ExportSink& sink) -> Status {
    size_t done = 0;
    return ExportPatient(svc, msp, who, patient_id, params, origin, sink, done);
  };
}

// A Group's export: each member as the client's principal would read it. A member the principal may not read
// (no consent, unknown, erased) is an OperationOutcome line in error[] and the export goes on with the next:
// one patient's refusal must not hide the others' data, nor fail the job.
fhir::ExportWork GroupExportWork(RecordsService* svc, const AppDeps& deps, service::Principal who,
                                 std::vector<std::string> members, ExportParams params, std::string origin) {
  return [svc, msp = MspOf(deps), who = std::move(who), members = std::move(members), params = std::move(params),
          origin = std::move(origin)](fhir::ExportSink& sink) -> Status {
    size_t done = 0;
    for (const auto& patient : members) {
      if (sink.Cancelled()) return OkStatus();
      Status s = ExportPatient(svc, msp, who, patient, params, origin, sink, done);
      if (!s.ok()) {
        const ErrorKind kind = s.error().kind;
        if (kind != ErrorKind::kPermissionDenied && kind != ErrorKind::kNotFound &&
            kind != ErrorKind::kInvalidArgument) {
          return s;  // the ledger or the disk failing is the job's failure, not one patient's
        }
        ML_RETURN_IF_ERROR(sink.EmitError(ExportErrorLine("Patient/" + patient, s.error())));
      }
    }
    return OkStatus();
  };
}

// `group`: a Group's kick-off (its members); null: Patient/{id}/$export.
Response ExportKickoff(RecordsService* svc, const AppDeps& deps, RequestContext& ctx,
                       const service::BulkGroup* group = nullptr) {
  if (deps.bulk == nullptr) {
    return FromError(MakeError(ErrorKind::kUnavailable, "bulk_export_unavailable", "bulk export is not enabled"));
  }
  auto params = ParseExportParams(ctx.request);
  if (!params.ok()) return FromError(params.error());
  const service::Principal& who = *ctx.principal;
  if (!who.client_id.empty()) {
    // An app exports only the types its scopes let it read (the route's gate checked Patient and the patient).
    auto granted = service::smart::ParseScopes(who.scope);
    if (!granted.ok()) return FromError(granted.error());
    std::vector<std::string> allowed;
    for (const auto& t : params->types) {
      if (granted->Allows(t, service::smart::kRead)) {
        allowed.push_back(t);
      } else if (params->explicit_types) {
        Response r = FromError(MakeError(ErrorKind::kPermissionDenied, "insufficient_scope",
                                         "the app was not granted read access to " + t));
        r.SetHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
        return r;
      }
    }
    params->types = std::move(allowed);
  }
  fhir::ExportRequest request;
  request.request_url =
      Origin(ctx.request) + ctx.request.path + (ctx.request.query.empty() ? std::string() : "?" + ctx.request.query);
  request.types = params->types;
  auto id = deps.bulk->Start(
      OwnerOf(who), std::move(request),
      group != nullptr ? GroupExportWork(svc, deps, who, group->members, std::move(*params), Origin(ctx.request))
                       : PatientExportWork(svc, deps, who, ctx.Param("id"), std::move(*params), Origin(ctx.request)));
  if (!id.ok()) {
    Response r = FromError(id.error());
    r.SetHeader("Retry-After", "60");
    return r;
  }
  Response r = Fhir(ctx.request, 202,
                    fhir::OperationOutcome(json::array({fhir::OutcomeIssue(
                        "informational", "export_accepted", "the export was accepted", "", "information")})));
  r.SetHeader("Content-Location", BaseUrl(ctx.request) + "/bulk-status/" + *id);
  return r;
}

json Manifest(const fhir::JobStatus& st, const std::string& files_base) {
  auto list = [&files_base](const std::vector<fhir::ExportFile>& files) {
    json out = json::array();
    for (const auto& f : files) {
      out.push_back({{"type", f.type}, {"url", files_base + f.name}, {"count", f.count}});
    }
    return out;
  };
  return {{"transactionTime", st.transaction_time},
          {"request", st.request.request_url},
          {"requiresAccessToken", true},
          {"output", list(st.output)},
          {"error", list(st.errors)}};
}

json GroupToFhir(const service::BulkGroup& g) {
  json members = json::array();
  for (const auto& m : g.members) members.push_back({{"entity", {{"reference", "Patient/" + m}}}});
  return {{"resourceType", "Group"},
          {"id", g.id},
          {"meta", {{"lastUpdated", Timestamp{g.created_at, 0}.ToRfc3339()}}},
          {"active", true},
          {"type", "person"},
          {"actual", true},
          {"name", g.name},
          {"quantity", g.members.size()},
          {"member", std::move(members)}};
}

// The Group `who` may see: an administrator any, a system client its own; anyone else is told it does not
// exist (a Group's ID and members are not confirmed to others).
Result<service::BulkGroup> VisibleGroup(const AppDeps& deps, const service::Principal& who, const std::string& id) {
  auto missing = MakeError(ErrorKind::kNotFound, "group_not_found", "no such Group");
  if (deps.groups == nullptr) return missing;
  auto g = deps.groups->Find(id);
  if (!g) return missing;
  const bool admin = who.client_id.empty() && who.role == identity::Role::kAdmin;
  if (!admin && (who.client_id.empty() || who.client_id != g->client_id)) return missing;
  return *g;
}

void AddBulkRoutes(Router& router, const AppDeps& deps) {
  RecordsService* svc = deps.records;
  router.Add("GET", "/fhir/r4/Patient/{id}/$export", RouteAuth::kAuthenticated,
             [svc, deps](RequestContext& ctx) { return ExportKickoff(svc, deps, ctx); });
  router.Add("GET", "/fhir/r4/Group/{id}", RouteAuth::kAuthenticated, Negotiated([deps](RequestContext& ctx) {
               auto g = VisibleGroup(deps, *ctx.principal, ctx.Param("id"));
               if (!g.ok()) return FromError(g.error());
               return Fhir(ctx.request, 200, GroupToFhir(*g));
             }));
  router.Add("GET", "/fhir/r4/Group/{id}/$export", RouteAuth::kAuthenticated, [svc, deps](RequestContext& ctx) {
    const service::Principal& who = *ctx.principal;
    if (!IsSystemToken(who)) {
      return FromError(MakeError(ErrorKind::kPermissionDenied, "system_client_required",
                                 "Group/$export is for backend-services (system) clients"));
    }
    auto g = VisibleGroup(deps, who, ctx.Param("id"));
    if (!g.ok()) return FromError(g.error());
    return ExportKickoff(svc, deps, ctx, &*g);
  });
  fhir::BulkExports* bulk = deps.bulk;
  if (bulk == nullptr) return;
  router.Add("GET", "/fhir/r4/bulk-status/{id}", RouteAuth::kAuthenticated, [bulk](RequestContext& ctx) {
    auto st = bulk->Poll(OwnerOf(*ctx.principal), ctx.Param("id"));
    if (!st.ok()) return FromError(st.error());
    switch (st->state) {
      case fhir::JobState::kQueued:
      case fhir::JobState::kRunning: {
        Response r;
        r.status = 202;
        r.SetHeader("Retry-After", "1");
        r.SetHeader("X-Progress",
                    std::string(fhir::JobStateName(st->state)) + (st->progress.empty() ? "" : ": " + st->progress));
        return r;
      }
      case fhir::JobState::kFailed:
        return FromError(st->failure.value_or(MakeError(ErrorKind::kInternal, "export_failed", "the export failed")));
      case fhir::JobState::kCancelled:
        return FromError(MakeError(ErrorKind::kNotFound, "export_not_found", "the export was cancelled"));
      case fhir::JobState::kDone: break;
    }
    Response r = JsonResponse(200, Manifest(*st, BaseUrl(ctx.request) + "/bulk-files/" + ctx.Param("id") + "/").dump());
    r.SetHeader("Content-Type", "application/json");
    return r;
  });
  router.Add("DELETE", "/fhir/r4/bulk-status/{id}", RouteAuth::kAuthenticated, [bulk](RequestContext& ctx) {
    auto s = bulk->Delete(OwnerOf(*ctx.principal), ctx.Param("id"));
    if (!s.ok()) return FromError(s.error());
    Response r;
    r.status = 202;
    return r;
  });
  router.Add("GET", "/fhir/r4/bulk-files/{id}/{name}", RouteAuth::kAuthenticated, [bulk](RequestContext& ctx) {
    auto text = bulk->ReadFile(OwnerOf(*ctx.principal), ctx.Param("id"), ctx.Param("name"));
    if (!text.ok()) return FromError(text.error());
    Response r;
    r.status = 200;
    r.body = std::move(*text);
    r.SetHeader("Content-Type", "application/fhir+ndjson");
    r.SetHeader("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace

Response FhirOutcome(Response res) {
  std::string type = res.Header("content-type");
  if (type.rfind("application/problem+json", 0) != 0) return res;
  json problem = json::parse(res.body, nullptr, false);
  if (!problem.is_object()) problem = json::object();
  res.body = fhir::OperationOutcomeFromProblem(problem, res.status).dump();
  res.SetHeader("Content-Type", "application/fhir+json; charset=utf-8");
  return res;
}

void AddFhirRoutes(Router& router, const AppDeps& deps) {
  RecordsService* svc = deps.records;

  fhir::OAuthUris oauth;
  if (deps.smart != nullptr) {
    oauth = {deps.smart->config().issuer + "/oauth2/authorize", deps.smart->config().issuer + "/oauth2/token"};
  }
  router.Add("GET", "/fhir/r4/metadata", RouteAuth::kPublic, Negotiated([oauth](RequestContext& ctx) {
               return Fhir(ctx.request, 200, fhir::CapabilityStatement(kSoftwareVersion, BaseUrl(ctx.request), oauth));
             }));

  // ---- DiagnosticReport
  router.Add("POST", "/fhir/r4/DiagnosticReport", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) {
               std::string ct = ctx.request.Header("content-type");
               if (ct.rfind("application/fhir+json", 0) == 0) ctx.request.headers["content-type"] = "application/json";
               auto body = JsonBody(ctx.request);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               service::ReportInput in = fhir::DiagnosticReportToInput(*body, &issues);
               auto fhir_issues = [&issues] {
                 for (auto& i : issues) i.field = fhir::ExpressionFor(i.field);
                 return issues;
               };
               if (!issues.empty()) {
                 return FromError(
                     MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the DiagnosticReport is invalid"),
                     fhir_issues());
               }
               auto receipt = svc->SubmitReport(*ctx.principal, in, ctx.request.Header("idempotency-key"),
                                                HexEncode(crypto::Sha256(ctx.request.body)), &issues);
               if (!receipt.ok()) return FromError(receipt.error(), fhir_issues());
               // The created resource as the ledger index now knows it (its content is what the client sent).
               json created = fhir::IndexEntryToDiagnosticReport({{"reportId", receipt->report_id},
                                                                  {"version", receipt->version},
                                                                  {"patientId", in.patient_id},
                                                                  {"author", ctx.principal->username},
                                                                  {"createdAt", receipt->timestamp},
                                                                  {"cid", receipt->cid}},
                                                                 MspOf(deps));
               created["code"] = {{"text", in.title}};
               Response r = Fhir(ctx.request, 201, created);
               r.SetHeader("Location", std::string(kBase) + "/DiagnosticReport/" + receipt->report_id + "/_history/" +
                                           std::to_string(receipt->version));
               r.SetHeader("ETag", "W/\"" + std::to_string(receipt->version) + "\"");
               return r;
             }));
  router.Add("GET", "/fhir/r4/DiagnosticReport", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) { return SearchReports(svc, deps, ctx, ctx.request.query); }));
  router.Add("POST", "/fhir/r4/DiagnosticReport/_search", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) {
               std::string ct = ctx.request.Header("content-type");
               if (ct.rfind("application/x-www-form-urlencoded", 0) != 0) {
                 return FromError(MakeError(ErrorKind::kUnsupportedType, "unsupported_media_type",
                                            "_search takes application/x-www-form-urlencoded"));
               }
               // FHIR: parameters may come in the URL and the body; both count.
               std::string raw = ctx.request.query;
               if (!raw.empty() && !ctx.request.body.empty()) raw += '&';
               raw += ctx.request.body;
               return SearchReports(svc, deps, ctx, raw);
             }));
  router.Add(
      "GET", "/fhir/r4/DiagnosticReport/{id}", RouteAuth::kAuthenticated, Negotiated([svc, deps](RequestContext& ctx) {
        auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), "");
        if (!v.ok()) return FromError(v.error());
        json report = fhir::ReportToDiagnosticReport(json::parse(v->json, nullptr, false), v->attachments, MspOf(deps));
        Response r = Fhir(ctx.request, 200, report);
        r.SetHeader("ETag", "W/\"" + report["meta"].value("versionId", "") + "\"");
        return r;
      }));
  router.Add("GET", "/fhir/r4/DiagnosticReport/{id}/_history", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) {
               auto history = LoadHistory(svc, *ctx.principal, ctx.Param("id"));
               if (!history.ok()) return FromError(history.error());
               std::vector<json> versions;  // newest first, as FHIR's history lists them
               for (auto it = history->versions.rbegin(); it != history->versions.rend(); ++it) {
                 versions.push_back(VersionResource(*it, history->erased, MspOf(deps)));
               }
               return Fhir(ctx.request, 200,
                           fhir::HistoryBundle(BaseUrl(ctx.request), versions, static_cast<int64_t>(versions.size())));
             }));
  router.Add(
      "GET", "/fhir/r4/DiagnosticReport/{id}/_history/{vid}", RouteAuth::kAuthenticated,
      Negotiated([svc, deps](RequestContext& ctx) {
        auto vid = DecimalNumber(ctx.Param("vid"));
        if (!vid || *vid < 1 || *vid > (uint64_t{1} << 31)) {
          return FromError(MakeError(ErrorKind::kNotFound, "version_not_found", "versions are numbered from 1"));
        }
        auto history = LoadHistory(svc, *ctx.principal, ctx.Param("id"));
        if (!history.ok()) return FromError(history.error());
        auto it = std::find_if(history->versions.begin(), history->versions.end(), [&](const json& v) {
          return v.value("version", int64_t{0}) == static_cast<int64_t>(*vid);
        });
        if (it == history->versions.end()) {
          return FromError(MakeError(ErrorKind::kNotFound, "version_not_found", "the report has no such version"));
        }
        if (history->erased) {
          return FromError(MakeError(ErrorKind::kNotFound, "content_erased", "this report's content was erased"));
        }
        json resource;
        if (&*it == &history->versions.back()) {
          // The current version: its content, through the same recorded read as GET /DiagnosticReport/{id}.
          auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), "");
          if (!v.ok()) return FromError(v.error());
          resource = fhir::ReportToDiagnosticReport(json::parse(v->json, nullptr, false), v->attachments, MspOf(deps));
        } else {
          // An earlier version: the contract records reads of the current version only, so an earlier one is
          // answered with its ledger metadata (SUBSETTED), never with content whose read went unrecorded.
          resource = VersionResource(*it, false, MspOf(deps));
        }
        Response r = Fhir(ctx.request, 200, resource);
        r.SetHeader("ETag", "W/\"" + std::to_string(*vid) + "\"");
        return r;
      }));

  // ---- Patient
  router.Add("GET", "/fhir/r4/Patient", RouteAuth::kAuthenticated,
             Negotiated([svc](RequestContext& ctx) { return SearchPatients(svc, ctx, ctx.request.query); }));
  router.Add("GET", "/fhir/r4/Patient/{id}", RouteAuth::kAuthenticated, Negotiated([svc](RequestContext& ctx) {
               auto p = svc->GetPatient(*ctx.principal, ctx.Param("id"));
               if (!p.ok()) return FromError(p.error());
               return Fhir(ctx.request, 200, fhir::PatientToFhir(*p));
             }));

  // ---- Provenance (one per report version)
  router.Add(
      "GET", "/fhir/r4/Provenance/{id}", RouteAuth::kAuthenticated, Negotiated([svc, deps](RequestContext& ctx) {
        auto key = fhir::ParseProvenanceId(ctx.Param("id"));
        if (!key) {
          return FromError(MakeError(ErrorKind::kNotFound, "not_found", "a Provenance ID is <reportId>-v<version>"));
        }
        auto all = LoadProvenances(svc, deps, ctx, key->report_id, key->version, 1);
        if (!all.ok()) return FromError(all.error());
        for (const auto& p : *all) {
          if (p.value("id", "") == ctx.Param("id")) return Fhir(ctx.request, 200, p);
        }
        return FromError(MakeError(ErrorKind::kNotFound, "version_not_found", "the report has no such version"));
      }));
  router.Add("GET", "/fhir/r4/Provenance", RouteAuth::kAuthenticated, Negotiated([svc, deps](RequestContext& ctx) {
               auto parsed = fhir::ParseSearch(fhir::SearchResource::kProvenance, ctx.request.query,
                                               fhir::PrefersStrict(ctx.request.Header("prefer")));
               if (!parsed.ok()) return SearchIssues(parsed.issues);
               const fhir::SearchQuery& q = parsed.query;
               // The newest kMaxProvenances (one more, to know whether there are more: then no total).
               auto all = LoadProvenances(svc, deps, ctx, q.target, std::nullopt, kMaxProvenances + 1);
               if (!all.ok()) return FromError(all.error());
               const int64_t total = all->size() > kMaxProvenances ? -1 : static_cast<int64_t>(all->size());
               const std::string base = BaseUrl(ctx.request);
               std::vector<fhir::BundleEntry> entries;
               for (auto it = all->rbegin();
                    it != all->rend() && entries.size() < std::min<size_t>(q.count, kMaxProvenances); ++it) {
                 entries.push_back({*it, base + "/Provenance/" + it->value("id", ""), "match"});
               }
               const std::string self = base + "/Provenance?" + fhir::EncodeQuery(q.canonical);
               return Fhir(ctx.request, 200, fhir::SearchsetBundle(entries, {{"self", self}}, total));
             }));

  // ---- AuditEvent (IHE BALP)
  router.Add("GET", "/fhir/r4/AuditEvent", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) { return SearchAuditEvents(svc, deps, ctx); }));

  // ---- Consent (the patient's grants)
  router.Add("GET", "/fhir/r4/Consent", RouteAuth::kAuthenticated,
             Negotiated([svc, deps](RequestContext& ctx) { return SearchConsents(svc, deps, ctx); }));
  router.Add("GET", "/fhir/r4/Consent/{id}", RouteAuth::kAuthenticated, Negotiated([svc, deps](RequestContext& ctx) {
               // A consent is found among its patient's grants: the caller's own (patients read theirs).
               if (!ctx.principal->patient_id) {
                 return FromError(MakeError(ErrorKind::kPermissionDenied, "forbidden",
                                            "only the patient reads a Consent by ID; search with patient"));
               }
               auto all = LoadConsents(svc, deps, ctx, *ctx.principal->patient_id);
               if (!all.ok()) return FromError(all.error());
               for (const auto& c : *all) {
                 if (c.value("id", "") == ctx.Param("id")) return Fhir(ctx.request, 200, c);
               }
               return FromError(MakeError(ErrorKind::kNotFound, "consent_not_found", "no such consent"));
             }));
  router.Add("POST", "/fhir/r4/Consent", RouteAuth::kAuthenticated, Negotiated([svc, deps](RequestContext& ctx) {
               auto body = FhirBody(ctx);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               fhir::ConsentInput in = fhir::ConsentToInput(*body, &issues);
               if (issues.empty() && in.status != "active") {
                 issues.push_back({"Consent.status", "invalid", "a new grant is active"});
               }
               if (!issues.empty()) return ConsentIssues(std::move(issues));
               auto granted = svc->GrantConsent(*ctx.principal, in.patient_id, in.doctor, in.purpose, in.purpose_code,
                                                in.expires_at);
               if (!granted.ok()) return FromError(granted.error());
               json created = fhir::GrantToConsent(json::parse(*granted, nullptr, false), MspOf(deps),
                                                   Timestamp::Now().ToRfc3339());
               Response r = Fhir(ctx.request, 201, created);
               r.SetHeader("Location", std::string(kBase) + "/Consent/" + created.value("id", ""));
               return r;
             }));
  // Revocation is an update to status inactive (the grant stays readable, as the ledger keeps it).
  router.Add("PUT", "/fhir/r4/Consent/{id}", RouteAuth::kAuthenticated, Negotiated([svc](RequestContext& ctx) {
               auto body = FhirBody(ctx);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               fhir::ConsentInput in = fhir::ConsentToInput(*body, &issues);
               if (body->is_object() && body->contains("id") &&
                   (!(*body)["id"].is_string() || (*body)["id"].get<std::string>() != ctx.Param("id"))) {
                 issues.push_back({"Consent.id", "invalid", "the body's id is not the URL's"});
               }
               if (issues.empty() && in.status != "inactive") {
                 issues.push_back(
                     {"Consent.status", "invalid", "the only update of a Consent is its revocation (status inactive)"});
               }
               if (!issues.empty()) return ConsentIssues(std::move(issues));
               auto s = svc->RevokeConsent(*ctx.principal, in.patient_id, ctx.Param("id"));
               if (!s.ok()) return FromError(s.error());
               return Fhir(ctx.request, 200,
                           fhir::OperationOutcome(json::array({fhir::OutcomeIssue(
                               "informational", "consent_revoked", "the consent was revoked", "", "information")})));
             }));

  AddBulkRoutes(router, deps);
}

}  // namespace medledger::http
