#include "http/app.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "auth/auth_service.h"
#include "auth/smart_auth.h"
#include "crypto/random.h"
#include "http/api_backend.h"
#include "http/problem.h"
#include "http/static_files.h"
#include "identity/user_directory.h"

namespace medledger::http {
namespace {

constexpr char kApiCsp[] = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
constexpr char kWebCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'";

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

bool StartsWith(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "?";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

App::App(AppDeps deps, AppOptions options) : deps_(std::move(deps)), options_(std::move(options)) {
  if (options_.web_dir) static_files_ = std::make_unique<StaticFiles>(*options_.web_dir);
  if (deps_.gauges) metrics_.SetGaugeSource(deps_.gauges);
  router_.Add("GET", "/healthz", RouteAuth::kPublic,
              [](RequestContext&) { return JsonResponse(200, R"({"status":"ok"})"); });
  router_.Add("GET", "/readyz", RouteAuth::kPublic, [this](RequestContext&) {
    bool ready = !deps_.ready || deps_.ready();
    return JsonResponse(ready ? 200 : 503, ready ? R"({"status":"ready"})" : R"({"status":"not_ready"})");
  });
  // On the API listener the metrics are for administrators and auditors only (route counts and latencies
  // describe who does what); scrapers use the separate --metrics-listen address (docs/SERVER.md).
  router_.Add("GET", "/metrics", RouteAuth::kAuthenticated, [this](RequestContext& ctx) {
    auto role = ctx.principal->role;
    if (role != identity::Role::kAdmin && role != identity::Role::kAuditor) {
      return ProblemResponse(MakeError(ErrorKind::kPermissionDenied, "forbidden", "administrators and auditors only"));
    }
    return MetricsResponse();
  });
  router_.Add("GET", "/api/v1/openapi.json", RouteAuth::kPublic,
              [](RequestContext&) { return JsonResponse(200, OpenApiDocument()); });
  AddAuthRoutes(router_, deps_, options_);
  AddPatientRoutes(router_, deps_);
  AddReportRoutes(router_, deps_);
  AddAuditRoutes(router_, deps_);
  AddDirectoryRoutes(router_, deps_);
  AddFhirRoutes(router_, deps_);
  AddLogRoutes(router_, deps_);
  AddSmartRoutes(router_, deps_);
  AddBackendRoutes(router_, deps_);
}

App::~App() = default;

Response App::MetricsResponse() const {
  Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.SetHeader("Cache-Control", "no-store");
  r.body = metrics_.Render();
  return r;
}

Response App::HandleOps(const Request& req) const {
  if (req.path != "/metrics") {
    return ProblemResponse(
        MakeError(ErrorKind::kNotFound, "route_not_found", "this listener serves GET /metrics only"));
  }
  if (req.method != "GET") {
    Response r =
        ProblemResponse(MakeError(ErrorKind::kInvalidArgument, "method_not_allowed", "method not allowed"), 405);
    r.SetHeader("Allow", "GET");
    return r;
  }
  return MetricsResponse();
}

BodyAdmission App::AdmitLargeBody(const Request& head) const {
  BodyAdmission admission;
  auto match = router_.Match(head.method, head.path);
  if (!match.ok() || match->route->auth != RouteAuth::kAuthenticated || deps_.auth == nullptr) return admission;
  // The same checks and answers as Dispatch; a token that verified is cached, so Dispatch then pays a hash
  // and a lookup.
  auto principal = AuthenticateBearer(head);
  if (auto* refusal = std::get_if<Response>(&principal)) {
    refusal->SetHeader("Cache-Control", "no-store");
    admission.answer = head.path.rfind("/fhir/", 0) == 0 ? FhirOutcome(std::move(*refusal)) : std::move(*refusal);
    return admission;
  }
  admission.large = true;
  return admission;
}

std::variant<auth::Principal, Response> App::AuthenticateBearer(const Request& req) const {
  std::string authz = req.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authz.size() <= kBearer.size() || authz.compare(0, kBearer.size(), kBearer) != 0) {
    Response r =
        ProblemResponse(MakeError(ErrorKind::kUnauthenticated, "unauthenticated", "a bearer token is required"));
    r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  }
  auto principal = deps_.auth->Authenticate(std::string_view(authz).substr(kBearer.size()));
  if (!principal.ok()) {
    Response r = ProblemResponse(principal.error());
    r.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return r;
  }
  if (!principal->client_id.empty()) {
    // A SMART app's token is for the FHIR API only: the JSON API (and everything else) knows no scopes, so
    // accepting it there would let the app act with all of its user's rights.
    if (deps_.smart == nullptr || !deps_.smart->ClientActive(principal->client_id)) {
      Response r = ProblemResponse(MakeError(ErrorKind::kUnauthenticated, "token_invalid",
                                             "the app this token was issued to is not registered"));
      r.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    if (!StartsWith(req.path, "/fhir/")) {
      Response r = ProblemResponse(
          MakeError(ErrorKind::kPermissionDenied, "insufficient_scope", "an app's token is accepted by /fhir/ only"));
      r.SetHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
      return r;
    }
  }
  return std::move(*principal);
}

// Browser SMART apps run on their own origin: the FHIR API, the token endpoint and discovery answer them. Bearer
// tokens only (no cookies), so any origin may read what its own token opens: "*" grants nothing by itself.
namespace {
bool CorsPath(const std::string& path) {
  return StartsWith(path, "/fhir/") || path == "/oauth2/token" || path == "/.well-known/smart-configuration";
}
}  // namespace

Response App::Dispatch(RequestContext& ctx) {
  Request& req = ctx.request;
  if (req.method == "OPTIONS" && deps_.smart != nullptr && CorsPath(req.path) &&
      !req.Header("access-control-request-method").empty()) {
    ctx.route = "cors-preflight";
    Response r = NoContent();
    r.SetHeader("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
    r.SetHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match");
    r.SetHeader("Access-Control-Max-Age", "600");
    return r;
  }
  auto match = router_.Match(req.method, req.path);
  if (!match.ok()) {
    const Error& e = match.error();
    if (e.code == "route_not_found" && req.method == "GET" && StartsWith(req.path, "/log/tile/")) {
      ctx.route = "/log/tile/*";
      // Entry bundles need a token; hash tiles do not, so a bad or absent token is only fatal for them.
      std::optional<auth::Principal> who;
      if (!req.Header("authorization").empty()) {
        auto principal = AuthenticateBearer(req);
        if (auto* refusal = std::get_if<Response>(&principal)) return std::move(*refusal);
        who = std::get<auth::Principal>(std::move(principal));
        ctx.principal = who;
      }
      if (auto r = ServeLogTile(deps_.log, req, who)) return *r;
    }
    if (e.code == "route_not_found" && req.method == "GET" && static_files_ && !StartsWith(req.path, "/api/") &&
        !StartsWith(req.path, "/.well-known/")) {
      ctx.route = "static";
      if (auto r = static_files_->Serve(req.path)) return *r;
    }
    ctx.route = "unmatched";
    if (e.code == "method_not_allowed") {
      Response r = ProblemResponse(e, 405);
      std::string allow;
      for (const auto& m : router_.AllowedMethods(req.path)) allow += (allow.empty() ? "" : ", ") + m;
      r.SetHeader("Allow", allow);
      return r;
    }
    return ProblemResponse(e);
  }
  ctx.route = match->route->pattern;
  ctx.params = std::move(match->params);
  if (match->route->auth == RouteAuth::kAuthenticated) {
    auto principal = AuthenticateBearer(req);
    if (auto* refusal = std::get_if<Response>(&principal)) return std::move(*refusal);
    ctx.principal = std::get<auth::Principal>(std::move(principal));
    if (!ctx.principal->client_id.empty()) {
      if (auto refusal = SmartScopeGate(*ctx.principal, ctx)) return std::move(*refusal);
    }
  }
  return match->route->handler(ctx);
}

Response App::Handle(Request& req) {
  auto start = std::chrono::steady_clock::now();
  RequestContext ctx{req, {}, std::nullopt, {}, {}};
  std::string incoming = req.Header("x-request-id");
  ctx.request_id = ValidRequestId(incoming) ? incoming : crypto::RandomHex(8);

  Response res;
  try {
    res = Dispatch(ctx);
  } catch (...) {
    spdlog::error(R"({{"msg":"handler exception","requestId":"{}","route":"{}"}})", ctx.request_id, ctx.route);
    res = ProblemResponse(MakeError(ErrorKind::kInternal, "internal_error", "unexpected failure"));
  }
  // Every FHIR answer is FHIR, errors from the middleware (401, 404 route, 405, 429) included.
  if (req.path.rfind("/fhir/", 0) == 0) res = FhirOutcome(std::move(res));
  if (deps_.smart != nullptr && CorsPath(req.path)) {
    res.SetHeader("Access-Control-Allow-Origin", "*");
    res.SetHeader("Access-Control-Expose-Headers", "Location, ETag, Content-Location, WWW-Authenticate");
  }

  bool api = ctx.route != "static";
  res.SetHeader("X-Request-Id", ctx.request_id);
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Referrer-Policy", "no-referrer");
  res.SetHeader("X-Frame-Options", "DENY");
  res.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.SetHeader("Content-Security-Policy", api ? kApiCsp : kWebCsp);
  // Handlers that know better (immutable log tiles) set their own.
  if (api && res.Header("cache-control").empty()) res.SetHeader("Cache-Control", "no-store");
  if (req.tls) res.SetHeader("Strict-Transport-Security", "max-age=63072000; includeSubDomains");

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const char* method = MethodLabel(req.method);
  metrics_.Observe(method, ctx.route, res.status, seconds);
  // No paths, queries or bodies: they can carry identifiers and PHI. The route pattern says enough.
  spdlog::info(
      R"({{"msg":"request","requestId":"{}","method":"{}","route":"{}","status":{},"durationMs":{:.3f},"bytes":{},"user":"{}","remote":"{}"}})",
      ctx.request_id, method, JsonEscape(ctx.route), res.status, seconds * 1000, res.body.size(),
      ctx.principal ? JsonEscape(ctx.principal->username) : "", JsonEscape(req.remote_address));
  return res;
}

}  // namespace medledger::http
