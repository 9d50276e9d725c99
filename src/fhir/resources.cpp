#include "fhir/resources.h"

#include <openssl/evp.h>

#include "common/encoding.h"

namespace medledger::fhir {
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

// R4's Attachment.hash: the base64 SHA-1 of the data (http://hl7.org/fhir/R4/datatypes.html#Attachment).
std::string Sha1Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr) != 1) return {};
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

const json kSubsetted = {{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"},
                         {"code", "SUBSETTED"},
                         {"display", "subsetted"}};

// "author" of our API JSON is a username; "authorMsp" is present only for another hospital's author.
json Performer(const json& r, const std::string& home_msp) {
  std::string msp = Str(r, "authorMsp");
  if (msp.empty()) msp = home_msp;
  const std::string user = Str(r, "author");
  return json::array({{{"identifier", {{"system", "urn:medledger:msp:" + msp}, {"value", user}}},
                       {"display", user + " (" + msp + ")"}}});
}

json Identifiers(const json& r) {
  json ids = json::array();
  if (!Str(r, "cid").empty()) ids.push_back({{"system", "urn:ietf:rfc:3986"}, {"value", "urn:cid:" + Str(r, "cid")}});
  ids.push_back({{"system", "urn:medledger:report"}, {"value", Str(r, "reportId")}});
  return ids;
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
  // Already a FHIRPath (it starts with a resource type: "DiagnosticReport.code", "Consent.provision"): as is.
  if (!api_field.empty() && api_field[0] >= 'A' && api_field[0] <= 'Z') return std::string(api_field);
  return "DiagnosticReport." + std::string(api_field);
}

json ReportToDiagnosticReport(const json& r, const std::vector<std::pair<std::string, std::string>>& attachments,
                              const std::string& home_msp) {
  int64_t version = Int(r, "version", 1);
  const std::string content = Str(r, "content");
  json forms = json::array({{{"contentType", "text/plain; charset=utf-8"},
                             {"data", Base64Encode(content)},
                             {"size", content.size()},
                             {"hash", Sha1Base64(content)},
                             {"title", "report text"}}});
  const json* meta = Member(r, "attachments");
  for (size_t i = 0; i < attachments.size(); ++i) {
    const auto& [type, bytes] = attachments[i];
    json form = {{"contentType", type.empty() ? "application/octet-stream" : type},
                 {"data", Base64Encode(bytes)},
                 {"size", bytes.size()},
                 {"hash", Sha1Base64(bytes)}};
    if (meta && meta->is_array() && i < meta->size()) {
      std::string name = Str((*meta)[i], "filename");
      if (!name.empty()) form["title"] = name;
    }
    forms.push_back(std::move(form));
  }
  json out = {{"resourceType", "DiagnosticReport"},
              {"id", Str(r, "reportId")},
              {"meta", {{"versionId", std::to_string(version)}}},
              {"identifier", Identifiers(r)},
              {"status", version > 1 ? "amended" : "final"},
              {"code", {{"text", Str(r, "title")}}},
              {"subject", {{"reference", "Patient/" + Str(r, "patientId")}}},
              {"performer", Performer(r, home_msp)},
              {"presentedForm", std::move(forms)}};
  if (!Str(r, "createdAt").empty()) {
    out["issued"] = Str(r, "createdAt");
    out["effectiveDateTime"] = Str(r, "createdAt");
    out["meta"]["lastUpdated"] = Str(r, "createdAt");
  }
  if (!Str(r, "diagnosis").empty()) out["conclusion"] = Str(r, "diagnosis");
  return out;
}

json IndexEntryToDiagnosticReport(const json& e, const std::string& home_msp) {
  int64_t version = Int(e, "version", 1);
  json out = {{"resourceType", "DiagnosticReport"},
              {"id", Str(e, "reportId")},
              {"meta", {{"versionId", std::to_string(version)}, {"tag", json::array({kSubsetted})}}},
              {"identifier", Identifiers(e)},
              {"status", version > 1 ? "amended" : "final"},
              // code is 1..1 in R4: the title is content, so a search says only what kind of resource this is.
              {"code", {{"text", "report (content withheld from search results; read the resource)"}}},
              {"subject", {{"reference", "Patient/" + Str(e, "patientId")}}},
              {"performer", Performer(e, home_msp)}};
  // The first version's time is the report's effective time; a later version's own time is its lastUpdated.
  const std::string created = Str(e, "createdAt");
  const std::string updated = Str(e, "updatedAt").empty() ? created : Str(e, "updatedAt");
  if (!created.empty()) {
    out["issued"] = created;
    out["effectiveDateTime"] = created;
  }
  if (!updated.empty()) out["meta"]["lastUpdated"] = updated;
  return out;
}

json PatientToFhir(const service::PatientView& p) {
  json out = {{"resourceType", "Patient"}, {"id", p.patient_id}};
  if (!p.name.empty()) out["name"] = json::array({{{"text", p.name}}});
  if (!p.birth_date.empty()) out["birthDate"] = p.birth_date;
  return out;
}

const char* IssueTypeForStatus(int status) {
  switch (status) {
    case 401: return "login";
    case 403: return "forbidden";
    case 404:
    case 410: return "not-found";
    case 406:
    case 415: return "not-supported";
    case 409: return "conflict";
    case 413: return "too-long";
    case 429: return "throttled";
    case 503:
    case 504: return "transient";
    default: return status >= 500 ? "exception" : "invalid";
  }
}

json OutcomeIssue(const std::string& type, const std::string& code, const std::string& diagnostics,
                  const std::string& expression, const std::string& severity) {
  json issue = {{"severity", severity}, {"code", type}};
  if (!code.empty()) {
    issue["details"] = {{"coding", json::array({{{"system", "urn:medledger:error-code"}, {"code", code}}})}};
  }
  if (!diagnostics.empty()) issue["diagnostics"] = diagnostics;
  if (!expression.empty()) issue["expression"] = json::array({expression});
  return issue;
}

json OperationOutcome(json issues) {
  return {{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
}

json OperationOutcomeFromProblem(const json& problem, int status) {
  std::string code = Str(problem, "code");
  std::string detail = Str(problem, "detail");
  if (detail.empty()) detail = Str(problem, "title");
  json issues = json::array();
  const json* errors = Member(problem, "errors");
  if (errors && errors->is_array()) {
    for (const auto& e : *errors) {
      std::string field_code = Str(e, "code");
      issues.push_back(
          OutcomeIssue(IssueTypeForField(field_code), field_code, Str(e, "message"), ExpressionFor(Str(e, "field"))));
    }
  }
  if (issues.empty()) issues.push_back(OutcomeIssue(IssueTypeForStatus(status), code, detail, ""));
  return OperationOutcome(std::move(issues));
}

json SearchsetBundle(const std::vector<BundleEntry>& entries, const std::vector<BundleLink>& links, int64_t total) {
  json bundle = {{"resourceType", "Bundle"}, {"type", "searchset"}};
  if (total >= 0) bundle["total"] = total;
  json link = json::array();
  for (const auto& l : links) link.push_back({{"relation", l.relation}, {"url", l.url}});
  if (!link.empty()) bundle["link"] = std::move(link);
  json entry = json::array();
  for (const auto& e : entries) {
    json item = {{"resource", e.resource}};
    if (!e.full_url.empty()) item["fullUrl"] = e.full_url;
    if (!e.mode.empty()) item["search"] = {{"mode", e.mode}};
    entry.push_back(std::move(item));
  }
  if (!entry.empty()) bundle["entry"] = std::move(entry);
  return bundle;
}

json HistoryBundle(const std::string& base, const std::vector<json>& versions, int64_t total) {
  json bundle = {{"resourceType", "Bundle"}, {"type", "history"}, {"total", total}};
  json entry = json::array();
  for (const auto& v : versions) {
    const std::string id = Str(v, "id");
    const json* meta = Member(v, "meta");
    const std::string vid = meta ? Str(*meta, "versionId") : std::string();
    json response = {{"status", vid == "1" ? "201 Created" : "200 OK"}, {"etag", "W/\"" + vid + "\""}};
    if (meta && !Str(*meta, "lastUpdated").empty()) response["lastModified"] = Str(*meta, "lastUpdated");
    entry.push_back({{"fullUrl", base + "/DiagnosticReport/" + id},
                     {"resource", v},
                     {"request",
                      {{"method", vid == "1" ? "POST" : "PUT"},
                       {"url", vid == "1" ? "DiagnosticReport" : "DiagnosticReport/" + id}}},
                     {"response", std::move(response)}});
  }
  if (!entry.empty()) bundle["entry"] = std::move(entry);
  return bundle;
}

}  // namespace medledger::fhir
