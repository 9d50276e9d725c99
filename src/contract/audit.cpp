// The access trail: RecordAccess (an authorized content read, recorded as an event) and ListAccessEvents.
#include "common/encoding.h"
#include "contract/records_support.h"

namespace medledger::contract::records {

Result<std::string> RecordAccess(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId", "purpose"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(std::string purpose, Code(a, "purpose", kAccessPurposes));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  ML_ASSIGN_OR_RETURN(Access access, ReportAccess(ctx, head.doc, /*content=*/true));
  if (!access.allowed) return Denied("no consent, grant or authorship allows reading this report's content");
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "read"},
                                      {"reportId", id},
                                      {"patientRef", Str(head.doc, "patientRef")},
                                      {"version", head.doc["version"]},
                                      {"purpose", purpose},
                                      {"basis", access.basis},
                                      {"emergency", access.emergency}}));
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
  Result<Page> p =
      ref ? RangePage(ctx.stub, kPatientEventType, {*ref}, page) : RangePage(ctx.stub, kEventType, {}, page);
  if (!p.ok()) return p.error();

  std::string out = "{\"bookmark\":\"" + HexEncode(p->bookmark) + "\",\"items\":[";
  bool first = true;
  for (const auto& kv : p->items) {
    if (report_id || actor || kind || emergency_only.value_or(false)) {
      json e = json::parse(kv.value, nullptr, false);
      if (!e.is_object()) return MakeError(ErrorKind::kCorruption, "corrupt_state", "an event is not a JSON object");
      if (report_id && Str(e, "reportId") != *report_id) continue;
      if (actor && Str(e, "actor") != *actor) continue;
      if (kind && Str(e, "kind") != *kind) continue;
      if (emergency_only.value_or(false) && !e.value("emergency", false)) continue;
    }
    if (!first) out += ',';
    first = false;
    out += kv.value;
  }
  out += "]}";
  return out;
}

}  // namespace medledger::contract::records
