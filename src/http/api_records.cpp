// /api/v1 patients, reports, consents, emergency access, audit and ledger routes: thin adapters from HTTP to
// RecordsService. The FHIR routes are in api_fhir.cpp.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/multipart.h"
#include "http/problem.h"
#include "service/receipt_builder.h"
#include "service/records_service.h"

namespace medledger::http {
namespace {

using service::RecordsService;

Error Forbidden(const char* why) {
  return MakeError(ErrorKind::kPermissionDenied, "forbidden", why);
}

json PatientJson(const service::PatientView& p) {
  json j = {{"patientId", p.patient_id}, {"name", p.name}, {"birthDate", p.birth_date}};
  if (!p.username.empty()) j["username"] = p.username;
  return j;
}

// pageSize from the query: absent is the default; anything but an integer in the contract's range is
// 400 invalid_page_size (never clamped: a client must not get a different page than it asked for silently).
Result<uint32_t> PageSize(const Request& req) {
  auto v = req.QueryParam("pageSize");
  if (!v) return service::kDefaultPageSize;
  uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || ptr != v->data() + v->size()) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_page_size",
                     "pageSize must be an integer from " + std::to_string(service::kMinPageSize) + " to " +
                         std::to_string(service::kMaxPageSize));
  }
  ML_RETURN_IF_ERROR(service::CheckPageSize(n));
  return n;
}

Result<service::ReportInput> ReportFromJson(const json& b, std::vector<service::FieldIssue>* issues) {
  service::ReportInput in;
  for (auto [field, target] : {std::pair{"patientId", &in.patient_id}, std::pair{"title", &in.title},
                               std::pair{"diagnosis", &in.diagnosis}, std::pair{"content", &in.content}}) {
    auto v = StringField(b, field, false);
    if (!v.ok()) {
      issues->push_back({field, "invalid_type", "must be a string"});
      continue;
    }
    *target = *v;
  }
  if (b.contains("attachments")) {
    const json& atts = b["attachments"];
    if (!atts.is_array()) {
      issues->push_back({"attachments", "invalid_type", "must be an array"});
    } else {
      for (size_t i = 0; i < atts.size(); ++i) {
        std::string f = "attachments[" + std::to_string(i) + "]";
        const json& a = atts[i];
        if (!a.is_object()) {
          issues->push_back({f, "invalid_type", "must be an object"});
          continue;
        }
        auto name = StringField(a, "filename", false);
        auto type = StringField(a, "contentType", false);
        auto data = StringField(a, "data", true);
        if (!name.ok() || !type.ok() || !data.ok()) {
          issues->push_back({f, "invalid_type", "filename, contentType and data (base64) are strings"});
          continue;
        }
        auto bytes = Base64Decode(*data);
        if (!bytes.ok()) {
          issues->push_back({f + ".data", "invalid_base64", "data must be base64"});
          continue;
        }
        in.attachments.push_back({*name, *type, std::move(*bytes)});
      }
    }
  }
  if (!issues->empty()) return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "invalid report fields");
  return in;
}

bool IsMultipart(const Request& req) {
  std::string ct = req.Header("content-type");
  return ct.size() >= 19 && std::equal(ct.begin(), ct.begin() + 19, "multipart/form-data",
                                       [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// The same report as multipart/form-data: text parts patientId, title, diagnosis, content; file parts named
// "attachments" (each with a filename and, optionally, its Content-Type). The bytes arrive raw, so large
// attachments skip base64's third. Field validation is the service's, exactly as for JSON.
Result<service::ReportInput> ReportFromMultipart(const Request& req) {
  ML_ASSIGN_OR_RETURN(auto boundary, MultipartBoundary(req.Header("content-type")));
  ML_ASSIGN_OR_RETURN(auto parts, ParseMultipart(req.body, boundary));
  service::ReportInput in;
  std::vector<std::string> seen;
  for (auto& part : parts) {
    std::string* field = part.name == "patientId"   ? &in.patient_id
                         : part.name == "title"     ? &in.title
                         : part.name == "diagnosis" ? &in.diagnosis
                         : part.name == "content"   ? &in.content
                                                    : nullptr;
    if (field != nullptr) {
      if (std::find(seen.begin(), seen.end(), part.name) != seen.end()) {
        return MakeError(ErrorKind::kInvalidArgument, "duplicate_field", part.name + " appears twice");
      }
      if (!part.filename.empty()) {
        return MakeError(ErrorKind::kInvalidArgument, "invalid_field", part.name + " must be a text field, not a file");
      }
      seen.push_back(part.name);
      *field = std::move(part.data);
    } else if (part.name == "attachments") {
      if (part.filename.empty()) {
        return MakeError(ErrorKind::kInvalidArgument, "invalid_field", "each attachments part needs a filename");
      }
      in.attachments.push_back({std::move(part.filename), std::move(part.content_type), std::move(part.data)});
    } else {
      return MakeError(ErrorKind::kInvalidArgument, "unknown_field", "unexpected form field " + part.name);
    }
  }
  return in;
}

}  // namespace

void AddRecordRoutes(Router& router, const AppDeps& deps) {
  RecordsService* svc = deps.records;

  // ---- patients
  router.Add("GET", "/api/v1/patients", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSize(ctx.request);
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
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListPatientReports(*ctx.principal, ctx.Param("id"), *size,
                                     ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });

  // ---- reports
  router.Add("POST", "/api/v1/reports", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (ctx.principal->role != identity::Role::kDoctor) return FromError(Forbidden("only doctors submit reports"));
    std::vector<service::FieldIssue> issues;
    Result<service::ReportInput> in = service::ReportInput{};
    if (IsMultipart(ctx.request)) {
      in = ReportFromMultipart(ctx.request);
    } else {
      auto body = JsonBody(ctx.request);
      if (!body.ok()) return FromError(body.error());
      in = ReportFromJson(*body, &issues);
    }
    if (!in.ok()) return FromError(in.error(), issues);
    std::string key = ctx.request.Header("idempotency-key");
    std::string request_hash = HexEncode(crypto::Sha256(ctx.request.body));
    auto receipt = svc->SubmitReport(*ctx.principal, *in, key, request_hash, &issues);
    if (!receipt.ok()) return FromError(receipt.error(), issues);
    Response r = JsonText(receipt->replayed ? 200 : 201, receipt->ToJson());
    r.SetHeader("Location", "/api/v1/reports/" + receipt->report_id);
    if (receipt->replayed) r.SetHeader("Idempotent-Replayed", "true");
    return r;
  });
  router.Add("GET", "/api/v1/reports/{id}", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), ctx.request.QueryParam("purpose").value_or(""));
    return v.ok() ? JsonText(200, v->json) : FromError(v.error());
  });
  router.Add("GET", "/api/v1/reports/{id}/document", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), "verification");
    return v.ok() ? JsonText(200, v->document) : FromError(v.error());
  });
  router.Add("GET", "/api/v1/reports/{id}/ciphertext", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), "verification");
    if (!v.ok()) return FromError(v.error());
    Response r;
    r.SetHeader("Content-Type", "application/octet-stream");
    r.body = std::move(v->envelope);
    return r;
  });
  router.Add("GET", "/api/v1/reports/{id}/attachments/{n}", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto v = svc->ReadReport(*ctx.principal, ctx.Param("id"), "");
    if (!v.ok()) return FromError(v.error());
    size_t n = 0;
    const auto& s = ctx.Param("n");
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size() || n >= v->attachments.size()) {
      return FromError(MakeError(ErrorKind::kNotFound, "attachment_not_found", "no such attachment"));
    }
    Response r;
    r.SetHeader("Content-Type", v->attachments[n].first);
    r.SetHeader("Content-Disposition", "attachment");
    r.body = v->attachments[n].second;
    return r;
  });
  router.Add("GET", "/api/v1/reports/{id}/history", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto r = svc->ReportHistory(*ctx.principal, ctx.Param("id"));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/reports/{id}/proof", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto r = svc->ReportProof(*ctx.principal, ctx.Param("id"));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/reports/{id}/receipt", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    std::optional<int64_t> version;
    if (auto v = ctx.request.QueryParam("version")) {
      auto n = DecimalNumber(*v);
      if (!n || *n < 1 || *n > static_cast<uint64_t>(INT64_MAX)) {
        return ProblemResponse(
            MakeError(ErrorKind::kInvalidArgument, "invalid_parameter", "version must be a positive integer"));
      }
      version = static_cast<int64_t>(*n);
    }
    auto r = svc->ReportReceipt(*ctx.principal, ctx.Param("id"), version);
    if (!r.ok()) {
      Response res = FromError(r.error());
      if (r.error().code == "receipt_not_ready") res.SetHeader("Retry-After", "1");
      return res;
    }
    Response res = JsonText(200, *r);
    res.SetHeader("Content-Type", service::kReceiptMediaType);
    return res;
  });
  router.Add("POST", "/api/v1/reports/{id}/amendments", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    service::AmendInput in;
    auto title = StringField(*body, "title", false);
    auto diagnosis = StringField(*body, "diagnosis", false);
    auto content = StringField(*body, "content", true);
    auto reason = StringField(*body, "reason", true);
    for (auto* r : {&title, &diagnosis, &content, &reason}) {
      if (!r->ok()) return FromError(r->error());
    }
    if (body->contains("title")) in.title = *title;
    if (body->contains("diagnosis")) in.diagnosis = *diagnosis;
    in.content = *content;
    in.reason = *reason;
    std::vector<service::FieldIssue> issues;
    auto receipt = svc->AmendReport(*ctx.principal, ctx.Param("id"), in, &issues);
    if (!receipt.ok()) return FromError(receipt.error(), issues);
    return JsonText(201, receipt->ToJson());
  });

  // ---- erasure on the ledger (docs/OPERATIONS.md)
  router.Add("POST", "/api/v1/reports/{id}/erasure", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (ctx.principal->role != identity::Role::kAdmin) return FromError(Forbidden("only administrators erase reports"));
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    for (const auto& [key, value] : body->items()) {
      if (key != "reason" && key != "note") {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "unknown_field", "unexpected field " + key));
      }
    }
    auto reason = StringField(*body, "reason", true);
    auto note = StringField(*body, "note", false);
    for (auto* r : {&reason, &note}) {
      if (!r->ok()) return FromError(r->error());
    }
    auto erased = svc->EraseReport(*ctx.principal, ctx.Param("id"), *reason, *note);
    return erased.ok() ? JsonText(200, erased->ToJson()) : FromError(erased.error());
  });
  router.Add("GET", "/api/v1/erasures", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListErasures(*ctx.principal, *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });

  // ---- consent, emergency access, audit
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
  router.Add("POST", "/api/v1/reports/{id}/emergency-access", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto reason = StringField(*body, "reason", true);
    if (!reason.ok()) return FromError(reason.error());
    auto r = svc->EmergencyAccess(*ctx.principal, ctx.Param("id"), *reason);
    return r.ok() ? JsonText(201, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/patients/{id}/access-log", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->AccessLog(*ctx.principal, ctx.Param("id"), *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/audit/events", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    RecordsService::AuditFilter f;
    f.kind = ctx.request.QueryParam("kind").value_or("");
    f.actor = ctx.request.QueryParam("actor").value_or("");
    f.patient_id = ctx.request.QueryParam("patientId").value_or("");
    f.bookmark = ctx.request.QueryParam("bookmark").value_or("");
    f.emergency_only = ctx.request.QueryParam("emergencyOnly").value_or("") == "true";
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    f.page_size = *size;
    auto r = svc->AuditEvents(*ctx.principal, f);
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });

  // ---- consortium directory, consents shared with a doctor (docs/CONSORTIUM.md)
  router.Add("GET", "/api/v1/directory/clinicians", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->ListClinicians(*ctx.principal, ctx.request.QueryParam("org").value_or(""), *size,
                                 ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("POST", "/api/v1/directory/clinicians", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (ctx.principal->role != identity::Role::kAdmin) {
      return FromError(Forbidden("only administrators publish clinicians"));
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
    auto size = PageSize(ctx.request);
    if (!size.ok()) return FromError(size.error());
    auto r = svc->SharedConsents(*ctx.principal, *size, ctx.request.QueryParam("bookmark").value_or(""));
    return r.ok() ? JsonText(200, *r) : FromError(r.error());
  });
  router.Add("GET", "/api/v1/shared/patients/{patientRef}/reports", RouteAuth::kAuthenticated,
             [svc](RequestContext& ctx) {
               auto size = PageSize(ctx.request);
               if (!size.ok()) return FromError(size.error());
               auto r = svc->SharedPatientReports(*ctx.principal, ctx.Param("patientRef"), *size,
                                                  ctx.request.QueryParam("bookmark").value_or(""));
               return r.ok() ? JsonText(200, *r) : FromError(r.error());
             });

  // ---- ledger
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
