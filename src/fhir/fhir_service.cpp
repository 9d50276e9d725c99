#include "fhir/fhir_service.h"

#include <algorithm>
#include <climits>

#include "common/role.h"
#include "common/time.h"
#include "fhir/audit_event.h"
#include "fhir/consent.h"
#include "fhir/provenance.h"
#include "fhir/resources.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;
using auth::Principal;

constexpr std::string_view kFhirPath = "/fhir/r4";

int64_t Millis(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return INT64_MIN;
  auto ts = Timestamp::FromRfc3339(it->get<std::string>());
  return ts.ok() ? ts->UnixMillis() : INT64_MIN;
}

// The search filters the contract's index cannot apply, over one index item (API JSON of a report head).
bool KeepReport(const SearchQuery& q, const json& item) {
  if (!item.is_object()) return false;
  const int64_t version = item.value("version", int64_t{1});
  if (!q.MatchesStatus(version > 1 ? "amended" : "final")) return false;
  if (!q.date.empty() && !SearchQuery::MatchesDates(q.date, Millis(item, "createdAt"))) return false;
  if (!q.last_updated.empty()) {
    int64_t updated = Millis(item, "updatedAt");
    if (updated == INT64_MIN) updated = Millis(item, "createdAt");
    if (!SearchQuery::MatchesDates(q.last_updated, updated)) return false;
  }
  return true;
}

// The self link of a search, and `next` when the service handed out a page token.
std::vector<BundleLink> SearchLinks(const std::string& base, const char* type, const SearchQuery& q,
                                    const std::string& token) {
  const std::string self = base + "/" + type + "?" + EncodeQuery(q.canonical);
  std::vector<BundleLink> links = {{"self", self}};
  if (!token.empty() && q.count > 0) links.push_back({"next", self + "&" + EncodeQuery({{"_page_token", token}})});
  return links;
}

Error NotFound(std::string code, std::string message) {
  return MakeError(ErrorKind::kNotFound, std::move(code), std::move(message));
}

Error Invalid(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "validation_failed", std::move(message));
}

}  // namespace

FhirService::FhirService(service::RecordsService* records, std::string home_msp)
    : records_(records), msp_(std::move(home_msp)) {}

json FhirService::VersionResource(const json& version, bool erased) const {
  json r = IndexEntryToDiagnosticReport(version, msp_);
  if (erased) r["status"] = "entered-in-error";
  return r;
}

Result<FhirService::History> FhirService::LoadHistory(const Principal& who, const std::string& id) const {
  ML_ASSIGN_OR_RETURN(std::string text, records_->ReportHistory(who, id));
  json h = json::parse(text, nullptr, false);
  History out;
  if (!h.is_object()) return out;
  out.erased = h.contains("erasure") && !h["erasure"].is_null();
  if (h.contains("items") && h["items"].is_array()) {
    for (const auto& v : h["items"]) out.versions.push_back(v);
  }
  std::sort(out.versions.begin(), out.versions.end(), [](const json& a, const json& b) {
    return a.value("version", int64_t{0}) < b.value("version", int64_t{0});
  });
  return out;
}

Result<std::vector<json>> FhirService::LoadProvenances(const Principal& who, const std::string& report_id,
                                                       std::optional<int64_t> only_version, size_t max_versions,
                                                       const std::string& base) const {
  ML_ASSIGN_OR_RETURN(auto versions, records_->ReportTransactions(who, report_id, only_version, max_versions));
  // The receipt lives in the JSON API, beside the FHIR base.
  std::string server = base;
  if (server.size() >= kFhirPath.size() &&
      server.compare(server.size() - kFhirPath.size(), kFhirPath.size(), kFhirPath) == 0) {
    server.resize(server.size() - kFhirPath.size());
  }
  std::vector<json> out;
  for (auto& v : versions) {
    ProvenanceInput in;
    in.version = json::parse(v.version_json, nullptr, false);
    in.envelope = std::move(v.envelope);
    in.recorded = v.recorded;
    in.endorser_msp = v.endorser_msp;
    in.endorser_name = v.endorser_name;
    in.home_msp = msp_;
    in.receipt_url = server + "/api/v1/reports/" + report_id + "/receipt?version=" +
                     std::to_string(in.version.is_object() ? in.version.value("version", int64_t{1}) : 1);
    out.push_back(ReportProvenance(in));
  }
  return out;
}

Result<std::vector<json>> FhirService::LoadConsents(const Principal& who, const std::string& patient_id) const {
  ML_ASSIGN_OR_RETURN(std::string text, records_->ListConsents(who, patient_id));
  json list = json::parse(text, nullptr, false);
  std::vector<json> out;
  const std::string now = Timestamp::Now().ToRfc3339();
  if (list.is_object() && list.contains("items") && list["items"].is_array()) {
    for (const auto& c : list["items"]) out.push_back(GrantToConsent(c, msp_, now));
  }
  return out;
}

// ---- Searches

Result<json> FhirService::SearchReports(const Principal& who, const SearchQuery& q, const std::string& base) const {
  std::vector<BundleEntry> entries;
  std::string patient = q.patient;
  std::string token;
  int64_t total = -1;
  if (!q.id.empty()) {
    // One report: its metadata as the history knows it, authorized as reading the report's metadata.
    ML_ASSIGN_OR_RETURN(History history, LoadHistory(who, q.id));
    total = 0;
    if (!history.versions.empty()) {
      const json& head = history.versions.back();
      if ((q.patient.empty() || head.value("patientId", "") == q.patient) && !history.erased && KeepReport(q, head)) {
        patient = head.value("patientId", "");
        total = 1;
        if (q.count > 0) entries.push_back({VersionResource(head, false), base + "/DiagnosticReport/" + q.id, "match"});
      }
    }
  } else {
    ML_ASSIGN_OR_RETURN(auto walk,
                        records_->WalkPatientReports(
                            who, q.patient, EncodeQuery(q.canonical),
                            [&q](const std::string& item) { return KeepReport(q, json::parse(item, nullptr, false)); },
                            q.count, q.page_token));
    for (const auto& item : walk.items) {
      json e = json::parse(item, nullptr, false);
      entries.push_back(
          {IndexEntryToDiagnosticReport(e, msp_), base + "/DiagnosticReport/" + e.value("reportId", ""), "match"});
    }
    token = walk.page_token;
    if (walk.complete) total = static_cast<int64_t>(walk.matched);
  }
  if (q.revinclude_provenance) {
    // Each matched report's Provenances (its history's authorization, the same as the match's own).
    // At most kMaxProvenances in all; past it the Bundle says so (an OperationOutcome, search.mode outcome).
    const size_t matched = entries.size();
    size_t included = 0;
    bool truncated = false;
    for (size_t i = 0; i < matched && !truncated; ++i) {
      const std::string id = entries[i].resource.value("id", "");
      ML_ASSIGN_OR_RETURN(auto provenances,
                          LoadProvenances(who, id, std::nullopt, kMaxProvenances - included + 1, base));
      for (auto& p : provenances) {
        if (included == kMaxProvenances) {
          truncated = true;
          break;
        }
        ++included;
        const std::string url = base + "/Provenance/" + p.value("id", "");
        entries.push_back({std::move(p), url, "include"});
      }
    }
    if (truncated) {
      entries.push_back({OperationOutcome(json::array({OutcomeIssue(
                             "too-costly", "revinclude_truncated",
                             "_revinclude=Provenance:target stopped at " + std::to_string(kMaxProvenances) +
                                 " Provenances; search Provenance?target= per report for the rest",
                             "", "warning")})),
                         "", "outcome"});
    }
  }
  if (q.include_subject && !entries.empty() && !patient.empty()) {
    auto p = records_->GetPatient(who, patient);  // a recorded lookup, as the JSON API's
    if (p.ok()) entries.push_back({PatientToFhir(*p), base + "/Patient/" + patient, "include"});
  }
  return SearchsetBundle(entries, SearchLinks(base, "DiagnosticReport", q, token), total);
}

Result<json> FhirService::SearchPatients(const Principal& who, const SearchQuery& q, const std::string& base) const {
  auto keep = [&q](const service::PatientView& p) {
    if (q.birthdate.empty()) return true;
    auto d = CivilDate::Parse(p.birth_date);
    return d.ok() && SearchQuery::MatchesDates(q.birthdate, d->DaysSinceEpoch() * 86400000);
  };
  std::vector<BundleEntry> entries;
  std::string token;
  int64_t total = -1;
  if (!q.id.empty()) {
    ML_ASSIGN_OR_RETURN(service::PatientView p, records_->GetPatient(who, q.id));
    const bool match = keep(p) && (q.name.empty() || p.name.find(q.name) != std::string::npos);
    total = match ? 1 : 0;
    if (match && q.count > 0) entries.push_back({PatientToFhir(p), base + "/Patient/" + p.patient_id, "match"});
  } else {
    ML_ASSIGN_OR_RETURN(auto page, records_->SearchPatients(
                                       who, q.name, std::max<uint32_t>(q.count, service::kMinPageSize), q.page_token));
    if (q.count > 0) {
      for (const auto& p : page.items) {
        if (keep(p)) entries.push_back({PatientToFhir(p), base + "/Patient/" + p.patient_id, "match"});
      }
    }
    token = page.bookmark;
    if (token.empty() && q.page_token.empty() && q.count > 0) total = static_cast<int64_t>(entries.size());
  }
  return SearchsetBundle(entries, SearchLinks(base, "Patient", q, token), total);
}

Result<json> FhirService::SearchAuditEvents(const Principal& who, const SearchQuery& q, const std::string& base) const {
  const uint32_t page = std::clamp<uint32_t>(q.count, service::kMinPageSize, service::kMaxPageSize);
  Result<std::string> events = std::string();
  if (who.role == Role::kAuditor) {
    service::RecordsService::AuditFilter f;
    f.patient_id = q.patient;
    f.page_size = page;
    f.bookmark = q.page_token;
    events = records_->AuditEvents(who, f);
  } else {
    // A patient reads their own trail; anyone else is refused by the service (deny by default).
    std::string patient = q.patient;
    if (patient.empty() && who.patient_id) patient = *who.patient_id;
    events = patient.empty() ? records_->AuditEvents(who, {}) : records_->AccessLog(who, patient, page, q.page_token);
  }
  if (!events.ok()) return events.error();
  json list = json::parse(*events, nullptr, false);
  std::vector<BundleEntry> entries;
  if (q.count > 0 && list.is_object() && list.contains("items") && list["items"].is_array()) {
    for (const auto& e : list["items"]) {
      json ev = AccessEventToAuditEvent(e, msp_);
      if (!q.date.empty() && !SearchQuery::MatchesDates(q.date, Millis(ev, "recorded"))) continue;
      if (!SearchQuery::MatchesCodings(q.type, AuditTypeCodings(ev))) continue;
      if (!SearchQuery::MatchesCodings(q.subtype, AuditSubtypeCodings(ev))) continue;
      if (!SearchQuery::MatchesCodings(q.agent, AuditAgentCodings(ev))) continue;
      const std::string url = base + "/AuditEvent/" + ev.value("id", "");
      entries.push_back({std::move(ev), url, "match"});
    }
  }
  const std::string token = list.is_object() ? list.value("bookmark", "") : std::string();
  const int64_t total = token.empty() && q.page_token.empty() ? static_cast<int64_t>(entries.size()) : -1;
  return SearchsetBundle(entries, SearchLinks(base, "AuditEvent", q, token), q.count > 0 ? total : -1);
}

Result<json> FhirService::SearchConsents(const Principal& who, const SearchQuery& q, const std::string& base) const {
  ML_ASSIGN_OR_RETURN(auto consents, LoadConsents(who, q.patient));
  std::vector<BundleEntry> entries;
  int64_t total = 0;
  for (auto& c : consents) {
    if (!q.MatchesStatus(c.value("status", ""))) continue;
    if (!q.actor.empty()) {
      std::vector<std::pair<std::string, std::string>> actor;
      const json& id = c["provision"]["actor"][0]["reference"]["identifier"];
      actor.emplace_back(id.value("system", ""), id.value("value", ""));
      if (!SearchQuery::MatchesCodings(q.actor, actor)) continue;
    }
    ++total;
    if (entries.size() < q.count) {
      const std::string url = base + "/Consent/" + c.value("id", "");
      entries.push_back({std::move(c), url, "match"});
    }
  }
  // One page: a patient's grants are few (the contract lists them whole); _count cuts, `total` tells.
  return SearchsetBundle(entries, SearchLinks(base, "Consent", q, ""), total);
}

Result<json> FhirService::SearchProvenances(const Principal& who, const SearchQuery& q, const std::string& base) const {
  // The newest kMaxProvenances (one more, to know whether there are more: then no total).
  ML_ASSIGN_OR_RETURN(auto all, LoadProvenances(who, q.target, std::nullopt, kMaxProvenances + 1, base));
  const int64_t total = all.size() > kMaxProvenances ? -1 : static_cast<int64_t>(all.size());
  std::vector<BundleEntry> entries;
  for (auto it = all.rbegin(); it != all.rend() && entries.size() < std::min<size_t>(q.count, kMaxProvenances); ++it) {
    entries.push_back({*it, base + "/Provenance/" + it->value("id", ""), "match"});
  }
  return SearchsetBundle(entries, SearchLinks(base, "Provenance", q, ""), total);
}

// ---- Reads

Result<json> FhirService::ReadReport(const Principal& who, const std::string& id) const {
  ML_ASSIGN_OR_RETURN(auto v, records_->ReadReport(who, id, ""));
  return ReportToDiagnosticReport(json::parse(v.json, nullptr, false), v.attachments, msp_);
}

Result<json> FhirService::ReadReportVersion(const Principal& who, const std::string& id, uint64_t version) const {
  if (version < 1 || version > (uint64_t{1} << 31))
    return NotFound("version_not_found", "versions are numbered from 1");
  ML_ASSIGN_OR_RETURN(History history, LoadHistory(who, id));
  auto it = std::find_if(history.versions.begin(), history.versions.end(), [&](const json& v) {
    return v.value("version", int64_t{0}) == static_cast<int64_t>(version);
  });
  if (it == history.versions.end()) return NotFound("version_not_found", "the report has no such version");
  if (history.erased) return NotFound("content_erased", "this report's content was erased");
  // The current version: its content, through the same recorded read as ReadReport. An earlier one: its ledger
  // metadata, never content whose read went unrecorded.
  if (&*it == &history.versions.back()) return ReadReport(who, id);
  return VersionResource(*it, false);
}

Result<json> FhirService::ReportHistory(const Principal& who, const std::string& id, const std::string& base) const {
  ML_ASSIGN_OR_RETURN(History history, LoadHistory(who, id));
  std::vector<json> versions;  // newest first, as FHIR's history lists them
  for (auto it = history.versions.rbegin(); it != history.versions.rend(); ++it) {
    versions.push_back(VersionResource(*it, history.erased));
  }
  return HistoryBundle(base, versions, static_cast<int64_t>(versions.size()));
}

Result<json> FhirService::ReadPatient(const Principal& who, const std::string& id) const {
  ML_ASSIGN_OR_RETURN(service::PatientView p, records_->GetPatient(who, id));
  return PatientToFhir(p);
}

Result<json> FhirService::ReadProvenance(const Principal& who, const std::string& id, const std::string& base) const {
  auto key = ParseProvenanceId(id);
  if (!key) return NotFound("not_found", "a Provenance ID is <reportId>-v<version>");
  ML_ASSIGN_OR_RETURN(auto all, LoadProvenances(who, key->report_id, key->version, 1, base));
  for (auto& p : all) {
    if (p.value("id", "") == id) return std::move(p);
  }
  return NotFound("version_not_found", "the report has no such version");
}

Result<json> FhirService::ReadConsent(const Principal& who, const std::string& id) const {
  if (!who.patient_id) {
    return MakeError(ErrorKind::kPermissionDenied, "forbidden",
                     "only the patient reads a Consent by ID; search with patient");
  }
  ML_ASSIGN_OR_RETURN(auto all, LoadConsents(who, *who.patient_id));
  for (auto& c : all) {
    if (c.value("id", "") == id) return std::move(c);
  }
  return NotFound("consent_not_found", "no such consent");
}

// ---- Writes

Result<Created> FhirService::CreateReport(const Principal& who, const json& body, const std::string& idempotency_key,
                                          const std::string& body_sha256,
                                          std::vector<service::FieldIssue>* issues) const {
  // A refusal names its fields as FHIRPath expressions, whoever found the problem (the mapping or the service).
  auto refused = [issues](Error e) {
    for (auto& i : *issues) i.field = ExpressionFor(i.field);
    return e;
  };
  service::ReportInput in = DiagnosticReportToInput(body, issues);
  if (!issues->empty()) return refused(Invalid("the DiagnosticReport is invalid"));
  auto submitted = records_->SubmitReport(who, in, idempotency_key, body_sha256, issues);
  if (!submitted.ok()) return refused(submitted.error());
  const auto& receipt = *submitted;
  // The created resource as the ledger index now knows it (its content is what the client sent).
  Created out;
  out.resource = IndexEntryToDiagnosticReport({{"reportId", receipt.report_id},
                                               {"version", receipt.version},
                                               {"patientId", in.patient_id},
                                               {"author", who.username},
                                               {"createdAt", receipt.timestamp},
                                               {"cid", receipt.cid}},
                                              msp_);
  out.resource["code"] = {{"text", in.title}};
  out.version = receipt.version;
  out.location = std::string(kFhirPath) + "/DiagnosticReport/" + receipt.report_id + "/_history/" +
                 std::to_string(receipt.version);
  return out;
}

Result<Created> FhirService::CreateConsent(const Principal& who, const json& body,
                                           std::vector<service::FieldIssue>* issues) const {
  ConsentInput in = ConsentToInput(body, issues);
  if (issues->empty() && in.status != "active")
    issues->push_back({"Consent.status", "invalid", "a new grant is active"});
  if (!issues->empty()) return Invalid("the Consent is invalid");
  ML_ASSIGN_OR_RETURN(std::string granted, records_->GrantConsent(who, in.patient_id, in.doctor, in.purpose,
                                                                  in.purpose_code, in.expires_at));
  Created out;
  out.resource = GrantToConsent(json::parse(granted, nullptr, false), msp_, Timestamp::Now().ToRfc3339());
  out.location = std::string(kFhirPath) + "/Consent/" + out.resource.value("id", "");
  return out;
}

Result<json> FhirService::RevokeConsent(const Principal& who, const std::string& id, const json& body,
                                        std::vector<service::FieldIssue>* issues) const {
  ConsentInput in = ConsentToInput(body, issues);
  if (body.is_object() && body.contains("id") && (!body["id"].is_string() || body["id"].get<std::string>() != id)) {
    issues->push_back({"Consent.id", "invalid", "the body's id is not the URL's"});
  }
  if (issues->empty() && in.status != "inactive") {
    issues->push_back(
        {"Consent.status", "invalid", "the only update of a Consent is its revocation (status inactive)"});
  }
  if (!issues->empty()) return Invalid("the Consent is invalid");
  ML_RETURN_IF_ERROR(records_->RevokeConsent(who, in.patient_id, id));
  return OperationOutcome(
      json::array({OutcomeIssue("informational", "consent_revoked", "the consent was revoked", "", "information")}));
}

}  // namespace medledger::fhir
