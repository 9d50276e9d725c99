// /fhir/r4: the FHIR R4 door into medledger (docs/FHIR.md). Thin handlers: negotiate the format, parse the request
// (fhir::ParseSearch, the JSON body), call fhir::FhirService with the caller's principal, answer
// application/fhir+json. Errors are problem+json turned into an OperationOutcome by FhirOutcome, which App applies to
// every /fhir/ answer (401, 404 route, 429 included).
#include <algorithm>
#include <charconv>

#include "auth/smart_auth.h"
#include "auth/smart_scopes.h"
#include "common/encoding.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "fhir/audit_event.h"
#include "fhir/bulk_export.h"
#include "fhir/capability.h"
#include "fhir/consent.h"
#include "fhir/fhir_service.h"
#include "fhir/provenance.h"
#include "fhir/resources.h"
#include "fhir/search_params.h"
#include "http/api_backend.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "service/bulk_groups.h"
#include "service/records_service.h"

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

std::string MspOf(const AppDeps& deps) {
  return deps.msp_id.empty() ? std::string("local") : deps.msp_id;
}

// A search: parsed (a 400 OperationOutcome naming every problem), then answered by `search` as a Bundle.
template <typename F>
Response Search(fhir::SearchResource resource, RequestContext& ctx, std::string_view raw, F search) {
  auto parsed = fhir::ParseSearch(resource, raw, fhir::PrefersStrict(ctx.request.Header("prefer")));
  if (!parsed.ok()) return SearchIssues(parsed.issues);
  Result<json> bundle = search(*ctx.principal, parsed.query, BaseUrl(ctx.request));
  if (!bundle.ok()) return FromError(bundle.error());
  return Fhir(ctx.request, 200, *bundle);
}

// A read: the resource, or the service's error as an OperationOutcome (FhirOutcome).
Response Read(const Request& req, const Result<json>& resource) {
  if (!resource.ok()) return FromError(resource.error());
  return Fhir(req, 200, *resource);
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

fhir::ExportOwner OwnerOf(const auth::Principal& who) {
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
Status ExportPatient(RecordsService* svc, const std::string& msp, const auth::Principal& who,
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

fhir::ExportWork PatientExportWork(RecordsService* svc, const AppDeps& deps, auth::Principal who,
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
fhir::ExportWork GroupExportWork(RecordsService* svc, const AppDeps& deps, auth::Principal who,
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
  const auth::Principal& who = *ctx.principal;
  if (!who.client_id.empty()) {
    // An app exports only the types its scopes let it read (the route's gate checked Patient and the patient).
    auto granted = auth::smart::ParseScopes(who.scope);
    if (!granted.ok()) return FromError(granted.error());
    std::vector<std::string> allowed;
    for (const auto& t : params->types) {
      if (granted->Allows(t, auth::smart::kRead)) {
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
Result<service::BulkGroup> VisibleGroup(const AppDeps& deps, const auth::Principal& who, const std::string& id) {
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
    const auth::Principal& who = *ctx.principal;
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
  auto fhir = std::make_shared<const fhir::FhirService>(deps.records, MspOf(deps));
  using auth::Principal;
  using fhir::SearchResource;

  fhir::OAuthUris oauth;
  if (deps.smart != nullptr) {
    oauth = {deps.smart->config().issuer + "/oauth2/authorize", deps.smart->config().issuer + "/oauth2/token"};
  }
  router.Add("GET", "/fhir/r4/metadata", RouteAuth::kPublic, Negotiated([oauth](RequestContext& ctx) {
               return Fhir(ctx.request, 200, fhir::CapabilityStatement(kSoftwareVersion, BaseUrl(ctx.request), oauth));
             }));

  // ---- DiagnosticReport
  router.Add("POST", "/fhir/r4/DiagnosticReport", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               auto body = FhirBody(ctx);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               auto created = fhir->CreateReport(*ctx.principal, *body, ctx.request.Header("idempotency-key"),
                                                 HexEncode(crypto::Sha256(ctx.request.body)), &issues);
               if (!created.ok()) return FromError(created.error(), std::move(issues));
               Response r = Fhir(ctx.request, 201, created->resource);
               r.SetHeader("Location", created->location);
               r.SetHeader("ETag", "W/\"" + std::to_string(created->version) + "\"");
               return r;
             }));
  auto search_reports = [fhir](const Principal& who, const fhir::SearchQuery& q, const std::string& base) {
    return fhir->SearchReports(who, q, base);
  };
  router.Add("GET", "/fhir/r4/DiagnosticReport", RouteAuth::kAuthenticated,
             Negotiated([search_reports](RequestContext& ctx) {
               return Search(SearchResource::kDiagnosticReport, ctx, ctx.request.query, search_reports);
             }));
  router.Add("POST", "/fhir/r4/DiagnosticReport/_search", RouteAuth::kAuthenticated,
             Negotiated([search_reports](RequestContext& ctx) {
               std::string ct = ctx.request.Header("content-type");
               if (ct.rfind("application/x-www-form-urlencoded", 0) != 0) {
                 return FromError(MakeError(ErrorKind::kUnsupportedType, "unsupported_media_type",
                                            "_search takes application/x-www-form-urlencoded"));
               }
               // FHIR: parameters may come in the URL and the body; both count.
               std::string raw = ctx.request.query;
               if (!raw.empty() && !ctx.request.body.empty()) raw += '&';
               raw += ctx.request.body;
               return Search(SearchResource::kDiagnosticReport, ctx, raw, search_reports);
             }));
  router.Add("GET", "/fhir/r4/DiagnosticReport/{id}", RouteAuth::kAuthenticated,
             Negotiated([fhir](RequestContext& ctx) {
               auto report = fhir->ReadReport(*ctx.principal, ctx.Param("id"));
               if (!report.ok()) return FromError(report.error());
               Response r = Fhir(ctx.request, 200, *report);
               r.SetHeader("ETag", "W/\"" + (*report)["meta"].value("versionId", "") + "\"");
               return r;
             }));
  router.Add("GET", "/fhir/r4/DiagnosticReport/{id}/_history", RouteAuth::kAuthenticated,
             Negotiated([fhir](RequestContext& ctx) {
               return Read(ctx.request, fhir->ReportHistory(*ctx.principal, ctx.Param("id"), BaseUrl(ctx.request)));
             }));
  router.Add("GET", "/fhir/r4/DiagnosticReport/{id}/_history/{vid}", RouteAuth::kAuthenticated,
             Negotiated([fhir](RequestContext& ctx) {
               const uint64_t vid = DecimalNumber(ctx.Param("vid")).value_or(0);  // 0: no such version
               auto resource = fhir->ReadReportVersion(*ctx.principal, ctx.Param("id"), vid);
               if (!resource.ok()) return FromError(resource.error());
               Response r = Fhir(ctx.request, 200, *resource);
               r.SetHeader("ETag", "W/\"" + std::to_string(vid) + "\"");
               return r;
             }));

  // ---- Patient
  router.Add("GET", "/fhir/r4/Patient", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Search(SearchResource::kPatient, ctx, ctx.request.query,
                             [fhir](const Principal& who, const fhir::SearchQuery& q, const std::string& base) {
                               return fhir->SearchPatients(who, q, base);
                             });
             }));
  router.Add("GET", "/fhir/r4/Patient/{id}", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Read(ctx.request, fhir->ReadPatient(*ctx.principal, ctx.Param("id")));
             }));

  // ---- Provenance (one per report version)
  router.Add("GET", "/fhir/r4/Provenance/{id}", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Read(ctx.request, fhir->ReadProvenance(*ctx.principal, ctx.Param("id"), BaseUrl(ctx.request)));
             }));
  router.Add("GET", "/fhir/r4/Provenance", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Search(SearchResource::kProvenance, ctx, ctx.request.query,
                             [fhir](const Principal& who, const fhir::SearchQuery& q, const std::string& base) {
                               return fhir->SearchProvenances(who, q, base);
                             });
             }));

  // ---- AuditEvent (IHE BALP)
  router.Add("GET", "/fhir/r4/AuditEvent", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Search(SearchResource::kAuditEvent, ctx, ctx.request.query,
                             [fhir](const Principal& who, const fhir::SearchQuery& q, const std::string& base) {
                               return fhir->SearchAuditEvents(who, q, base);
                             });
             }));

  // ---- Consent (the patient's grants)
  router.Add("GET", "/fhir/r4/Consent", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Search(SearchResource::kConsent, ctx, ctx.request.query,
                             [fhir](const Principal& who, const fhir::SearchQuery& q, const std::string& base) {
                               return fhir->SearchConsents(who, q, base);
                             });
             }));
  router.Add("GET", "/fhir/r4/Consent/{id}", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               return Read(ctx.request, fhir->ReadConsent(*ctx.principal, ctx.Param("id")));
             }));
  router.Add("POST", "/fhir/r4/Consent", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               auto body = FhirBody(ctx);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               auto created = fhir->CreateConsent(*ctx.principal, *body, &issues);
               if (!created.ok()) return FromError(created.error(), std::move(issues));
               Response r = Fhir(ctx.request, 201, created->resource);
               r.SetHeader("Location", created->location);
               return r;
             }));
  router.Add("PUT", "/fhir/r4/Consent/{id}", RouteAuth::kAuthenticated, Negotiated([fhir](RequestContext& ctx) {
               auto body = FhirBody(ctx);
               if (!body.ok()) return FromError(body.error());
               std::vector<service::FieldIssue> issues;
               auto outcome = fhir->RevokeConsent(*ctx.principal, ctx.Param("id"), *body, &issues);
               if (!outcome.ok()) return FromError(outcome.error(), std::move(issues));
               return Fhir(ctx.request, 200, *outcome);
             }));

  AddBulkRoutes(router, deps);
}

}  // namespace medledger::http
