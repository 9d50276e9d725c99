#include "service/records_service.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "service/receipt_builder.h"

namespace medledger::service {

using json = nlohmann::json;
using identity::Role;

struct RecordsService::CallResult {
  json payload;
  ledger::TxReceipt receipt;
};

namespace {

Error Denied(std::string message) {
  return MakeError(ErrorKind::kPermissionDenied, "forbidden", std::move(message));
}

bool Is(const Principal& p, std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (p.role == r) return true;
  }
  return false;
}

bool OwnsPatient(const Principal& p, const std::string& patient_id) {
  return p.role == Role::kPatient && p.patient_id && *p.patient_id == patient_id;
}

// Contract records use patientRef; the API calls the same pseudonym patientId.
std::string Str(const json& j, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto it = j.find(n);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

uint32_t U32(const json& j, const char* name, uint32_t fallback) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint32_t>() : fallback;
}

// The contract names callers "<mspId>/<username>"; the API speaks usernames of this organisation.
std::string CallerUsername(const std::string& caller_id) {
  auto slash = caller_id.find('/');
  return slash == std::string::npos ? caller_id : caller_id.substr(slash + 1);
}

// Renames contract fields to API fields in every object of a list payload.
json ApiShape(json j) {
  if (j.is_array()) {
    for (auto& e : j) e = ApiShape(std::move(e));
    return j;
  }
  if (!j.is_object()) return j;
  json out = json::object();
  for (auto& [k, v] : j.items()) {
    if ((k == "author" || k == "doctor" || k == "actor" || k == "registeredBy" || k == "publishedBy" ||
         k == "erasedBy") &&
        v.is_string()) {
      const std::string id = v.get<std::string>();
      out[k] = CallerUsername(id);
      // In a consortium the username alone is ambiguous: the hospital (MSP ID) goes with it.
      if (auto slash = id.find('/'); slash != std::string::npos) out[k + "Msp"] = id.substr(0, slash);
      continue;
    }
    out[k == "patientRef" ? "patientId" : k == "patientRefs" ? "patientIds" : k] = ApiShape(v);
  }
  return out;
}

json ListShape(const json& payload) {
  json out = json::object();
  if (payload.is_array()) {
    out["items"] = ApiShape(payload);
  } else if (payload.is_object()) {
    out = ApiShape(payload);
    if (!out.contains("items")) {
      for (const char* k : {"records", "reports", "consents", "events", "history", "versions"}) {
        if (out.contains(k)) {
          out["items"] = out[k];
          out.erase(k);
          break;
        }
      }
    }
    if (!out.contains("items")) out["items"] = json::array();
  } else {
    out["items"] = json::array();
  }
  return out;
}

bool IsHexId(const std::string& s, size_t min, size_t max) {
  return s.size() >= min && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status CheckReportId(const std::string& id) {
  if (!IsHexId(id, 32, 32)) return MakeError(ErrorKind::kNotFound, "report_not_found", "no such report");
  return OkStatus();
}

Status CheckPatientId(const std::string& id) {
  if (!IsHexId(id, 64, 64)) return MakeError(ErrorKind::kNotFound, "patient_not_found", "no such patient");
  return OkStatus();
}

json AttachmentsMeta(const json& doc) {
  json out = json::array();
  if (!doc.contains("attachments") || !doc["attachments"].is_array()) return out;
  size_t i = 0;
  for (const auto& a : doc["attachments"]) {
    out.push_back({{"index", i++},
                   {"filename", Str(a, {"filename"})},
                   {"contentType", Str(a, {"contentType"})},
                   {"size", a.value("size", 0)},
                   {"sha256", Str(a, {"sha256"})}});
  }
  return out;
}

// Closed codes, as the contract checks them (src/contract/records_support.h): no free text on the ledger.
constexpr std::array<std::string_view, 6> kAccessPurposes = {"treatment", "verification", "amendment",
                                                             "emergency", "audit",        "self"};
constexpr std::array<std::string_view, 4> kConsentPurposes = {"treatment", "second_opinion", "care_coordination",
                                                              "other"};

template <size_t N>
bool IsCode(std::string_view s, const std::array<std::string_view, N>& codes) {
  return std::find(codes.begin(), codes.end(), s) != codes.end();
}

// Labels of sealed notes (ReportVault::PutNote): a note opens only under the label it was sealed with.
constexpr std::string_view kEmergencyReasonNote = "emergency-reason";
constexpr std::string_view kConsentPurposeNote = "consent-purpose";

// What a bookmark is bound to: the listing, the caller and every filter of the listing.
std::string Scope(std::string_view listing, const Principal& who, json filters) {
  return json::array({listing, who.username, std::move(filters)}).dump();
}

// The contract's list payload in API shape, its bookmark (a raw ledger position) sealed for `scope`.
Result<std::string> SealedList(const BookmarkSealer& sealer, const json& payload, const std::string& scope) {
  json out = ListShape(payload);
  ML_ASSIGN_OR_RETURN(auto bookmark, sealer.Seal(scope, Str(out, {"bookmark"})));
  out["bookmark"] = std::move(bookmark);
  return out.dump();
}

std::string Canonical(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

}  // namespace

Status CheckPageSize(uint32_t page_size) {
  if (page_size < kMinPageSize || page_size > kMaxPageSize) {
    return MakeError(
        ErrorKind::kInvalidArgument, "invalid_page_size",
        "pageSize must be an integer from " + std::to_string(kMinPageSize) + " to " + std::to_string(kMaxPageSize));
  }
  return OkStatus();
}

Result<const BookmarkSealer*> RecordsService::Bookmarks() const {
  if (p_.bookmarks == nullptr) {
    return MakeError(ErrorKind::kInternal, "bookmarks_unavailable", "the service has no bookmark key");
  }
  return p_.bookmarks;
}

std::string Receipt::ToJson() const {
  json j = {{"reportId", report_id},       {"version", version},    {"cid", cid},
            {"contentHash", content_hash}, {"txId", tx_id},         {"blockNumber", block_number},
            {"blockHash", block_hash},     {"timestamp", timestamp}};
  if (!flags.empty()) j["flags"] = flags;
  return j.dump();
}

Result<Receipt> Receipt::FromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return MakeError(ErrorKind::kCorruption, "receipt_corrupt", "bad receipt");
  Receipt r;
  r.report_id = Str(j, {"reportId"});
  r.version = U32(j, "version", 1);
  r.cid = Str(j, {"cid"});
  r.content_hash = Str(j, {"contentHash"});
  r.tx_id = Str(j, {"txId"});
  r.block_number = j.value("blockNumber", uint64_t{0});
  r.block_hash = Str(j, {"blockHash"});
  r.timestamp = Str(j, {"timestamp"});
  if (j.contains("flags") && j["flags"].is_array()) {
    for (const auto& f : j["flags"]) {
      if (f.is_string()) r.flags.push_back(f.get<std::string>());
    }
  }
  return r;
}

Result<RecordsService::CallResult> RecordsService::Call(const Principal& who, const std::string& function,
                                                        const std::string& arg_json, bool submit) {
  // The caller's own certificate and key: the contract sees who really asked.
  ML_ASSIGN_OR_RETURN(auto identity, p_.org->LoadIdentity(who.username));
  CallResult out;
  std::string payload;
  if (submit) {
    ML_ASSIGN_OR_RETURN(out.receipt, p_.ledger->Submit(identity, ledger::Invocation{function, {arg_json}}));
    payload = out.receipt.payload;
  } else {
    ML_ASSIGN_OR_RETURN(payload, p_.ledger->Evaluate(identity, ledger::Invocation{function, {arg_json}}));
  }
  if (!payload.empty()) {
    out.payload = json::parse(payload, nullptr, false);
    if (out.payload.is_discarded()) {
      return MakeError(ErrorKind::kInternal, "contract_payload_invalid", function + " returned non-JSON");
    }
  }
  return out;
}

// ---- patients ---------------------------------------------------------------------------------------

Result<PatientView> RecordsService::RegisterPatient(const Principal& who, const NewPatient& in,
                                                    std::vector<FieldIssue>* issues) {
  if (who.role != Role::kAdmin) return Denied("only administrators register patients");
  std::vector<FieldIssue> local;
  if (!issues) issues = &local;
  issues->clear();
  bool mrn_ok = !in.mrn.empty() && in.mrn.size() <= 64 && std::all_of(in.mrn.begin(), in.mrn.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
  if (!mrn_ok) issues->push_back({"mrn", "invalid", "1-64 letters, digits, '-', '.', '_'"});
  std::string name;
  if (!IsValidUtf8(in.name)) {
    issues->push_back({"name", "invalid_utf8", "the name is not valid UTF-8"});
  } else {
    name = NormalizeText(in.name);
    std::replace(name.begin(), name.end(), '\n', ' ');
    if (name.find_first_not_of(" \t") == std::string::npos) {
      issues->push_back({"name", "required", "this field is required"});
    } else if (name.size() > 200) {
      issues->push_back({"name", "too_long", "at most 200 bytes"});
    } else if (auto issue = CheckPlainText("name", name)) {
      issues->push_back(std::move(*issue));
    }
  }
  if (auto issue = CheckBirthDate(in.birth_date, Now())) issues->push_back(std::move(*issue));
  std::string login_id;  // the CN of the patient's certificate: a pseudonym, never the username
  if (!in.username.empty()) {
    auto user = p_.org->users().GetUser(in.username);
    if (!user.ok() || user->role != Role::kPatient) {
      issues->push_back({"username", "not_a_patient_login", "no patient login with this username"});
    } else {
      auto cert = crypto::Certificate::FromPem(user->cert_pem);
      if (!cert.ok()) return MakeError(ErrorKind::kInternal, "certificate_invalid", "the login's certificate");
      login_id = cert->SubjectCommonName();
    }
  }
  if (!issues->empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the patient has invalid fields");
  }
  PatientRecord rec{p_.patients->PatientIdForMrn(in.mrn), in.mrn, name, in.birth_date, in.username, Now().ToRfc3339()};
  ML_RETURN_IF_ERROR(p_.patients->Add(rec));
  json arg = {{"patientRef", rec.patient_id}};
  if (!login_id.empty()) arg["login"] = login_id;
  auto done = Call(who, "RegisterPatient", arg.dump(), true);
  if (!done.ok()) {
    p_.patients->Remove(rec.patient_id);
    return done.error();
  }
  return PatientView{rec.patient_id, rec.name, rec.birth_date, rec.username};
}

Result<PatientView> RecordsService::GetPatient(const Principal& who, const std::string& patient_id) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (!Is(who, {Role::kAdmin, Role::kDoctor}) && !OwnsPatient(who, patient_id)) {
    return Denied("not allowed to see this patient");
  }
  ML_ASSIGN_OR_RETURN(auto rec, p_.patients->Get(patient_id));
  // Someone other than the patient looked at the record: on the trail before the answer (log before release).
  if (!OwnsPatient(who, patient_id)) {
    json arg = {{"kind", "lookup"}, {"patientRefs", json::array({patient_id})}};
    ML_RETURN_IF_ERROR(Call(who, "RecordLookup", arg.dump(), true));
  }
  return PatientView{rec.patient_id, rec.name, rec.birth_date, rec.username};
}

Result<PatientPage> RecordsService::SearchPatients(const Principal& who, const std::string& query, uint32_t page_size,
                                                   const std::string& bookmark) {
  if (!Is(who, {Role::kAdmin, Role::kDoctor})) return Denied("not allowed to search patients");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("patients", who, query);
  ML_ASSIGN_OR_RETURN(std::string after, sealer->Open(scope, bookmark));
  auto matches = p_.patients->Search(query);
  // Pages in (name, patientId) order; a bookmark holds the last patientId of the page before.
  std::sort(matches.begin(), matches.end(), [](const PatientRecord& x, const PatientRecord& y) {
    return std::tie(x.name, x.patient_id) < std::tie(y.name, y.patient_id);
  });
  auto begin = matches.begin();
  if (!after.empty()) {
    begin = std::find_if(matches.begin(), matches.end(), [&](const PatientRecord& r) { return r.patient_id == after; });
    if (begin == matches.end()) {
      return MakeError(ErrorKind::kInvalidArgument, "invalid_bookmark", "the bookmark's patient is no longer listed");
    }
    ++begin;
  }
  PatientPage page;
  json refs = json::array();
  for (auto it = begin; it != matches.end() && page.items.size() < page_size; ++it) {
    page.items.push_back({it->patient_id, it->name, it->birth_date, it->username});
    refs.push_back(it->patient_id);
  }
  if (!page.items.empty() && begin + static_cast<std::ptrdiff_t>(page.items.size()) != matches.end()) {
    ML_ASSIGN_OR_RETURN(page.bookmark, sealer->Seal(scope, page.items.back().patient_id));
  }
  // One event for the whole page, naming the patients shown and the number of matches, never the query.
  json arg = {{"kind", "search"}, {"patientRefs", refs}, {"resultCount", matches.size()}};
  ML_RETURN_IF_ERROR(Call(who, "RecordLookup", arg.dump(), true));
  return page;
}

// ---- reports ----------------------------------------------------------------------------------------

Result<Receipt> RecordsService::SealAndCommit(const Principal& who, const std::string& function,
                                              const std::string& report_id, uint32_t version,
                                              const std::string& patient_id, const std::string& document, json args) {
  ML_ASSIGN_OR_RETURN(auto stored, p_.vault->Put(report_id, patient_id, document));
  if (p_.durability_barrier) {
    if (auto synced = p_.durability_barrier(); !synced.ok()) {
      (void)p_.vault->Discard(report_id, stored);
      return synced.error();
    }
  }
  Receipt r;
  r.report_id = report_id;
  r.version = version;
  r.cid = stored.cid;
  r.content_hash = stored.content_hash;
  args["reportId"] = report_id;
  args["patientRef"] = patient_id;
  args["cid"] = r.cid;
  args["contentHash"] = r.content_hash;
  args["version"] = version;
  auto done = Call(who, function, args.dump(), true);
  if (!done.ok()) {
    // Nothing on the ledger points at this envelope: destroy its key so the orphan is unreadable.
    (void)p_.vault->Discard(report_id, stored);
    return done.error();
  }
  r.tx_id = done->receipt.tx_id;
  r.block_number = done->receipt.block_number;
  r.block_hash = done->receipt.block_hash;
  r.timestamp = done->receipt.timestamp.ToRfc3339();
  // In a consortium the ciphertext gets replicas on other members' nodes, in the background.
  if (p_.consortium != nullptr) p_.consortium->ReplicateLater(report_id, version, r.tx_id);
  return r;
}

Result<std::string> RecordsService::SealNote(const std::string& owner, std::string_view label,
                                             const std::string& text) {
  ML_ASSIGN_OR_RETURN(std::string cid, p_.vault->PutNote(owner, label, text));
  if (p_.durability_barrier) {
    if (auto synced = p_.durability_barrier(); !synced.ok()) {
      (void)p_.vault->DiscardNote(owner, cid);
      return synced.error();
    }
  }
  return cid;
}

Result<std::string> RecordsService::OpenNote(const std::string& owner, std::string_view label, const std::string& cid) {
  return p_.vault->GetNote(owner, label, cid);
}

namespace {

// The ledger's record of when and by whom the actor got their role; recentlyEnrolled when that was at most
// `days` before the event. An actor with no record (enrolled before user administration was recorded, or
// outside the server) is marked so: that is itself worth a look.
void MarkEnrollment(json& event, const json& record, int days) {
  if (!record.is_object()) {
    event["actorEnrollmentRecorded"] = false;
    return;
  }
  event["actorEnrollmentRecorded"] = true;
  const bool role_changed = record.contains("roleChangedAt");
  const std::string since = Str(record, {role_changed ? "roleChangedAt" : "enrolledAt"});
  const std::string by = Str(record, {role_changed ? "roleChangedBy" : "enrolledBy"});
  if (since.empty()) return;
  event["actorEnrolledAt"] = since;
  event["actorEnrolledBy"] = CallerUsername(by);
  auto granted = Timestamp::FromRfc3339(since);
  auto at = Timestamp::FromRfc3339(Str(event, {"timestamp"}));
  if (granted.ok() && at.ok()) {
    event["recentlyEnrolled"] = at->seconds - granted->seconds <= int64_t{days} * 86400;
  }
}

// Replaces the note's CID in `item` by its text for an allowed reader; an erased note says so instead.
template <typename Open>
void AttachNote(json& item, const char* cid_field, const char* text_field, Open&& open) {
  auto it = item.find(cid_field);
  if (it == item.end() || !it->is_string()) return;
  auto text = open(it->get<std::string>());
  if (text.ok()) {
    item[text_field] = *text;
  } else if (text.error().code == "key_destroyed") {
    item[std::string(text_field) + "Erased"] = true;
  }
}

}  // namespace

Status RecordsService::MayPerform(const Principal& who, Action action) {
  switch (action) {
    case Action::kSubmitReport:
      if (who.role != Role::kDoctor) return Denied("only doctors submit reports");
      break;
    case Action::kEraseReport:
      if (who.role != Role::kAdmin) return Denied("only administrators erase reports");
      break;
    case Action::kPublishClinician:
      if (who.role != Role::kAdmin) return Denied("only administrators publish clinicians");
      break;
  }
  return OkStatus();
}

Result<Receipt> RecordsService::SubmitReport(const Principal& who, ReportInput in, const std::string& idempotency_key,
                                             const std::string& request_hash, std::vector<FieldIssue>* issues) {
  ML_RETURN_IF_ERROR(MayPerform(who, Action::kSubmitReport));
  if (!idempotency_key.empty()) {
    ML_ASSIGN_OR_RETURN(auto begin, p_.idempotency->Start(who.username, idempotency_key, request_hash));
    if (begin.stored_result) {
      ML_ASSIGN_OR_RETURN(auto r, Receipt::FromJson(*begin.stored_result));
      r.replayed = true;
      return r;
    }
  }
  auto result = [&]() -> Result<Receipt> {
    ML_ASSIGN_OR_RETURN(auto v, ValidateReport(std::move(in), p_.policy, issues));
    if (!IsHexId(v.patient_id, 64, 64) || !p_.patients->Get(v.patient_id).ok()) {
      if (issues) issues->push_back({"patientId", "unknown_patient", "no patient with this id"});
      return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the report has invalid fields");
    }
    std::string report_id = crypto::RandomHex(16);
    std::string created = Now().ToRfc3339();
    json atts = json::array();
    for (const auto& a : v.attachments) {
      atts.push_back({{"filename", a.filename},
                      {"contentType", a.content_type},
                      {"size", a.data.size()},
                      {"sha256", HexEncode(crypto::Sha256(a.data))},
                      {"data", Base64Encode(a.data)}});
    }
    json doc = {
        {"schema", "medledger.report.v1"}, {"reportId", report_id},          {"version", 1},
        {"patientId", v.patient_id},       {"title", std::move(v.title)},    {"diagnosis", std::move(v.diagnosis)},
        {"content", std::move(v.content)}, {"attachments", std::move(atts)}, {"author", who.username},
        {"authorName", who.display_name},  {"createdAt", created},           {"flags", v.flags}};
    json extra = {
        {"metadata", {{"schema", "medledger.report.v1"}, {"attachments", v.attachments.size()}, {"flags", v.flags}}}};
    ML_ASSIGN_OR_RETURN(
        auto receipt, SealAndCommit(who, "CreateReport", report_id, 1, v.patient_id, Canonical(doc), std::move(extra)));
    receipt.flags = v.flags;
    return receipt;
  }();
  if (!idempotency_key.empty()) {
    if (result.ok()) {
      ML_RETURN_IF_ERROR(p_.idempotency->Complete(who.username, idempotency_key, request_hash, result->ToJson()));
    } else {
      p_.idempotency->Abandon(who.username, idempotency_key);
    }
  }
  return result;
}

Result<ReportView> RecordsService::ReadReport(const Principal& who, const std::string& report_id,
                                              const std::string& purpose) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (!Is(who, {Role::kDoctor, Role::kPatient})) return Denied("this role cannot read report content");
  const std::string code = !purpose.empty() ? purpose : who.role == Role::kPatient ? "self" : "treatment";
  if (!IsCode(code, kAccessPurposes)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_purpose_code",
                     "purpose must be one of treatment, verification, amendment, emergency, audit, self");
  }
  json arg = {{"reportId", report_id}, {"purpose", code}};
  ML_ASSIGN_OR_RETURN(auto access, Call(who, "RecordAccess", arg.dump(), true));
  const json& rec = access.payload.contains("report") ? access.payload["report"] : access.payload;
  std::string cid = Str(rec, {"cid"});
  std::string content_hash = Str(rec, {"contentHash"});
  std::string patient_id = Str(rec, {"patientRef", "patientId"});
  uint32_t version = U32(rec, "version", 1);
  if (cid.empty() || content_hash.empty() || patient_id.empty()) {
    return MakeError(ErrorKind::kInternal, "contract_payload_invalid", "RecordAccess returned no report record");
  }
  ReportView view;
  const std::string author = Str(rec, {"author"});
  // The vault re-hashes every block against the CID, decrypts, and checks the plaintext against the hash. A report
  // of another hospital comes with a key that hospital releases for this committed read (docs/CONSORTIUM.md).
  auto opened = p_.consortium != nullptr && p_.consortium->IsForeign(author)
                    ? p_.consortium->ReadForeign(
                          {report_id, version, patient_id, cid, content_hash, author, access.receipt.tx_id})
                    : p_.vault->Fetch(report_id, patient_id, cid, content_hash);
  if (!opened.ok()) {
    if (opened.error().code == "key_destroyed") {
      return MakeError(ErrorKind::kNotFound, "content_erased",
                       "this report's content was erased (its key destroyed); its ledger record remains");
    }
    return opened.error();
  }
  view.envelope = std::move(opened->envelope);
  view.document = std::move(opened->plaintext);
  json doc = json::parse(view.document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return MakeError(ErrorKind::kCorruption, "document_corrupt", "the report document is not JSON");
  }
  if (doc.contains("attachments") && doc["attachments"].is_array()) {
    for (const auto& a : doc["attachments"]) {
      auto bytes = Base64Decode(Str(a, {"data"}));
      view.attachments.emplace_back(Str(a, {"contentType"}), bytes.ok() ? *bytes : std::string());
    }
  }
  std::string tx_id = Str(rec, {"txId"});
  json out = {{"reportId", report_id},
              {"version", version},
              {"patientId", patient_id},
              {"title", Str(doc, {"title"})},
              {"author", CallerUsername(author.empty() ? Str(doc, {"author"}) : author)},
              {"createdAt", Str(doc, {"createdAt"})},
              {"cid", cid},
              {"diagnosis", Str(doc, {"diagnosis"})},
              {"content", Str(doc, {"content"})},
              {"attachments", AttachmentsMeta(doc)},
              {"contentHash", content_hash},
              {"txId", tx_id},
              {"blockNumber", 0},
              {"blockHash", ""}};
  if (doc.contains("previousVersion")) out["previousVersion"] = doc["previousVersion"];
  if (doc.contains("amendmentReason")) out["amendmentReason"] = doc["amendmentReason"];
  if (rec.contains("emergency")) out["emergency"] = rec["emergency"];
  if (author.find('/') != std::string::npos) out["authorMsp"] = author.substr(0, author.find('/'));  // its hospital
  if (!tx_id.empty()) {
    auto where = p_.ledger->GetTransactionBlock(tx_id);
    if (where.ok()) {
      out["blockNumber"] = where->block_number;
      out["blockHash"] = where->block_hash;
    }
  }
  view.json = out.dump();
  return view;
}

Result<Receipt> RecordsService::AmendReport(const Principal& who, const std::string& report_id, const AmendInput& in,
                                            std::vector<FieldIssue>* issues) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (who.role != Role::kDoctor) return Denied("only the author amends a report");
  std::vector<FieldIssue> local;
  if (!issues) issues = &local;
  ML_ASSIGN_OR_RETURN(auto current, ReadReport(who, report_id, "amendment"));
  json cur = json::parse(current.json);
  json old_doc = json::parse(current.document);
  if (Str(cur, {"author"}) != who.username) return Denied("only the author amends a report");
  ReportInput input;
  input.patient_id = Str(cur, {"patientId"});
  input.title = in.title.value_or(Str(old_doc, {"title"}));
  input.diagnosis = in.diagnosis.value_or(Str(old_doc, {"diagnosis"}));
  input.content = in.content;
  ML_ASSIGN_OR_RETURN(auto v, ValidateReport(input, p_.policy, issues));
  std::string reason = NormalizeText(in.reason);
  if (!IsValidUtf8(in.reason) || reason.empty() || reason.size() > 1000 || ContainsActiveContent(reason)) {
    issues->push_back({"reason", "invalid", "a plain-text reason of at most 1000 bytes is required"});
    return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the amendment has invalid fields");
  }
  uint32_t version = cur.value("version", 1u) + 1;
  json doc = old_doc;
  doc["version"] = version;
  doc["title"] = v.title;
  doc["diagnosis"] = v.diagnosis;
  doc["content"] = v.content;
  doc["previousVersion"] = version - 1;
  doc["amendmentReason"] = reason;
  doc["createdAt"] = Now().ToRfc3339();
  doc["flags"] = v.flags;
  // The reason stays inside the sealed document (erasable with the report); the ledger gets none of it.
  ML_ASSIGN_OR_RETURN(auto receipt, SealAndCommit(who, "AmendReport", report_id, version, input.patient_id,
                                                  Canonical(doc), json::object()));
  receipt.flags = v.flags;
  return receipt;
}

Result<std::string> RecordsService::ListPatientReports(const Principal& who, const std::string& patient_id,
                                                       uint32_t page_size, const std::string& bookmark) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (who.role == Role::kPatient && !OwnsPatient(who, patient_id)) return Denied("not your record");
  if (who.role == Role::kAdmin) return Denied("administrators do not see report lists");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("patient-reports", who, patient_id);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  json arg = {{"patientRef", patient_id}, {"pageSize", page_size}, {"bookmark", position}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListReportsByPatient", arg.dump(), false));
  return SealedList(*sealer, r.payload, scope);
}

Result<RecordsService::ReportWalk> RecordsService::WalkPatientReports(
    const Principal& who, const std::string& patient_id, const std::string& query_key,
    const std::function<bool(const std::string& item)>& keep, uint32_t want, const std::string& page_token) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (who.role == Role::kPatient && !OwnsPatient(who, patient_id)) return Denied("not your record");
  if (who.role == Role::kAdmin) return Denied("administrators do not see report lists");
  if (want > kMaxPageSize) want = kMaxPageSize;
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("fhir-report-walk", who, {patient_id, query_key});
  ML_ASSIGN_OR_RETURN(std::string sealed, sealer->Open(scope, page_token));
  // The resume point is a contract page (its bookmark) and how many of its entries were consumed: pages are
  // always fetched whole (kMaxPageSize), and a walk that fills up mid-page resumes there, losing nothing.
  std::string position;
  size_t skip = 0;
  if (!sealed.empty()) {
    json at = json::parse(sealed, nullptr, false);
    position = Str(at, {"b"});
    skip = at.is_object() && at["s"].is_number_unsigned() ? at["s"].get<size_t>() : 0;
  }
  ReportWalk walk;
  size_t examined = 0;
  auto done = [&] { return (want > 0 && walk.items.size() >= want) || examined >= kMaxWalkEntries; };
  json next;  // null: the index ended
  while (true) {
    json arg = {{"patientRef", patient_id}, {"pageSize", kMaxPageSize}, {"bookmark", position}};
    ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListReportsByPatient", arg.dump(), false));
    json page = ListShape(r.payload);
    const json& items = page["items"];
    size_t i = std::min(skip, items.size());
    skip = 0;
    for (; i < items.size() && !done(); ++i) {
      ++examined;
      std::string text = items[i].dump();
      if (!keep(text)) continue;
      ++walk.matched;
      if (want > 0) walk.items.push_back(std::move(text));
    }
    const std::string after = Str(page, {"bookmark"});
    if (i < items.size()) {
      next = {{"b", position}, {"s", i}};
      break;
    }
    if (after.empty()) {
      walk.complete = page_token.empty();
      break;
    }
    position = after;
    if (done()) {
      next = {{"b", position}, {"s", 0}};
      break;
    }
  }
  if (!next.is_null()) {
    ML_ASSIGN_OR_RETURN(walk.page_token, sealer->Seal(scope, next.dump()));
  }
  return walk;
}

Result<std::string> RecordsService::ReportHistory(const Principal& who, const std::string& report_id) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (who.role == Role::kAdmin) return Denied("administrators do not see report history");
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "GetReportHistory", json{{"reportId", report_id}}.dump(), false));
  return ListShape(r.payload).dump();
}

Result<std::string> RecordsService::ReportProof(const Principal& who, const std::string& report_id) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (who.role == Role::kAdmin) return Denied("administrators do not see report proofs");
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "GetReport", json{{"reportId", report_id}}.dump(), false));
  const json& rec = r.payload.contains("report") ? r.payload["report"] : r.payload;
  std::string tx_id = Str(rec, {"txId"});
  ML_ASSIGN_OR_RETURN(auto proof, p_.ledger->GetTransactionProof(tx_id));
  std::string author = CallerUsername(Str(rec, {"author"}));
  auto author_user = p_.org->users().GetUser(author);
  json out = {{"reportId", report_id},
              {"version", U32(rec, "version", 1)},
              {"cid", Str(rec, {"cid"})},
              {"contentHash", Str(rec, {"contentHash"})},
              {"txId", proof.tx_id},
              {"validationCode", proof.validation_code},
              {"blockNumber", proof.block_number},
              {"blockHash", proof.block_hash},
              {"previousHash", proof.previous_hash},
              {"dataHash", proof.data_hash},
              {"blockHeader", Base64Encode(proof.block_header)},
              {"envelope", Base64Encode(proof.envelope)},
              {"ordererSignature", Base64Encode(proof.orderer_signature)},
              {"creatorCertificate", author_user.ok() ? author_user->cert_pem : std::string()},
              {"endorserCertificate", p_.org->peer().cert_pem()},
              {"ordererCertificate", p_.org->orderer().cert_pem()},
              {"caCertificate", p_.org->ca_certificate().ToPem()}};
  return out.dump();
}

Result<std::string> RecordsService::ReportReceipt(const Principal& who, const std::string& report_id,
                                                  std::optional<int64_t> version) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (who.role == Role::kAdmin) return Denied("administrators do not see report receipts");
  if (p_.log == nullptr) {
    return MakeError(ErrorKind::kUnavailable, "log_unavailable", "this server keeps no report log");
  }
  json args = {{"reportId", report_id}};
  if (version) args["version"] = *version;
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "GetReport", args.dump(), false));
  const json& rec = r.payload.contains("report") ? r.payload["report"] : r.payload;
  ReceiptInputs in;
  ML_ASSIGN_OR_RETURN(in.tx, p_.ledger->GetTransactionProof(Str(rec, {"txId"})));
  ML_ASSIGN_OR_RETURN(in.log, p_.log->ProveTransaction(in.tx.tx_id, in.tx.block_number));
  in.origin = p_.log->origin();
  in.cid = Str(rec, {"cid"});
  in.content_hash = Str(rec, {"contentHash"});
  in.certificates_pem = {p_.org->ca_certificate().ToPem()};
  return BuildReceiptJson(in);
}

// ---- consent, emergency, audit ------------------------------------------------------------------------

Result<std::string> RecordsService::ListConsents(const Principal& who, const std::string& patient_id) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (who.role != Role::kAdmin && !OwnsPatient(who, patient_id)) return Denied("not your record");
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListConsents", json{{"patientRef", patient_id}}.dump(), false));
  json out = ListShape(r.payload);
  for (auto& c : out["items"]) {
    if (!c.is_object()) continue;
    c["purposeCode"] = c.value("purpose", "");
    // The patient's own words are decrypted for the patient; an administrator sees only the code.
    if (OwnsPatient(who, patient_id)) {
      AttachNote(c, "purposeNote", "purpose",
                 [&](const std::string& cid) { return OpenNote(patient_id, kConsentPurposeNote, cid); });
    }
  }
  return out.dump();
}

Result<std::string> RecordsService::GrantConsent(const Principal& who, const std::string& patient_id,
                                                 const std::string& doctor, const std::string& purpose,
                                                 const std::string& purpose_code, const std::string& expires_at) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (!OwnsPatient(who, patient_id)) return Denied("only the patient grants consent");
  ML_ASSIGN_OR_RETURN(std::string doctor_id, ConsentDoctor(who, doctor));
  auto expiry = Timestamp::FromRfc3339(expires_at);
  if (!expiry.ok() || expiry->seconds <= Now().seconds) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_expiry", "expiresAt must be a future RFC 3339 time");
  }
  if (purpose.empty() || purpose.size() > 200 || !IsValidUtf8(purpose) || ContainsActiveContent(purpose)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_purpose", "a plain-text purpose is required");
  }
  if (!purpose_code.empty() && !IsCode(purpose_code, kConsentPurposes)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_purpose_code",
                     "purposeCode must be one of treatment, second_opinion, care_coordination, other");
  }
  // A purpose that is itself a code goes on the ledger as that code; any other words become a sealed note
  // (erasable, under the patient's keys) and the ledger gets the code and the note's CID only.
  const std::string text = NormalizeText(purpose);
  std::string lowered = text;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::replace(lowered.begin(), lowered.end(), ' ', '_');
  const bool text_is_code = IsCode(lowered, kConsentPurposes) && (purpose_code.empty() || purpose_code == lowered);
  json arg = {{"patientRef", patient_id},
              {"doctor", doctor_id},
              {"purpose", text_is_code           ? lowered
                          : purpose_code.empty() ? std::string("other")
                                                 : purpose_code},
              {"expiresAt", expiry->ToRfc3339()}};
  std::string note_cid;
  if (!text_is_code) {
    ML_ASSIGN_OR_RETURN(note_cid, SealNote(patient_id, kConsentPurposeNote, text));
    arg["purposeNote"] = note_cid;
  }
  auto r = Call(who, "GrantAccess", arg.dump(), true);
  if (!r.ok()) {
    if (!note_cid.empty()) (void)p_.vault->DiscardNote(patient_id, note_cid);
    return r.error();
  }
  json out = ApiShape(r->payload.contains("consent") ? r->payload["consent"] : r->payload);
  if (!out.is_object()) out = json::object();
  out["purposeCode"] = out.value("purpose", "");
  out["purpose"] = text;
  out["txId"] = r->receipt.tx_id;
  return out.dump();
}

Status RecordsService::RevokeConsent(const Principal& who, const std::string& patient_id,
                                     const std::string& consent_id) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (!OwnsPatient(who, patient_id)) return Denied("only the patient revokes consent");
  if (consent_id.empty() || consent_id.size() > 128) {
    return MakeError(ErrorKind::kNotFound, "consent_not_found", "no such consent");
  }
  json arg = {{"patientRef", patient_id}, {"consentId", consent_id}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "RevokeAccess", arg.dump(), true));
  (void)r;
  return OkStatus();
}

Result<std::string> RecordsService::EmergencyAccess(const Principal& who, const std::string& report_id,
                                                    const std::string& reason) {
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  if (who.role != Role::kDoctor) return Denied("only doctors may break the glass");
  std::string r_norm = IsValidUtf8(reason) ? NormalizeText(reason) : std::string();
  if (r_norm.size() < 10 || r_norm.size() > 1000 || ContainsActiveContent(r_norm)) {
    return MakeError(ErrorKind::kInvalidArgument, "reason_required",
                     "emergency access needs a plain-text reason of 10-1000 bytes");
  }
  // The reason is sealed under the report's own keys, so `medledger erase` of the report shreds it; the ledger
  // names it by CID. A report that does not exist leaves an orphan note, discarded below.
  ML_ASSIGN_OR_RETURN(std::string note_cid, SealNote(report_id, kEmergencyReasonNote, r_norm));
  json arg = {{"reportId", report_id}, {"reasonNote", note_cid}};
  auto r = Call(who, "EmergencyAccess", arg.dump(), true);
  if (!r.ok()) {
    (void)p_.vault->DiscardNote(report_id, note_cid);
    return r.error();
  }
  json out = ApiShape(r->payload.contains("grant") ? r->payload["grant"] : r->payload);
  if (!out.is_object()) out = json::object();
  out["txId"] = r->receipt.tx_id;
  if (!out.contains("reportId")) out["reportId"] = report_id;
  if (!out.contains("doctor")) out["doctor"] = who.username;
  out["reason"] = r_norm;
  return out.dump();
}

Result<std::string> RecordsService::AccessLog(const Principal& who, const std::string& patient_id, uint32_t page_size,
                                              const std::string& bookmark) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (who.role != Role::kAuditor && !OwnsPatient(who, patient_id)) return Denied("not your record");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("access-log", who, patient_id);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  json arg = {{"patientRef", patient_id}, {"pageSize", page_size}, {"bookmark", position}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListAccessEvents", arg.dump(), false));
  return SealedList(*sealer, r.payload, scope);
}

Result<std::string> RecordsService::AuditEvents(const Principal& who, const AuditFilter& f) {
  if (who.role != Role::kAuditor) return Denied("auditors only");
  ML_RETURN_IF_ERROR(CheckPageSize(f.page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("audit-events", who, {f.kind, f.actor, f.patient_id, f.emergency_only});
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, f.bookmark));
  json arg = {{"pageSize", f.page_size}, {"bookmark", position}, {"emergencyOnly", f.emergency_only}};
  if (!f.kind.empty()) arg["kind"] = f.kind;
  if (!f.actor.empty()) arg["actor"] = f.actor;
  if (!f.patient_id.empty()) arg["patientRef"] = f.patient_id;
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListAccessEvents", arg.dump(), false));
  // The actors' caller IDs, before ApiShape turns them into usernames: user records on the ledger are keyed by them.
  std::vector<std::string> actors;
  if (r.payload.contains("items") && r.payload["items"].is_array()) {
    for (const auto& e : r.payload["items"]) actors.push_back(e.is_object() ? Str(e, {"actor"}) : std::string());
  }
  json out = ListShape(r.payload);
  std::map<std::string, json> enrollments;  // per actor, one ledger read per page
  size_t i = 0;
  for (auto& e : out["items"]) {
    const std::string actor = i < actors.size() ? actors[i] : std::string();
    ++i;
    if (!e.is_object() || !e.value("emergency", false)) continue;
    // Break-glass reasons are for the auditor to judge: decrypted here, never stored in clear on the ledger.
    if (e.value("kind", "") == "emergency") {
      const std::string report_id = e.value("reportId", "");
      AttachNote(e, "reasonNote", "reason",
                 [&](const std::string& cid) { return OpenNote(report_id, kEmergencyReasonNote, cid); });
    }
    if (actor.empty()) continue;
    auto found = enrollments.find(actor);
    if (found == enrollments.end()) {
      auto rec = Call(who, "GetUserRecord", json{{"user", actor}}.dump(), false);
      found = enrollments.emplace(actor, rec.ok() ? rec->payload : json()).first;
    }
    MarkEnrollment(e, found->second, recent_enrollment_days_);
  }
  ML_ASSIGN_OR_RETURN(auto sealed, sealer->Seal(scope, Str(out, {"bookmark"})));
  out["bookmark"] = std::move(sealed);
  return out.dump();
}

Status RecordsService::RecordUserEvent(const Principal& admin, std::string_view action, const std::string& username,
                                       std::string_view channel, bool requires_approval) {
  if (admin.role != Role::kAdmin) return Denied("administrators only");
  ML_ASSIGN_OR_RETURN(auto user, p_.org->users().GetUser(username));
  ML_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(user.cert_pem));
  json arg = {
      {"action", std::string(action)}, {"subject", cert.SubjectCommonName()}, {"channel", std::string(channel)}};
  if (action == "enrolled" || action == "role_changed") {
    arg["role"] = identity::RoleName(user.role);
    if (requires_approval) arg["requiresApproval"] = true;
  }
  if (action == "enrolled") arg["certHash"] = HexEncode(crypto::Sha256(user.cert_pem));
  ML_ASSIGN_OR_RETURN(auto r, Call(admin, "RecordUserEvent", arg.dump(), true));
  (void)r;
  return OkStatus();
}

Result<std::string> RecordsService::LedgerStatus(const Principal& who) {
  if (!Is(who, {Role::kAdmin, Role::kAuditor})) return Denied("administrators and auditors only");
  ML_ASSIGN_OR_RETURN(auto info, p_.ledger->GetChainInfo());
  return json{{"height", info.height}, {"currentHash", info.current_hash}, {"previousHash", info.previous_hash}}.dump();
}

// ---- consortium directory, consents shared with a doctor -------------------------------------------------

namespace {

constexpr size_t kMaxDisplayNameBytes = 128;  // the contract's bound (PublishClinician)
// A doctor's consent check for one patient scans at most this many pages of that pair's consents (the contract
// reads at most kMaxScannedKeys keys per page), so a listing request has a bounded cost.
constexpr int kMaxConsentCheckPages = 10;

// The ledger's identifiers: [A-Za-z0-9._:-]{1,128}; a certificate CN (a username) may also hold '@'.
bool IsIdentifier(std::string_view s, bool allow_at = false) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [allow_at](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-' ||
           (allow_at && c == '@');
  });
}

// A clinician's display name as the consortium will show it: one line of plain UTF-8, never silently altered
// (controls are refused, not stripped), trimmed of surrounding spaces.
Result<std::string> CheckDisplayName(const std::string& raw) {
  auto bad = [](std::string why) { return MakeError(ErrorKind::kInvalidArgument, "invalid_display_name", why); };
  if (!IsValidUtf8(raw)) return bad("displayName is not valid UTF-8");
  if (NormalizeText(raw) != raw || raw.find_first_of("\n\t") != std::string::npos) {
    return bad("displayName must be one line without control characters");
  }
  const size_t first = raw.find_first_not_of(' ');
  if (first == std::string::npos) return bad("displayName is required");
  std::string name = raw.substr(first, raw.find_last_not_of(' ') - first + 1);
  if (name.size() > kMaxDisplayNameBytes) return bad("displayName is at most 128 bytes");
  if (auto issue = CheckPlainText("displayName", name)) return bad("displayName must be plain text");
  return name;
}

}  // namespace

Result<std::string> RecordsService::ConsentDoctor(const Principal& who, const std::string& doctor) {
  const auto unknown = [] {
    return MakeError(ErrorKind::kInvalidArgument, "unknown_doctor",
                     "no doctor with this username here, and no active doctor with this ID in the directory");
  };
  const size_t slash = doctor.find('/');
  const std::string msp = slash == std::string::npos ? p_.org->msp_id() : doctor.substr(0, slash);
  const std::string username = slash == std::string::npos ? doctor : doctor.substr(slash + 1);
  if (!IsIdentifier(msp) || !IsIdentifier(username, /*allow_at=*/true)) return unknown();
  if (msp == p_.org->msp_id()) {
    auto user = p_.org->users().GetUser(username);
    if (!user.ok() || user->role != Role::kDoctor) return unknown();
    return username;  // the contract qualifies a bare username with the patient's own organisation
  }
  // A doctor of another hospital is known here only through the directory that hospital's administrator
  // published on the ledger: the patient consents to a listed, active doctor, not to any string.
  json arg = {{"mspId", msp}, {"username", username}, {"pageSize", 1}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListClinicians", arg.dump(), false));
  if (r.payload.contains("items") && r.payload["items"].is_array() && !r.payload["items"].empty()) {
    const json& e = r.payload["items"][0];
    if (e.is_object() && e.value("active", false) && Str(e, {"role"}) == "doctor") return msp + "/" + username;
  }
  return unknown();
}

Result<ErasureOutcome> RecordsService::EraseReport(const Principal& admin, const std::string& report_id,
                                                   const std::string& reason_code, const std::string& note) {
  ML_RETURN_IF_ERROR(MayPerform(admin, Action::kEraseReport));
  ML_RETURN_IF_ERROR(CheckReportId(report_id));
  ErasureRequest request{report_id, reason_code, note};
  ML_RETURN_IF_ERROR(CheckErasureRequest(request));
  if (p_.keystore == nullptr || p_.erasure_journal.empty()) {
    return MakeError(ErrorKind::kInternal, "erasure_unavailable", "the service has no keystore or erasure journal");
  }
  // The administrator's own certificate: the ledger records who erased, not the server.
  ML_ASSIGN_OR_RETURN(auto identity, p_.org->LoadIdentity(admin.username));
  return EraseReportSteps(*p_.ledger, identity, *p_.keystore, p_.erasure_journal, request, p_.env);
}

Result<std::string> RecordsService::ListErasures(const Principal& who, uint32_t page_size,
                                                 const std::string& bookmark) {
  if (!Is(who, {Role::kAdmin, Role::kAuditor})) return Denied("only administrators and auditors list erasures");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("erasures", who, nullptr);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  json arg = {{"pageSize", page_size}, {"bookmark", position}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListErasures", arg.dump(), false));
  return SealedList(*sealer, r.payload, scope);
}

Result<std::string> RecordsService::ListClinicians(const Principal& who, const std::string& msp_id, uint32_t page_size,
                                                   const std::string& bookmark) {
  if (!msp_id.empty() && !IsIdentifier(msp_id)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_org", "org must be an MSP ID ([A-Za-z0-9._:-]{1,128})");
  }
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("clinicians", who, msp_id);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  json arg = {{"pageSize", page_size}, {"bookmark", position}};
  if (!msp_id.empty()) arg["mspId"] = msp_id;
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListClinicians", arg.dump(), false));
  return SealedList(*sealer, r.payload, scope);
}

Result<std::string> RecordsService::PublishClinician(const Principal& admin, const std::string& username,
                                                     const std::string& display_name, bool active) {
  ML_RETURN_IF_ERROR(MayPerform(admin, Action::kPublishClinician));
  ML_ASSIGN_OR_RETURN(std::string name, CheckDisplayName(display_name));
  auto user = p_.org->users().GetUser(username);
  if (!user.ok() || user->role != Role::kDoctor) {
    return MakeError(ErrorKind::kInvalidArgument, "unknown_doctor", "no doctor of this hospital has this username");
  }
  ML_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(user->cert_pem));
  // The ledger names the doctor by the certificate's CN, as every transaction they sign does.
  json arg = {{"username", cert.SubjectCommonName()}, {"displayName", name}, {"role", "doctor"}, {"active", active}};
  ML_ASSIGN_OR_RETURN(auto r, Call(admin, "PublishClinician", arg.dump(), true));
  json out = ApiShape(r.payload);
  if (!out.is_object()) out = json::object();
  out["txId"] = r.receipt.tx_id;
  return out.dump();
}

Result<std::string> RecordsService::Organizations(const Principal& who) const {
  (void)who;  // any signed-in user: names of hospitals are what the directory already shows as MSP IDs
  json items = json::array({{{"mspId", p_.org->msp_id()}, {"displayName", p_.org->name()}, {"self", true}}});
  for (const auto& o : p_.organizations) {
    if (o.msp_id == p_.org->msp_id()) continue;
    items.push_back({{"mspId", o.msp_id}, {"displayName", o.display_name}, {"self", false}});
  }
  return json{{"items", std::move(items)}}.dump();
}

Result<std::string> RecordsService::SharedConsents(const Principal& who, uint32_t page_size,
                                                   const std::string& bookmark) {
  if (who.role != Role::kDoctor) return Denied("only doctors have consents shared with them");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("shared-consents", who, nullptr);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  json arg = {{"pageSize", page_size}, {"bookmark", position}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListConsentsForDoctor", arg.dump(), false));
  json out = ListShape(r.payload);
  for (auto& c : out["items"]) {
    if (!c.is_object()) continue;
    c["patientRef"] = c.value("patientId", "");  // the ledger pseudonym the shared-reports route takes
    c["purposeCode"] = c.value("purpose", "");
    // The patient's own words are sealed under their keys at their hospital: the doctor gets the code only.
    c.erase("purposeNote");
    c.erase("expiresAtMs");
  }
  ML_ASSIGN_OR_RETURN(auto sealed, sealer->Seal(scope, Str(out, {"bookmark"})));
  out["bookmark"] = std::move(sealed);
  return out.dump();
}

Result<std::string> RecordsService::SharedPatientReports(const Principal& who, const std::string& patient_id,
                                                         uint32_t page_size, const std::string& bookmark) {
  ML_RETURN_IF_ERROR(CheckPatientId(patient_id));
  if (who.role != Role::kDoctor) return Denied("only doctors read reports shared with them");
  ML_RETURN_IF_ERROR(CheckPageSize(page_size));
  ML_ASSIGN_OR_RETURN(const BookmarkSealer* sealer, Bookmarks());
  const std::string scope = Scope("shared-reports", who, patient_id);
  ML_ASSIGN_OR_RETURN(std::string position, sealer->Open(scope, bookmark));
  // The contract would list a doctor without consent the reports they wrote themselves; this route is for
  // consents only, so it refuses instead of answering an empty page that looks like "no reports".
  json check = {{"patientRef", patient_id}, {"activeOnly", true}, {"pageSize", 1}};
  bool consented = false;
  for (int page = 0; page < kMaxConsentCheckPages && !consented; ++page) {
    ML_ASSIGN_OR_RETURN(auto c, Call(who, "ListConsentsForDoctor", check.dump(), false));
    consented = c.payload.contains("items") && c.payload["items"].is_array() && !c.payload["items"].empty();
    const std::string next = Str(c.payload, {"bookmark"});
    if (next.empty()) break;
    check["bookmark"] = next;
  }
  if (!consented) {
    return MakeError(ErrorKind::kPermissionDenied, "no_consent", "no active consent of this patient names you");
  }
  json arg = {{"patientRef", patient_id}, {"pageSize", page_size}, {"bookmark", position}};
  ML_ASSIGN_OR_RETURN(auto r, Call(who, "ListReportsByPatient", arg.dump(), false));
  return SealedList(*sealer, r.payload, scope);
}

}  // namespace medledger::service
