// /api/v1/patients: registration, lookup, search, a patient's reports, consents and access log. Thin adapters
// from HTTP to RecordsService, which decides who may do what.
#include "http/app.h"
#include "http/handler_util.h"
#include "service/records_service.h"

namespace medledger::http {
namespace {

json PatientJson(const service::PatientView& p) {
  json j = {{"patientId", p.patient_id}, {"name", p.name}, {"birthDate", p.birth_date}};
  if (!p.username.empty()) j["username"] = p.username;
  return j;
}

}  // namespace

void AddPatientRoutes(Router& router, const AppDeps& deps) {
  service::RecordsService* svc = deps.records;

  router.Add("GET", "/api/v1/patients", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto page = svc->SearchPatients(*ctx.principal, ctx.request.QueryParam("query").value_or(""), *size,
                                    ctx.request.QueryParam("bookmark").value_or(""));
    if (!page.ok()) return FromError(page.error());
    json items = json::array();
    for (const auto& p : page->items) items.push_back(PatientJson(p));
    return Json(200, {{"items", items}, {"bookmark", page->bookmark}});
  });
  router.Add("POST", "/api/v1/patients", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    service::NewPatient in;
    std::vector<service::FieldIssue> issues;
    for (auto [field, target] : {std::pair{"mrn", &in.mrn}, std::pair{"name", &in.name},
                                 std::pair{"birthDate", &in.birth_date}, std::pair{"username", &in.username}}) {
      auto v = StringField(*body, field, false);
      if (!v.ok())
        issues.push_back({field, "invalid_type", "must be a string"});
      else
        *target = *v;
    }
    if (!issues.empty())
      return FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed", "bad fields"), issues);
    auto p = svc->RegisterPatient(*ctx.principal, in, &issues);
    if (!p.ok()) return FromError(p.error(), issues);
    return Json(201, PatientJson(*p));
  });
  router.Add("GET", "/api/v1/patients/{id}", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto p = svc->GetPatient(*ctx.principal, ctx.Param("id"));
    if (!p.ok()) return FromError(p.error());
    return Json(200, PatientJson(*p));
  });
  router.Add("GET", "/api/v1/patients/{id}/reports", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListPatientReports(*ctx.principal, ctx.Param("id"), *size,
                                     ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/patients/{id}/consents", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto r = svc->ListConsents(*ctx.principal, ctx.Param("id"));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("POST", "/api/v1/patients/{id}/consents", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto doctor = StringField(*body, "doctor", true);
    auto purpose = StringField(*body, "purpose", true);
    auto purpose_code = StringField(*body, "purposeCode", false);
    auto expires = StringField(*body, "expiresAt", true);
    for (auto* r : {&doctor, &purpose, &purpose_code, &expires}) {
      if (!r->ok()) return FromError(r->error());
    }
    auto r = svc->GrantConsent(*ctx.principal, ctx.Param("id"), *doctor, *purpose, *purpose_code, *expires);
    return r.ok() ? JsonText(201, *r) : FromError(r.error());
  });
  router.Add("DELETE", "/api/v1/patients/{id}/consents/{consentId}", RouteAuth::kAuthenticated,
             [svc](RequestContext& ctx) {
               auto s = svc->RevokeConsent(*ctx.principal, ctx.Param("id"), ctx.Param("consentId"));
               return s.ok() ? NoContent() : FromError(s.error());
             });
  router.Add("GET", "/api/v1/patients/{id}/access-log", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->AccessLog(*ctx.principal, ctx.Param("id"), *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
}

}  // namespace medledger::http
