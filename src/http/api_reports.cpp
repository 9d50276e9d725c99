// /api/v1/reports: submission (JSON or multipart), reads, history, proofs, receipts, amendments, emergency
// access and erasure. Thin adapters from HTTP to RecordsService. The FHIR routes are in api_fhir.cpp.
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

// Moves the text and attachment members out of `b`: the parsed body is not used afterwards, and a report's
// content is then held once, not once per layer.
Result<service::ReportInput> ReportFromJson(json& b, std::vector<service::FieldIssue>* issues) {
  service::ReportInput in;
  for (auto [field, target] : {std::pair{"patientId", &in.patient_id}, std::pair{"title", &in.title},
                               std::pair{"diagnosis", &in.diagnosis}, std::pair{"content", &in.content}}) {
    auto v = TakeStringField(b, field, false);
    if (!v.ok()) {
      issues->push_back({field, "invalid_type", "must be a string"});
      continue;
    }
    *target = std::move(*v);
  }
  if (b.contains("attachments")) {
    json& atts = b["attachments"];
    if (!atts.is_array()) {
      issues->push_back({"attachments", "invalid_type", "must be an array"});
    } else {
      for (size_t i = 0; i < atts.size(); ++i) {
        std::string f = "attachments[" + std::to_string(i) + "]";
        json& a = atts[i];
        if (!a.is_object()) {
          issues->push_back({f, "invalid_type", "must be an object"});
          continue;
        }
        auto name = StringField(a, "filename", false);
        auto type = StringField(a, "contentType", false);
        auto data = TakeStringField(a, "data", true);
        if (!name.ok() || !type.ok() || !data.ok()) {
          issues->push_back({f, "invalid_type", "filename, contentType and data (base64) are strings"});
          continue;
        }
        auto bytes = Base64Decode(*data);
        if (!bytes.ok()) {
          issues->push_back({f + ".data", "invalid_base64", "data must be base64"});
          continue;
        }
        in.attachments.push_back({std::move(*name), std::move(*type), std::move(*bytes)});
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

void AddReportRoutes(Router& router, const AppDeps& deps) {
  service::RecordsService* svc = deps.records;

  router.Add("POST", "/api/v1/reports", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (Status may =
            service::RecordsService::MayPerform(*ctx.principal, service::RecordsService::Action::kSubmitReport);
        !may.ok()) {
      return FromError(may.error());
    }
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
    auto receipt = svc->SubmitReport(*ctx.principal, std::move(*in), key, request_hash, &issues);
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
  router.Add("POST", "/api/v1/reports/{id}/emergency-access", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto reason = StringField(*body, "reason", true);
    if (!reason.ok()) return FromError(reason.error());
    auto r = svc->EmergencyAccess(*ctx.principal, ctx.Param("id"), *reason);
    return r.ok() ? JsonText(201, *r) : FromError(r.error());
  });
  router.Add("POST", "/api/v1/reports/{id}/erasure", RouteAuth::kAuthenticated, [svc](RequestContext& ctx) {
    if (Status may = service::RecordsService::MayPerform(*ctx.principal, service::RecordsService::Action::kEraseReport);
        !may.ok()) {
      return FromError(may.error());
    }
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
}

}  // namespace medledger::http
