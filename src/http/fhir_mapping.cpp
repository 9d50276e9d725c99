#include "http/fhir_mapping.h"

#include "common/encoding.h"

namespace medledger::http::fhir {
namespace {

using json = nlohmann::json;

// The member `name` of `obj` when `obj` is an object that has it; never inserts, never throws.
const json* Member(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

// A string member: absent gives "", any other type an "invalid_type" issue at `path`.
std::string StringAt(const json& obj, const char* name, const std::string& path,
                     std::vector<service::FieldIssue>* issues) {
  const json* v = Member(obj, name);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) {
    issues->push_back({path, "invalid_type", "must be a string"});
    return {};
  }
  return v->get<std::string>();
}

// An object member: absent gives nullptr silently, any other type an "invalid_type" issue.
const json* ObjectAt(const json& obj, const char* name, const std::string& path,
                     std::vector<service::FieldIssue>* issues) {
  const json* v = Member(obj, name);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) {
    issues->push_back({path, "invalid_type", "must be an object"});
    return nullptr;
  }
  return v;
}

// Reading our own stored JSON: the value if it has the type, else the fallback.
std::string Str(const json& obj, const char* name) {
  const json* v = Member(obj, name);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

int64_t Int(const json& obj, const char* name, int64_t fallback) {
  const json* v = Member(obj, name);
  return v && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

// FHIR's IssueType value set (http://hl7.org/fhir/R4/valueset-issue-type.html) for our field codes.
const char* IssueTypeForField(std::string_view code) {
  if (code == "required") return "required";
  if (code == "too_long" || code == "too_large" || code == "too_many") return "too-long";
  if (code == "invalid_type") return "structure";
  if (code == "active_content" || code == "bidi_control") return "security";
  if (code == "unsupported_type") return "not-supported";
  return "invalid";
}

const char* IssueTypeForStatus(int status) {
  switch (status) {
    case 401: return "login";
    case 403: return "forbidden";
    case 404:
    case 410: return "not-found";
    case 409: return "conflict";
    case 413: return "too-long";
    case 415: return "not-supported";
    case 429: return "throttled";
    case 503:
    case 504: return "transient";
    default: return status >= 500 ? "exception" : "invalid";
  }
}

json Issue(const char* type, const std::string& code, const std::string& diagnostics, const std::string& path) {
  json issue = {{"severity", "error"},
                {"code", type},
                {"details", {{"coding", json::array({{{"system", "urn:medledger:error-code"}, {"code", code}}})}}},
                {"diagnostics", diagnostics}};
  if (!path.empty()) issue["expression"] = json::array({path});
  return issue;
}

}  // namespace

service::ReportInput DiagnosticReportToInput(const json& r, std::vector<service::FieldIssue>* issues) {
  service::ReportInput in;
  if (!r.is_object()) {
    issues->push_back({"DiagnosticReport", "invalid_type", "a FHIR resource is a JSON object"});
    return in;
  }
  if (StringAt(r, "resourceType", "DiagnosticReport.resourceType", issues) != "DiagnosticReport") {
    if (issues->empty() || issues->back().field != "DiagnosticReport.resourceType") {
      issues->push_back({"DiagnosticReport.resourceType", "invalid", "must be DiagnosticReport"});
    }
  }
  const std::string subject_path = "DiagnosticReport.subject.reference";
  std::string subject;
  const size_t before_subject = issues->size();
  if (const json* s = ObjectAt(r, "subject", "DiagnosticReport.subject", issues)) {
    subject = StringAt(*s, "reference", subject_path, issues);
  }
  if (subject.rfind("Patient/", 0) != 0 || subject.size() == 8) {
    if (issues->size() == before_subject) {  // one issue per member: a mistyped subject is already reported
      issues->push_back({subject_path, "invalid", "a reference \"Patient/<id>\" is required"});
    }
  } else {
    in.patient_id = subject.substr(8);
  }
  if (const json* code = ObjectAt(r, "code", "DiagnosticReport.code", issues)) {
    in.title = StringAt(*code, "text", "DiagnosticReport.code.text", issues);
  }
  in.diagnosis = StringAt(r, "conclusion", "DiagnosticReport.conclusion", issues);
  const json* forms = Member(r, "presentedForm");
  if (forms && !forms->is_null()) {
    if (!forms->is_array()) {
      issues->push_back({"DiagnosticReport.presentedForm", "invalid_type", "must be an array"});
    } else if (!forms->empty()) {
      const json& first = (*forms)[0];
      if (!first.is_object()) {
        issues->push_back({"DiagnosticReport.presentedForm[0]", "invalid_type", "must be an Attachment object"});
      } else {
        const std::string data_path = "DiagnosticReport.presentedForm[0].data";
        size_t before = issues->size();
        std::string data = StringAt(first, "data", data_path, issues);
        if (issues->size() == before) {
          auto decoded = Base64Decode(data);
          if (decoded.ok()) {
            in.content = std::move(decoded).value();
          } else {
            issues->push_back({data_path, "invalid_base64", "data must be base64"});
          }
        }
      }
    }
  }
  return in;
}

std::string ExpressionFor(std::string_view api_field) {
  if (api_field == "patientId") return "DiagnosticReport.subject.reference";
  if (api_field == "title") return "DiagnosticReport.code.text";
  if (api_field == "diagnosis") return "DiagnosticReport.conclusion";
  if (api_field == "content") return "DiagnosticReport.presentedForm[0].data";
  if (api_field.rfind("DiagnosticReport", 0) == 0) return std::string(api_field);
  return "DiagnosticReport." + std::string(api_field);
}

json ReportToDiagnosticReport(const json& r) {
  int64_t version = Int(r, "version", 1);
  return {{"resourceType", "DiagnosticReport"},
          {"id", Str(r, "reportId")},
          {"meta", {{"versionId", std::to_string(version)}}},
          {"status", version > 1 ? "amended" : "final"},
          {"code", {{"text", Str(r, "title")}}},
          {"subject", {{"reference", "Patient/" + Str(r, "patientId")}}},
          {"issued", Str(r, "createdAt")},
          {"performer", json::array({{{"reference", "Practitioner/" + Str(r, "author")}}})},
          {"conclusion", Str(r, "diagnosis")},
          {"presentedForm", json::array({{{"contentType", "text/plain; charset=utf-8"},
                                          {"data", Base64Encode(Str(r, "content"))},
                                          {"hash", Str(r, "contentHash")}}})},
          {"identifier", json::array({{{"system", "urn:ietf:rfc:3986"}, {"value", "urn:cid:" + Str(r, "cid")}}})}};
}

Response OperationOutcomeFrom(const Response& problem) {
  json p = json::parse(problem.body, nullptr, false);
  if (!p.is_object()) p = json::object();
  std::string code = Str(p, "code");
  std::string detail = Str(p, "detail");
  if (detail.empty()) detail = Str(p, "title");
  json issues = json::array();
  const json* errors = Member(p, "errors");
  if (errors && errors->is_array()) {
    for (const auto& e : *errors) {
      std::string field_code = Str(e, "code");
      issues.push_back(
          Issue(IssueTypeForField(field_code), field_code, Str(e, "message"), ExpressionFor(Str(e, "field"))));
    }
  }
  if (issues.empty()) issues.push_back(Issue(IssueTypeForStatus(problem.status), code, detail, ""));
  json outcome = {{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
  Response r = JsonResponse(problem.status, outcome.dump());
  for (const auto& [name, value] : problem.headers) {
    if (name != "Content-Type" && name != "content-type") r.SetHeader(name, value);
  }
  r.SetHeader("Content-Type", "application/fhir+json");
  return r;
}

}  // namespace medledger::http::fhir
