// libFuzzer: JSON request bodies through the real route handlers, as the router dispatches them: the body
// reader (JsonBody: media type, parse, object check), the field extraction (StringField and each handler's
// own type checks), the report mapping, the FHIR R4 DiagnosticReport mapping, and the service's validation
// behind them. The first input byte picks the route (its value mod the number of routes) and the Content-Type
// (the quotient, mod 4); the rest is the body.
//
// Every route that reads a JSON body is here: patients, reports, the FHIR create, amendments, erasure,
// consents, emergency access, the clinician directory, login and refresh. Each is called as a caller the
// service refuses only after the handler has validated the whole body (a doctor registering a patient or
// publishing a clinician, a patient amending or breaking the glass, a doctor granting a patient's consent),
// or, for the two public auth routes, against an AuthService with no users. The RecordsService has no ledger
// or content store, only an empty patient directory in a temporary folder, so nothing is ever committed. So
// every byte of handler validation runs. Nothing may crash or throw; every answer is a JSON (or
// problem+json) response with a 2xx/4xx status.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "auth/auth_service.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/router.h"
#include "identity/master_key.h"
#include "identity/user_directory.h"
#include "service/patient_directory.h"
#include "service/records_service.h"
#include "service/report_validation.h"

namespace {

using namespace medledger::http;

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("medledger_api_json_fuzzer_" + std::to_string(::getpid()));
  medledger::identity::MasterKey master = medledger::identity::MasterKey::FromBytes(std::string(32, 'm'));
  std::unique_ptr<medledger::service::PatientDirectory> patients =
      medledger::service::PatientDirectory::Open(dir, master).value();
  medledger::service::RecordsService records{
      medledger::service::ServiceParts{nullptr, nullptr, nullptr, patients.get()}};
  std::unique_ptr<medledger::identity::UserDirectory> users =
      medledger::identity::UserDirectory::Open(dir / "users.json", medledger::identity::PasswordCost::Minimal())
          .value();
  std::unique_ptr<medledger::auth::AuthService> auth =
      medledger::auth::AuthService::Open(dir / "server", master, *users, {}).value();
  Router router;
  Fixture() {
    AppDeps deps;
    deps.records = &records;
    deps.auth = auth.get();
    AddPatientRoutes(router, deps);
    AddReportRoutes(router, deps);
    AddAuditRoutes(router, deps);
    AddDirectoryRoutes(router, deps);
    AddFhirRoutes(router, deps);
    AddAuthRoutes(router, deps, AppOptions{});
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

using medledger::identity::Role;

struct BodyRoute {
  const char* path;
  Role caller;  // refused by the service only after the handler has read the whole body
};

// Report and patient ids in paths are well-formed, so the service's refusal is about the caller, not the path.
constexpr BodyRoute kRoutes[] = {
    {"/api/v1/patients", Role::kDoctor},
    {"/api/v1/reports", Role::kDoctor},
    {"/fhir/r4/DiagnosticReport", Role::kDoctor},
    {"/api/v1/reports/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/amendments", Role::kPatient},
    {"/api/v1/reports/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/erasure", Role::kDoctor},
    {"/api/v1/patients/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/consents", Role::kDoctor},
    {"/api/v1/reports/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/emergency-access", Role::kPatient},
    {"/api/v1/directory/clinicians", Role::kDoctor},
    {"/api/v1/auth/login", Role::kPatient},
    {"/api/v1/auth/refresh", Role::kPatient},
};
constexpr const char* kTypes[] = {"application/json", "application/fhir+json", "application/json; charset=utf-8",
                                  "text/plain"};
constexpr const char* kFields[] = {"patientId", "title",       "diagnosis",    "content",    "name",
                                   "birthDate", "username",    "password",     "doctor",     "purpose",
                                   "expiresAt", "reason",      "resourceType", "conclusion", "refreshToken",
                                   "note",      "purposeCode", "displayName"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size == 0) return 0;
  Request req;
  req.method = "POST";
  const BodyRoute& route = kRoutes[data[0] % std::size(kRoutes)];
  req.SetTarget(route.path);
  req.headers["content-type"] = kTypes[(data[0] / std::size(kRoutes)) % std::size(kTypes)];
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);

  // The shared helpers on their own, for every field name a route reads.
  auto body = JsonBody(req);
  if (body.ok()) {
    if (!body->is_object()) std::abort();
    for (const char* field : kFields) {
      (void)StringField(*body, field, true);
      (void)StringField(*body, field, false);
    }
    // The birth-date rule RegisterPatient applies for an administrator (the doctor here is refused first).
    if (auto birth = StringField(*body, "birthDate", false); birth.ok()) {
      (void)medledger::service::CheckBirthDate(*birth, medledger::Timestamp::Now());
    }
  }

  auto match = fx.router.Match(req.method, req.path);
  if (!match.ok()) std::abort();
  RequestContext ctx{req, match->params, medledger::auth::Principal{}, "fuzz", match->route->pattern};
  ctx.principal->username = route.caller == Role::kDoctor ? "doctor1" : "patient1";
  ctx.principal->role = route.caller;
  Response res = match->route->handler(ctx);
  if (res.status < 200 || res.status >= 500) std::abort();
  return 0;
}
