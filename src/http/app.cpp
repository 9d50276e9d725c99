#include "http/app.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "crypto/random.h"
#include "http/problem.h"
#include "http/static_files.h"
#include "service/auth_service.h"

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
  router_.Add("GET", "/metrics", RouteAuth::kPublic, [this](RequestContext&) {
    Response r;
    r.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_.Render();
    return r;
  });
  router_.Add("GET", "/api/v1/openapi.json", RouteAuth::kPublic,
              [](RequestContext&) { return JsonResponse(200, OpenApiDocument()); });
  AddAuthRoutes(router_, deps_, options_);
  AddRecordRoutes(router_, deps_);
}

App::~App() = default;

Response App::Dispatch(RequestContext& ctx) {
  Request& req = ctx.request;
  auto match = router_.Match(req.method, req.path);
  if (!match.ok()) {
    const Error& e = match.error();
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
    ctx.principal = std::move(*principal);
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

  bool api = ctx.route != "static";
  res.SetHeader("X-Request-Id", ctx.request_id);
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Referrer-Policy", "no-referrer");
  res.SetHeader("X-Frame-Options", "DENY");
  res.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.SetHeader("Content-Security-Policy", api ? kApiCsp : kWebCsp);
  if (api) res.SetHeader("Cache-Control", "no-store");
  if (req.tls) res.SetHeader("Strict-Transport-Security", "max-age=63072000; includeSubDomains");

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.Observe(req.method, ctx.route, res.status, seconds);
  // No paths, queries or bodies: they can carry identifiers and PHI. The route pattern says enough.
  spdlog::info(
      R"({{"msg":"request","requestId":"{}","method":"{}","route":"{}","status":{},"durationMs":{:.3f},"bytes":{},"user":"{}","remote":"{}"}})",
      ctx.request_id, JsonEscape(req.method), JsonEscape(ctx.route), res.status, seconds * 1000, res.body.size(),
      ctx.principal ? JsonEscape(ctx.principal->username) : "", JsonEscape(req.remote_address));
  return res;
}

}  // namespace medledger::http
