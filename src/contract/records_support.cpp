#include "contract/records_support.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "common/encoding.h"

namespace medledger::contract::records {

Error Invalid(std::string code, std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, std::move(code), std::move(message));
}
Error Denied(std::string message) {
  return MakeError(ErrorKind::kPermissionDenied, "permission_denied", std::move(message));
}
Error NotFound(std::string code, std::string message) {
  return MakeError(ErrorKind::kNotFound, std::move(code), std::move(message));
}
Error AlreadyExists(std::string code, std::string message) {
  return MakeError(ErrorKind::kAlreadyExists, std::move(code), std::move(message));
}
Error Conflict(std::string code, std::string message) {
  return MakeError(ErrorKind::kConflict, std::move(code), std::move(message));
}

std::string VersionKey(int64_t version) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(version));
  return buf;
}

std::string TimeKey(Timestamp t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(t.seconds) * 1000000000LL + t.nanos);
  return buf;
}

std::string InvertedTimeKey(Timestamp t) {
  const int64_t ns = std::max<int64_t>(0, static_cast<int64_t>(t.seconds) * 1000000000LL + t.nanos);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu",
                static_cast<unsigned long long>(std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(ns)));
  return buf;
}

namespace keys {
Result<std::string> Patient(std::string_view patient_ref) {
  return CreateCompositeKey(kPatientType, {std::string(patient_ref)});
}
Result<std::string> PatientLogin(std::string_view caller_id) {
  return CreateCompositeKey(kPatientLoginType, {std::string(caller_id)});
}
Result<std::string> ReportHead(std::string_view report_id) {
  return CreateCompositeKey(kReportType, {std::string(report_id)});
}
Result<std::string> ReportVersion(std::string_view report_id, int64_t version) {
  return CreateCompositeKey(kReportVersionType, {std::string(report_id), VersionKey(version)});
}
Result<std::string> PatientReport(std::string_view patient_ref, std::string_view report_id) {
  return CreateCompositeKey(kPatientReportType, {std::string(patient_ref), std::string(report_id)});
}
Result<std::string> Consent(std::string_view patient_ref, std::string_view consent_id) {
  return CreateCompositeKey(kConsentType, {std::string(patient_ref), std::string(consent_id)});
}
Result<std::string> DoctorConsent(std::string_view patient_ref, std::string_view doctor, std::string_view consent_id) {
  return CreateCompositeKey(kDoctorConsentType,
                            {std::string(patient_ref), std::string(doctor), std::string(consent_id)});
}
Result<std::string> Emergency(std::string_view report_id, std::string_view doctor, std::string_view grant_id) {
  return CreateCompositeKey(kEmergencyType, {std::string(report_id), std::string(doctor), std::string(grant_id)});
}
}  // namespace keys

Result<std::optional<Stored>> Load(ChaincodeStub& stub, const std::string& key) {
  ML_ASSIGN_OR_RETURN(auto raw, stub.GetState(key));
  if (!raw) return std::optional<Stored>();
  Stored s{std::move(*raw), json()};
  s.doc = json::parse(s.raw, nullptr, /*allow_exceptions=*/false);
  if (!s.doc.is_object()) {
    return MakeError(ErrorKind::kCorruption, "corrupt_state", "a stored record is not a JSON object");
  }
  return std::optional<Stored>(std::move(s));
}

Result<Stored> LoadPatient(Ctx& ctx, std::string_view patient_ref) {
  ML_ASSIGN_OR_RETURN(std::string key, keys::Patient(patient_ref));
  ML_ASSIGN_OR_RETURN(auto patient, Load(ctx.stub, key));
  if (!patient) return NotFound("patient_not_found", "no patient is registered under this reference");
  return std::move(*patient);
}

Result<Stored> LoadReport(Ctx& ctx, std::string_view report_id) {
  ML_ASSIGN_OR_RETURN(std::string key, keys::ReportHead(report_id));
  ML_ASSIGN_OR_RETURN(auto report, Load(ctx.stub, key));
  if (!report) return NotFound("report_not_found", "no report with this ID");
  return std::move(*report);
}

Result<std::string> CallerPatientRef(Ctx& ctx) {
  if (ctx.caller.role != Role::kPatient) return std::string();
  ML_ASSIGN_OR_RETURN(std::string key, keys::PatientLogin(ctx.caller.id));
  ML_ASSIGN_OR_RETURN(auto ref, ctx.stub.GetState(key));
  return ref ? std::move(*ref) : std::string();
}

std::string Str(const json& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<PageRequest> ParsePage(const Args& args) {
  PageRequest p;
  ML_ASSIGN_OR_RETURN(auto size, args.OptionalInt("pageSize", 1, kMaxPageSize));
  if (size) p.size = static_cast<uint32_t>(*size);
  ML_ASSIGN_OR_RETURN(auto bookmark, args.OptionalString("bookmark", 2048));
  if (bookmark && !bookmark->empty()) {
    auto raw = HexDecode(*bookmark);
    if (!raw.ok()) return Invalid("invalid_bookmark", "the bookmark is not one this contract issued");
    p.bookmark = std::move(raw).value();
  }
  return p;
}

Result<Page> FilteredRangePage(ChaincodeStub& stub, std::string_view type, const std::vector<std::string>& attrs,
                               const PageRequest& page, const KeepFn& keep) {
  ML_ASSIGN_OR_RETURN(auto range, PartialCompositeKeyRange(type, attrs));
  // A bookmark from another listing would let a caller page through keys this listing never authorized.
  if (!page.bookmark.empty() && (page.bookmark < range.first || page.bookmark >= range.second)) {
    return Invalid("invalid_bookmark", "the bookmark does not belong to this listing");
  }
  // The successor of `key` in byte order: resuming there never repeats `key` and needs no key that exists.
  auto after = [](const std::string& key) { return key + '\0'; };
  Page out;
  std::string from = page.bookmark.empty() ? range.first : page.bookmark;
  uint32_t scanned = 0;
  for (;;) {
    const uint32_t need = page.size - static_cast<uint32_t>(out.items.size());
    // Unfiltered listings read exactly a page; filtered ones read ahead a little to save round trips.
    const uint32_t chunk = std::min(kMaxScannedKeys - scanned, keep ? std::max<uint32_t>(need, 32) : need);
    ML_ASSIGN_OR_RETURN(Page p, stub.GetStateByRange(from, range.second, chunk, ""));
    for (size_t i = 0; i < p.items.size(); ++i) {
      ++scanned;
      bool take = true;
      if (keep) {
        ML_ASSIGN_OR_RETURN(take, keep(p.items[i]));
      }
      if (!take) continue;
      out.items.push_back(std::move(p.items[i]));
      if (out.items.size() == page.size) {
        if (i + 1 < p.items.size() || !p.bookmark.empty()) out.bookmark = after(out.items.back().key);
        return out;
      }
    }
    if (p.bookmark.empty() || p.items.empty()) return out;  // the range is done
    if (scanned >= kMaxScannedKeys) {
      out.bookmark = after(p.items.back().key);
      return out;
    }
    from = std::move(p.bookmark);
  }
}

std::string PageJson(const std::string& bookmark, const std::vector<std::string_view>& raw_items) {
  std::string out = "{\"bookmark\":\"" + HexEncode(bookmark) + "\",\"items\":[";
  for (size_t i = 0; i < raw_items.size(); ++i) {
    if (i) out += ',';
    out += raw_items[i];
  }
  out += "]}";
  return out;
}

Result<std::vector<KeyValue>> RangeAll(ChaincodeStub& stub, std::string_view type,
                                       const std::vector<std::string>& attrs) {
  ML_ASSIGN_OR_RETURN(auto range, PartialCompositeKeyRange(type, attrs));
  ML_ASSIGN_OR_RETURN(Page page, stub.GetStateByRange(range.first, range.second, 0, ""));
  return std::move(page.items);
}

Status RequireRole(const Ctx& ctx, std::initializer_list<Role> roles, std::string_view action) {
  for (Role r : roles) {
    if (ctx.caller.role == r) return OkStatus();
  }
  return Denied(std::string("the ") + RoleName(ctx.caller.role) + " role may not " + std::string(action));
}

Status RequireOwnPatient(Ctx& ctx, std::string_view patient_ref, std::string_view action) {
  if (ctx.caller.role != Role::kPatient) {
    return Denied("only the patient may " + std::string(action));
  }
  ML_ASSIGN_OR_RETURN(std::string own, CallerPatientRef(ctx));
  if (own.empty() || own != patient_ref) {
    return Denied("patients may only " + std::string(action) + " for their own record");
  }
  return OkStatus();
}

bool ConsentActive(const json& consent, Timestamp now) {
  auto revoked = consent.find("revoked");
  auto expires = consent.find("expiresAtMs");
  if (revoked == consent.end() || !revoked->is_boolean() || revoked->get<bool>()) return false;
  if (expires == consent.end() || !expires->is_number_integer()) return false;
  return expires->get<int64_t>() > now.UnixMillis();
}

Result<bool> HasActiveConsent(Ctx& ctx, std::string_view patient_ref, std::string_view doctor) {
  ML_ASSIGN_OR_RETURN(auto consents,
                      RangeAll(ctx.stub, kDoctorConsentType, {std::string(patient_ref), std::string(doctor)}));
  for (const auto& kv : consents) {
    json c = json::parse(kv.value, nullptr, false);
    if (c.is_object() && ConsentActive(c, ctx.now)) return true;
  }
  return false;
}

Result<std::string> LapsedConsent(Ctx& ctx, std::string_view patient_ref, std::string_view doctor) {
  ML_ASSIGN_OR_RETURN(auto consents,
                      RangeAll(ctx.stub, kDoctorConsentType, {std::string(patient_ref), std::string(doctor)}));
  int64_t latest = -1;
  std::string state;
  for (const auto& kv : consents) {
    json c = json::parse(kv.value, nullptr, false);
    if (!c.is_object()) continue;
    const int64_t expires = c.value("expiresAtMs", int64_t{0});
    if (expires < latest) continue;
    latest = expires;
    state = c.value("revoked", false) ? "consent_revoked" : "consent_expired";
  }
  return state;
}

Result<bool> HasActiveEmergency(Ctx& ctx, std::string_view report_id, std::string_view doctor) {
  ML_ASSIGN_OR_RETURN(auto grants, RangeAll(ctx.stub, kEmergencyType, {std::string(report_id), std::string(doctor)}));
  for (const auto& kv : grants) {
    json g = json::parse(kv.value, nullptr, false);
    if (!g.is_object()) continue;
    auto expires = g.find("expiresAtMs");
    if (expires != g.end() && expires->is_number_integer() && expires->get<int64_t>() > ctx.now.UnixMillis()) {
      return true;
    }
  }
  return false;
}

Result<Access> ReportAccess(Ctx& ctx, const json& report, bool content) {
  const std::string patient_ref = Str(report, "patientRef");
  switch (ctx.caller.role) {
    case Role::kDoctor: {
      if (Str(report, "author") == ctx.caller.id) return Access{true, false, "author"};
      ML_ASSIGN_OR_RETURN(bool consent, HasActiveConsent(ctx, patient_ref, ctx.caller.id));
      if (consent) return Access{true, false, "consent"};
      ML_ASSIGN_OR_RETURN(bool emergency, HasActiveEmergency(ctx, Str(report, "reportId"), ctx.caller.id));
      if (emergency) return Access{true, true, "emergency"};
      return Access{};
    }
    case Role::kPatient: {
      ML_ASSIGN_OR_RETURN(std::string own, CallerPatientRef(ctx));
      if (!own.empty() && own == patient_ref) return Access{true, false, "self"};
      return Access{};
    }
    case Role::kAuditor: return content ? Access{} : Access{true, false, "audit"};
    case Role::kAdmin: return Access{};  // administrators manage identities and patients, they do not read reports
    case Role::kService: return Access{};
  }
  return Access{};
}

namespace {

void FillEvent(Ctx& ctx, json& event) {
  event["eventId"] = ctx.tx_id;
  event["txId"] = ctx.tx_id;
  event["actor"] = ctx.caller.id;
  event["actorRole"] = RoleName(ctx.caller.role);
  event["timestamp"] = ctx.now.ToRfc3339();
  if (!event.contains("emergency")) event["emergency"] = false;
}

Status PutPatientEvent(Ctx& ctx, const std::string& time_key, const std::string& patient_ref, const std::string& text) {
  ML_ASSIGN_OR_RETURN(std::string key, CreateCompositeKey(kPatientEventType, {patient_ref, time_key, ctx.tx_id}));
  return ctx.stub.PutState(key, text);
}

}  // namespace

Status WriteEvent(Ctx& ctx, json event) {
  const std::string time_key = InvertedTimeKey(ctx.now);
  const std::string patient_ref = Str(event, "patientRef");
  FillEvent(ctx, event);
  // Serialized once; both index entries hold the same bytes, so listings need no further reads.
  const std::string text = event.dump();
  ML_ASSIGN_OR_RETURN(std::string by_time, CreateCompositeKey(kEventType, {time_key, ctx.tx_id}));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_time, text));
  if (patient_ref.empty()) return OkStatus();  // an event about no patient is only on the global trail
  return PutPatientEvent(ctx, time_key, patient_ref, text);
}

Status WriteSharedEvent(Ctx& ctx, json event, const std::vector<std::string>& patient_refs) {
  const std::string time_key = InvertedTimeKey(ctx.now);
  FillEvent(ctx, event);
  ML_ASSIGN_OR_RETURN(std::string by_time, CreateCompositeKey(kEventType, {time_key, ctx.tx_id}));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_time, event.dump()));
  json own = std::move(event);
  own.erase("patientRefs");
  for (const auto& ref : patient_refs) {
    own["patientRef"] = ref;
    ML_RETURN_IF_ERROR(PutPatientEvent(ctx, time_key, ref, own.dump()));
  }
  return OkStatus();
}

}  // namespace medledger::contract::records
