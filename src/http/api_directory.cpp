// /api/v1 consortium routes (docs/CONSORTIUM.md): the clinician directory, the member organisations, and the
// consents and reports other hospitals' patients shared with a doctor. Thin adapters to RecordsService.
#include "http/app.h"
#include "http/handler_util.h"
#include "service/records_service.h"

namespace medledger::http {

void AddDirectoryRoutes(Router& router, const AppDeps& deps) {
  service::RecordsService* svc = deps.records;

  router.Add("GET", "/api/v1/directory/clinicians", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListClinicians(*ctx.principal, ctx.request.QueryParam("org").value_or(""), *size,
                                 ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("POST", "/api/v1/directory/clinicians", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (Status may =
            service::RecordsService::MayPerform(*ctx.principal, service::RecordsService::Action::kPublishClinician);
        !may.ok()) {
      return FromError(may.error());
    }
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    for (const auto& [key, value] : body->items()) {
      if (key != "username" && key != "displayName" && key != "active") {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "unknown_field", "unexpected field " + key));
      }
    }
    auto username = StringField(*body, "username", true);
    auto display_name = StringField(*body, "displayName", true);
    for (auto* r : {&username, &display_name}) {
      if (!r->ok()) return FromError(r->error());
    }
    bool active = true;
    if (body->contains("active")) {
      if (!(*body)["active"].is_boolean()) {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "invalid_type", "active must be a boolean"));
      }
      active = (*body)["active"].get<bool>();
    }
    auto r = svc->PublishClinician(*ctx.principal, *username, *display_name, active);
    return r.ok() ? JsonText(201, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/directory/organizations", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto r = svc->Organizations(*ctx.principal);
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/shared/consents", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->SharedConsents(*ctx.principal, *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/shared/patients/{patientRef}/reports", RouteAuth::kAuthenticated,
             [svc](RequestContext& ctx) {
               auto size = PageSizeParam(ctx.request);
               if (!size.ok()) return FromError(size.error());
               auto r = svc->SharedPatientReports(*ctx.principal, ctx.Param("patientRef"), *size,
                                                  ctx.request.QueryParam("bookmark").value_or(""));
               return r.ok() ? JsonText(200, *r) : FromError(r.error());
             });
}

}  // namespace medledger::http
