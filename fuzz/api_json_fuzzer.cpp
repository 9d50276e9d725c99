// libFuzzer: JSON request bodies through the real route handlers, as the router dispatches them: the body
// reader (JsonBody: media type, parse, object check), the field extraction (StringField and each handler's
// own type checks), the report mapping, and the FHIR R4 DiagnosticReport mapping. The first input byte picks
// the route and the Content-Type; the rest is the body.
//
// The caller is a doctor and the RecordsService has no ledger or content store, only an empty patient
// directory in a temporary folder: these routes validate the whole body in the HTTP layer, then the
// service validates the report (ValidateReport: sizes, text rules, attachments) and looks the patient up,
// which fails, so nothing is ever committed. RegisterPatient refuses a doctor before touching a store. So
// every byte of handler and service validation runs. Nothing may crash or throw; every answer is a JSON (or
// problem+json) response with a 2xx/4xx status.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "http/app.h"
#include "http/handler_util.h"
#include "http/router.h"
#include "identity/master_key.h"
#include "service/patient_directory.h"
#include "service/records_service.h"
#include "service/report_validation.h"

namespace {

using namespace medledger::http;

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("medledger_api_json_fuzzer_" + std::to_string(::getpid()));
  std::unique_ptr<medledger::service::PatientDirectory> patients =
      medledger::service::PatientDirectory::Open(dir, medledger::identity::MasterKey::FromBytes(std::string(32, 'm')))
          .value();
  medledger::service::RecordsService records{
      medledger::service::ServiceParts{nullptr, nullptr, nullptr, patients.get()}};
  Router router;
  Fixture() {
    AppDeps deps;
    deps.records = &records;
    AddRecordRoutes(router, deps);
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

constexpr const char* kRoutes[] = {"/api/v1/patients", "/api/v1/reports", "/fhir/r4/DiagnosticReport"};
constexpr const char* kTypes[] = {"application/json", "application/fhir+json", "application/json; charset=utf-8",
                                  "text/plain"};
constexpr const char* kFields[] = {"patientId", "title",    "diagnosis",    "content",    "name",
                                   "birthDate", "username", "password",     "doctor",     "purpose",
                                   "expiresAt", "reason",   "resourceType", "conclusion", "refreshToken"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size == 0) return 0;
  Request req;
  req.method = "POST";
  req.SetTarget(kRoutes[data[0] % std::size(kRoutes)]);
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
  RequestContext ctx{req, match->params, medledger::service::Principal{}, "fuzz", match->route->pattern};
  ctx.principal->username = "doctor1";
  ctx.principal->role = medledger::identity::Role::kDoctor;
  Response res = match->route->handler(ctx);
  if (res.status < 200 || res.status >= 500) std::abort();
  return 0;
}
