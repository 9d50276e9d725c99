// The application behind the transport: middleware (request id, security headers, authentication,
// metrics, JSON access log) around the router, plus ops endpoints and the web app.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"

namespace medledger::identity {
class Organization;
}
namespace medledger::service {
class AuthService;
class OidcProvider;
class RecordsService;
}  // namespace medledger::service

namespace medledger::http {

class StaticFiles;

struct AppDeps {
  service::AuthService* auth = nullptr;
  service::RecordsService* records = nullptr;
  identity::Organization* org = nullptr;
  std::function<bool()> ready;                 // /readyz
  std::function<std::string()> verify_ledger;  // POST /ledger/verify: JSON {ok, blocks, transactions, error?}
  std::function<std::map<std::string, double>()> gauges;  // extra /metrics gauges
};

struct AppOptions {
  std::optional<std::filesystem::path> web_dir;
  service::OidcProvider* oidc = nullptr;  // external sign-in; null when only the built-in issuer is used
  // Two-person rule: a doctor enrolled over the API works only after a second administrator approves it.
  bool two_person_enrollment = false;
};

class App {
 public:
  App(AppDeps deps, AppOptions options);
  ~App();

  Response Handle(Request& req);
  const Router& router() const { return router_; }
  Metrics& metrics() { return metrics_; }

 private:
  Response Dispatch(RequestContext& ctx);

  AppDeps deps_;
  AppOptions options_;
  Router router_;
  Metrics metrics_;
  std::unique_ptr<StaticFiles> static_files_;
};

// Registers the /api/v1 routes (api_routes.cpp, api_records.cpp).
void AddAuthRoutes(Router& router, const AppDeps& deps, const AppOptions& options);
void AddRecordRoutes(Router& router, const AppDeps& deps);

// The OpenAPI 3.1 document (src/http/openapi.json compiled in).
const char* OpenApiDocument();

}  // namespace medledger::http
