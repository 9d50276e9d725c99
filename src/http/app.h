// The application behind the transport: middleware (request id, security headers, authentication,
// metrics, JSON access log) around the router, plus ops endpoints and the web app.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "auth/principal.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace medledger::fhir {
class BulkExports;
}
namespace medledger::auth {
class AuthService;
class BackendServices;
class OidcProvider;
class SmartAuthorizer;
}  // namespace medledger::auth
namespace medledger::service {
class BulkGroupRegistry;
class RecordsService;
class ReportLog;
class UserAdminService;
}  // namespace medledger::service

namespace medledger::http {

class StaticFiles;

struct AppDeps {
  auth::AuthService* auth = nullptr;
  service::RecordsService* records = nullptr;
  service::UserAdminService* users = nullptr;  // /users and /doctors
  std::string msp_id;                          // the organisation's MSP ID (FHIR references); empty: "local"
  std::function<bool()> ready;                 // /readyz
  // POST /ledger/verify: JSON {ok, blocks, transactions, error?}. Empty (Fabric): 501 not_implemented_on_fabric.
  std::function<std::string()> verify_ledger;
  std::function<std::map<std::string, double>()> gauges;  // extra /metrics gauges
  service::ReportLog* log = nullptr;                      // the report log; its routes answer 503 without one
  std::string trust_bundle;                               // GET /log/trust.json (docs/RECEIPTS.md)
  auth::SmartAuthorizer* smart = nullptr;                 // SMART on FHIR apps; null: no SMART routes
  fhir::BulkExports* bulk = nullptr;                      // $export jobs; null: $export answers 503
  auth::BackendServices* backend = nullptr;               // client_credentials; null: not offered
  service::BulkGroupRegistry* groups = nullptr;           // Bulk Data Groups; null: every Group is 404
};

struct AppOptions {
  std::optional<std::filesystem::path> web_dir;
  auth::OidcProvider* oidc = nullptr;  // external sign-in; null when only the built-in issuer is used
};

class App {
 public:
  App(AppDeps deps, AppOptions options);
  ~App();

  Response Handle(Request& req);
  // The separate metrics listener (serve --metrics-listen): GET /metrics without authentication, nothing else.
  Response HandleOps(const Request& req) const;
  // Decided from the head of a request with a large body, before the body is read
  // (ServerOptions::admit_large_body): large only for a route that needs authentication and a bearer token
  // that verifies; a missing or bad token gets its 401 at once (so a client refreshes its token, as it would
  // after reading the body), and a public or unknown route only the small public limit. An anonymous client
  // cannot make the server buffer megabytes.
  BodyAdmission AdmitLargeBody(const Request& head) const;
  const Router& router() const { return router_; }
  Metrics& metrics() { return metrics_; }

 private:
  Response Dispatch(RequestContext& ctx);
  Response MetricsResponse() const;
  // The principal of the request's bearer token, or the 401 to answer.
  std::variant<auth::Principal, Response> AuthenticateBearer(const Request& req) const;

  AppDeps deps_;
  AppOptions options_;
  Router router_;
  Metrics metrics_;
  std::unique_ptr<StaticFiles> static_files_;
};

// Registers the /api/v1 routes, one unit per resource (api_auth.cpp, api_patients.cpp, api_reports.cpp,
// api_audit.cpp, api_directory.cpp, api_log.cpp).
void AddAuthRoutes(Router& router, const AppDeps& deps, const AppOptions& options);
void AddPatientRoutes(Router& router, const AppDeps& deps);
void AddReportRoutes(Router& router, const AppDeps& deps);
void AddAuditRoutes(Router& router, const AppDeps& deps);
void AddDirectoryRoutes(Router& router, const AppDeps& deps);
void AddLogRoutes(Router& router, const AppDeps& deps);
// /fhir/r4 (api_fhir.cpp, docs/FHIR.md).
void AddFhirRoutes(Router& router, const AppDeps& deps);
// SMART on FHIR (api_smart.cpp): discovery, /oauth2/authorize and /oauth2/token, the consent screen's API and
// /api/v1/apps.
void AddSmartRoutes(Router& router, const AppDeps& deps);
// For an app's token on a matched /fhir/ route: the 403 (insufficient_scope) when the granted scopes do not cover
// the interaction or the request names another patient than the one in context; nothing when allowed.
std::optional<Response> SmartScopeGate(const auth::Principal& who, const RequestContext& ctx);
// A problem+json answer to a /fhir/ request as an OperationOutcome with the same status and headers; any other
// answer unchanged.
Response FhirOutcome(Response res);
// GET /log/tile/...: C2SP tlog-tiles, whose paths have a variable number of segments. Nothing when the path
// is not a tile path.
std::optional<Response> ServeLogTile(const service::ReportLog* log, const Request& req,
                                     const std::optional<auth::Principal>& principal);

// The OpenAPI 3.1 document (src/http/openapi.json compiled in).
const char* OpenApiDocument();

}  // namespace medledger::http
