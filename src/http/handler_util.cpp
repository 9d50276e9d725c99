#include "http/handler_util.h"

#include <charconv>
#include <set>

#include "common/json_strict.h"
#include "http/problem.h"
#include "service/records_service.h"

namespace medledger::http {

std::optional<uint64_t> DecimalNumber(std::string_view text) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return n;
}

Result<uint32_t> PageSizeParam(const Request& req) {
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

Result<json> JsonBody(const Request& req) {
  std::string ct = req.Header("content-type");
  std::string base = ct.substr(0, ct.find(';'));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (base != "application/json") {
    return MakeError(ErrorKind::kUnsupportedType, "unsupported_media_type", "send application/json");
  }
  // Depth is bounded while parsing and repeated keys are refused (common/json_strict.h).
  ML_ASSIGN_OR_RETURN(json j, ParseStrictJson(req.body));
  if (!j.is_object()) return MakeError(ErrorKind::kInvalidArgument, "malformed_json", "the body must be a JSON object");
  return j;
}

Result<std::string> StringField(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return MakeError(ErrorKind::kInvalidArgument, "missing_field", std::string(name) + " is required");
    return std::string();
  }
  if (!it->is_string()) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_field", std::string(name) + " must be a string");
  }
  return it->get<std::string>();
}

Result<std::string> TakeStringField(json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return StringField(body, name, required);  // its absent/type errors
  return std::move(it->get_ref<std::string&>());
}

Response Json(int status, const json& body) {
  return JsonResponse(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response JsonText(int status, const std::string& body) {
  return JsonResponse(status, body);
}

Response FromError(const Error& error, const std::vector<service::FieldIssue>& issues) {
  static const std::set<std::string, std::less<>> kUnprocessable = {
      "validation_failed", "idempotency_key_reused", "unknown_doctor",      "invalid_expiry",
      "invalid_purpose",   "reason_required",        "weak_password",       "password_too_long",
      "expiry_too_far",    "expiry_not_in_future",   "invalid_display_name"};
  int status = 0;
  if (error.kind == ErrorKind::kInvalidArgument && kUnprocessable.count(error.code)) status = 422;
  // Erased content existed and never will again: 410, so clients do not retry or report it missing.
  if (error.code == "content_erased") status = 410;
  std::vector<FieldError> fields;
  for (const auto& i : issues) fields.push_back({i.field, i.code, i.message});
  Response r = ProblemResponse(error, status, fields);
  // A dependency that is down (another hospital's server, a content node): the client may try again shortly.
  if (r.status == 503 && r.Header("Retry-After").empty()) r.SetHeader("Retry-After", "5");
  return r;
}

}  // namespace medledger::http
