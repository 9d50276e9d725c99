// /api/v1 audit and ledger routes: the audit event search, the erasure list, the ledger's status and the
// whole-chain verification. Thin adapters from HTTP to RecordsService.
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "service/records_service.h"

namespace medledger::http {

void AddAuditRoutes(Router& router, const AppDeps& deps) {
  service::RecordsService* svc = deps.records;

  router.Add("GET", "/api/v1/audit/events", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    service::RecordsService::AuditFilter f;
    f.kind = ctx.request.QueryParam("kind").value_or("");
    f.actor = ctx.request.QueryParam("actor").value_or("");
    f.patient_id = ctx.request.QueryParam("patientId").value_or("");
    f.bookmark = ctx.request.QueryParam("bookmark").value_or("");
    f.emergency_only = ctx.request.QueryParam("emergencyOnly").value_or("") == "true";
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    f.page_size = *size;
    auto r = svc->AuditEvents(*ctx.principal, f);
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/erasures", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSizeParam(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListErasures(*ctx.principal, *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/ledger/status", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto r = svc->LedgerStatus(*ctx.principal);
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("POST", "/api/v1/ledger/verify", RouteAuth::kAuthenticated,
             [svc, verify = deps.verify_ledger](RequestContext& ctx) {
               auto allowed = svc->LedgerStatus(*ctx.principal);  // same roles
               if (!allowed.ok()) return FromError(allowed.error());
               // No verifier: a Fabric deployment, where each peer validates every block as it commits and the
               // whole-chain re-walk is not offered. 501 says "not here" rather than "failed" (200 ok:false).
               if (!verify) {
                 return ProblemResponse(MakeError(ErrorKind::kUnavailable, "not_implemented_on_fabric",
                                                  "chain verification is an embedded-ledger tool; on Fabric every "
                                                  "peer validates each block as it commits"),
                                        501);
               }
               return JsonText(200, verify());
             });
}

}  // namespace medledger::http
