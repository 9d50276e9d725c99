// The access trail: RecordAccess (an authorized content read, recorded as an event), RecordLookup (a look at
// patient registrations) and ListAccessEvents (newest first).
#include <algorithm>

#include "common/encoding.h"
#include "contract/records_support.h"

namespace medledger::contract::records {

Result<std::string> RecordAccess(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId", "purpose"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(std::string purpose, Code(a, "purpose", kAccessPurposes));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  ML_ASSIGN_OR_RETURN(Access access, ReportAccess(ctx, head.doc, /*content=*/true));
  if (!access.allowed) {
    // A doctor whose consent ran out or was withdrawn is told so (a doctor at another hospital cannot ask the
    // patient's hospital why): still 403, with a code that says what to do next.
    if (ctx.caller.role == Role::kDoctor) {
      ML_ASSIGN_OR_RETURN(std::string lapsed, LapsedConsent(ctx, Str(head.doc, "patientRef"), ctx.caller.id));
      if (!lapsed.empty()) {
        return MakeError(ErrorKind::kPermissionDenied, lapsed,
                         lapsed == "consent_expired" ? "the patient's consent for this doctor has expired"
                                                     : "the patient revoked this doctor's consent");
      }
    }
    return Denied("no consent, grant or authorship allows reading this report's content");
  }
  ML_RETURN_IF_ERROR(RecordAccessFact(ctx, head.doc, access));
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "read"},
                                      {"reportId", id},
                                      {"patientRef", Str(head.doc, "patientRef")},
                                      {"version", head.doc["version"]},
                                      {"purpose", purpose},
                                      {"basis", access.basis},
                                      {"emergency", access.emergency}}));
  json event = {{"reportId", id},
                {"patientRef", Str(head.doc, "patientRef")},
                {"version", head.doc["version"]},
                {"cid", Str(head.doc, "cid")},
                {"contentHash", Str(head.doc, "contentHash")},
                {"txId", ctx.tx_id}};
  ML_RETURN_IF_ERROR(ctx.stub.SetEvent("ReportAccessed", event.dump()));
  // The stored head is embedded as-is: the server learns CID and hash in the same authorized step.
  json meta = {{"basis", access.basis}, {"emergency", access.emergency}, {"eventId", ctx.tx_id}};
  std::string out = meta.dump();
  out.pop_back();
  out += ",\"report\":";
  out += head.raw;
  out += '}';
  return out;
}

Result<std::string> ListAccessEvents(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(
      Args a, Args::Parse(arg, {"patientRef", "reportId", "actor", "kind", "emergencyOnly", "pageSize", "bookmark"}));
  ML_ASSIGN_OR_RETURN(auto ref, a.OptionalString("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(auto report_id, a.OptionalString("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto actor, a.OptionalString("actor", 257, Pattern::kCallerId));
  ML_ASSIGN_OR_RETURN(auto kind, a.OptionalString("kind", 64, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto emergency_only, a.OptionalBool("emergencyOnly"));
  ML_ASSIGN_OR_RETURN(PageRequest page, ParsePage(a));
  if (ref && ref->empty()) ref.reset();
  if (report_id && report_id->empty()) report_id.reset();
  if (actor && actor->empty()) actor.reset();
  if (kind && kind->empty()) kind.reset();

  if (ctx.caller.role == Role::kPatient) {
    if (!ref) return Denied("patients must name their own patient reference");
    ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, *ref, "read the access log"));
  } else {
    ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAuditor, Role::kPatient}, "read the audit trail"));
  }
  // Events are indexed by time and by patient; a report's events are its patient's, filtered.
  if (report_id && !ref) {
    ML_ASSIGN_OR_RETURN(Stored report, LoadReport(ctx, *report_id));
    ref = Str(report.doc, "patientRef");
  }
  const bool filtered = report_id || actor || kind || emergency_only.value_or(false);
  KeepFn keep;
  if (filtered) {
    keep = [&](const KeyValue& kv) -> Result<bool> {
      json e = json::parse(kv.value, nullptr, false);
      if (!e.is_object()) return MakeError(ErrorKind::kCorruption, "corrupt_state", "an event is not a JSON object");
      if (report_id && Str(e, "reportId") != *report_id) return false;
      if (actor && Str(e, "actor") != *actor) return false;
      if (kind && Str(e, "kind") != *kind) return false;
      if (emergency_only.value_or(false) && !e.value("emergency", false)) return false;
      return true;
    };
  }
  ML_ASSIGN_OR_RETURN(Page p, ref ? FilteredRangePage(ctx.stub, kPatientEventType, {*ref}, page, keep)
                                  : FilteredRangePage(ctx.stub, kEventType, {}, page, keep));
  std::vector<std::string_view> raws;
  raws.reserve(p.items.size());
  for (const auto& kv : p.items) raws.push_back(kv.value);
  return PageJson(p.bookmark, raws);
}

// A doctor's or administrator's look at patient registrations: "lookup" (one patient opened) or "search" (the
// patients a search returned, one page). A lookup is an access to personal data, so it is on the trail, and each
// patient sees it in their own log. The query text is never an argument: only the patients it returned.
Result<std::string> RecordLookup(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"kind", "patientRefs", "resultCount"}));
  ML_ASSIGN_OR_RETURN(std::string kind, a.String("kind", 16, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto refs, a.OptionalStringList("patientRefs", kMaxLookupRefs, 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(auto count, a.OptionalInt("resultCount", 0, 1000000000));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kDoctor, Role::kAdmin}, "record patient lookups"));
  std::vector<std::string> patients = refs ? std::move(*refs) : std::vector<std::string>();
  std::sort(patients.begin(), patients.end());
  if (std::adjacent_find(patients.begin(), patients.end()) != patients.end()) {
    return Invalid("duplicate_patient", "\"patientRefs\" names a patient twice");
  }
  for (const auto& ref : patients) ML_RETURN_IF_ERROR(LoadPatient(ctx, ref));
  if (kind == "lookup") {
    if (patients.size() != 1 || count) return Invalid("invalid_field", "a lookup names exactly one patient");
    ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "lookup"}, {"patientRef", patients[0]}}));
  } else if (kind == "search") {
    const int64_t total = count.value_or(static_cast<int64_t>(patients.size()));
    if (total < static_cast<int64_t>(patients.size())) {
      return Invalid("invalid_field", "\"resultCount\" is less than the patients named");
    }
    ML_RETURN_IF_ERROR(
        WriteSharedEvent(ctx, {{"kind", "search"}, {"patientRefs", patients}, {"resultCount", total}}, patients));
  } else {
    return Invalid("invalid_field", "\"kind\" must be lookup or search");
  }
  return json{{"eventId", ctx.tx_id}, {"patients", patients.size()}}.dump();
}

}  // namespace medledger::contract::records
