// Reports: create, amend (a new immutable version; the head moves), get, list by patient, history.
#include "common/encoding.h"
#include "contract/endorsement_policy.h"
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

struct VersionInput {
  std::string cid;
  std::string content_hash;
  const json* metadata = nullptr;  // owned by the Args it came from
};

Result<VersionInput> ParseVersionInput(const Args& a) {
  VersionInput v;
  ML_ASSIGN_OR_RETURN(v.cid, a.String("cid", 128, Pattern::kCid));
  ML_ASSIGN_OR_RETURN(v.content_hash, a.String("contentHash", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(v.metadata, a.OptionalMetadata("metadata"));
  return v;
}

// Writes version `record` under its immutable version key and as the head. Both hold the same bytes, so a
// version is serialized exactly once and GetReport returns the stored bytes without re-encoding.
Result<std::string> WriteVersion(Ctx& ctx, std::string_view report_id, int64_t version, const json& record) {
  std::string text = record.dump();
  ML_ASSIGN_OR_RETURN(std::string version_key, keys::ReportVersion(report_id, version));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(version_key, text));
  ML_ASSIGN_OR_RETURN(std::string head_key, keys::ReportHead(report_id));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(head_key, text));
  // State-based endorsement: in a consortium every later change of this report's keys needs a peer of the
  // author's organisation among its endorsers, on top of the chaincode's MAJORITY (docs/CONSORTIUM.md).
  const std::string policy = OrganizationPeerPolicy(ctx.caller.msp_id);
  ML_RETURN_IF_ERROR(ctx.stub.SetStateValidationParameter(version_key, policy));
  ML_RETURN_IF_ERROR(ctx.stub.SetStateValidationParameter(head_key, policy));
  return text;
}

int64_t VersionOf(const json& record) {
  auto it = record.find("version");
  return it != record.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// Appends already-serialized JSON values as an array without parsing them again.
void AppendRawArray(std::string& out, const std::vector<std::string_view>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += ']';
}

}  // namespace

Result<std::string> CreateReport(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a,
                      Args::Parse(arg, {"reportId", "patientRef", "cid", "contentHash", "metadata", "version"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(VersionInput in, ParseVersionInput(a));
  ML_ASSIGN_OR_RETURN(auto version, a.OptionalInt("version", 1, 1));
  (void)version;  // accepted so a client can state the version it believes it is writing
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kDoctor}, "create reports"));

  ML_ASSIGN_OR_RETURN(std::string patient_key, keys::Patient(ref));
  ML_ASSIGN_OR_RETURN(auto patient, ctx.stub.GetState(patient_key));
  if (!patient) return NotFound("patient_not_found", "no patient is registered under this reference");
  ML_ASSIGN_OR_RETURN(std::string head_key, keys::ReportHead(id));
  ML_ASSIGN_OR_RETURN(auto existing, ctx.stub.GetState(head_key));
  if (existing) return AlreadyExists("report_exists", "a report with this ID already exists");

  const std::string created_at = ctx.now.ToRfc3339();
  json record = {{"reportId", id},
                 {"patientRef", ref},
                 {"version", 1},
                 {"cid", in.cid},
                 {"contentHash", in.content_hash},
                 {"metadata", in.metadata ? *in.metadata : json::object()},
                 {"author", ctx.caller.id},
                 {"createdAt", created_at},
                 {"createdTxId", ctx.tx_id},
                 {"updatedAt", created_at},
                 {"txId", ctx.tx_id}};
  ML_ASSIGN_OR_RETURN(std::string text, WriteVersion(ctx, id, 1, record));
  ML_ASSIGN_OR_RETURN(std::string index_key, keys::PatientReport(ref, id));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(index_key, id));
  ML_RETURN_IF_ERROR(
      WriteEvent(ctx, {{"kind", "report_created"}, {"reportId", id}, {"patientRef", ref}, {"version", 1}}));
  // The event carries every field of the report log's leaf (docs/RECEIPTS.md): the log is derived from the
  // endorsed events of valid transactions, so it needs no state reads.
  json event = {
      {"reportId", id},   {"patientRef", ref}, {"version", 1}, {"cid", in.cid}, {"contentHash", in.content_hash},
      {"txId", ctx.tx_id}};
  ML_RETURN_IF_ERROR(ctx.stub.SetEvent("ReportCreated", event.dump()));
  return text;
}

Result<std::string> AmendReport(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a,
                      Args::Parse(arg, {"reportId", "patientRef", "cid", "contentHash", "metadata", "version"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto claimed_ref, a.OptionalString("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(VersionInput in, ParseVersionInput(a));
  // No `reason`: the amendment's reason is free text, so it travels inside the sealed version document, whose
  // contentHash the ledger records and whose key erasure destroys.
  ML_ASSIGN_OR_RETURN(auto expected_version, a.OptionalInt("version", 2, kMaxVersion));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kDoctor}, "amend reports"));

  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  if (Str(head.doc, "author") != ctx.caller.id) return Denied("only the report's author may amend it");
  // A new version would get a fresh key and bring erased content back under the same report ID.
  ML_ASSIGN_OR_RETURN(auto erasure, LoadErasure(ctx, id));
  if (erasure) return Conflict("report_erased", "the report was erased; it takes no new versions");
  const std::string ref = Str(head.doc, "patientRef");
  if (claimed_ref && !claimed_ref->empty() && *claimed_ref != ref) {
    return Invalid("patient_mismatch", "the report belongs to another patient");
  }
  const int64_t previous = VersionOf(head.doc);
  if (previous < 1 || previous >= kMaxVersion) {
    return MakeError(ErrorKind::kCorruption, "corrupt_state", "the report head has no valid version");
  }
  const int64_t version = previous + 1;
  // Optimistic concurrency: a client amending what it believes is version n-1 must not overwrite a
  // concurrent amendment silently.
  if (expected_version && *expected_version != version) {
    return Conflict("version_conflict", "the report is at version " + std::to_string(previous) +
                                            ", so the next version is " + std::to_string(version));
  }
  json record = {{"reportId", id},
                 {"patientRef", ref},
                 {"version", version},
                 {"cid", in.cid},
                 {"contentHash", in.content_hash},
                 {"author", ctx.caller.id},
                 {"createdAt", head.doc["createdAt"]},
                 {"createdTxId", head.doc["createdTxId"]},
                 {"updatedAt", ctx.now.ToRfc3339()},
                 {"txId", ctx.tx_id},
                 {"previousVersion", previous},
                 {"previousTxId", head.doc["txId"]}};
  // Without new metadata the amendment keeps the previous version's.
  if (in.metadata) {
    record["metadata"] = *in.metadata;
  } else {
    record["metadata"] = std::move(head.doc["metadata"]);
  }
  ML_ASSIGN_OR_RETURN(std::string text, WriteVersion(ctx, id, version, record));
  ML_RETURN_IF_ERROR(
      WriteEvent(ctx, {{"kind", "report_amended"}, {"reportId", id}, {"patientRef", ref}, {"version", version}}));
  json event = {
      {"reportId", id},   {"patientRef", ref}, {"version", version}, {"cid", in.cid}, {"contentHash", in.content_hash},
      {"txId", ctx.tx_id}};
  ML_RETURN_IF_ERROR(ctx.stub.SetEvent("ReportAmended", event.dump()));
  return text;
}

Result<std::string> GetReport(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId", "version"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto version, a.OptionalInt("version", 1, kMaxVersion));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  ML_ASSIGN_OR_RETURN(Access access, ReportAccess(ctx, head.doc, /*content=*/false));
  if (!access.allowed) return Denied("no role, consent or grant allows reading this report");
  if (!version || *version == VersionOf(head.doc)) return std::move(head.raw);
  ML_ASSIGN_OR_RETURN(std::string key, keys::ReportVersion(id, *version));
  ML_ASSIGN_OR_RETURN(auto record, ctx.stub.GetState(key));
  if (!record) return NotFound("version_not_found", "the report has no version " + std::to_string(*version));
  return std::move(*record);
}

Result<std::string> ListReportsByPatient(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "pageSize", "bookmark"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(PageRequest page, ParsePage(a));
  bool authored_only = false;
  switch (ctx.caller.role) {
    case Role::kAuditor: break;
    case Role::kPatient: ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, ref, "list reports")); break;
    case Role::kDoctor: {
      ML_ASSIGN_OR_RETURN(bool consent, HasActiveConsent(ctx, ref, ctx.caller.id));
      authored_only = !consent;
      break;
    }
    case Role::kAdmin: return Denied("administrators manage records but do not read them");
    case Role::kService: return Denied("the service identity anchors the report log and reads nothing");
  }
  ML_RETURN_IF_ERROR(LoadPatient(ctx, ref));
  // Paging runs over the reports the caller may see: a page of someone else's reports is never handed out as
  // an empty page whose bookmark names one of them.
  std::vector<Stored> heads;
  KeepFn keep = [&](const KeyValue& kv) -> Result<bool> {
    ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, kv.value));
    if (authored_only && Str(head.doc, "author") != ctx.caller.id) return false;
    heads.push_back(std::move(head));
    return true;
  };
  ML_ASSIGN_OR_RETURN(Page p, FilteredRangePage(ctx.stub, kPatientReportType, {ref}, page, keep));
  std::vector<std::string_view> raws;
  raws.reserve(heads.size());
  for (const auto& h : heads) raws.push_back(h.raw);
  return PageJson(p.bookmark, raws);
}

Result<std::string> GetReportHistory(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  ML_ASSIGN_OR_RETURN(Access access, ReportAccess(ctx, head.doc, /*content=*/false));
  if (!access.allowed) return Denied("no role, consent or grant allows reading this report's history");
  ML_ASSIGN_OR_RETURN(auto versions, RangeAll(ctx.stub, kReportVersionType, {id}));
  ML_ASSIGN_OR_RETURN(std::string head_key, keys::ReportHead(id));
  ML_ASSIGN_OR_RETURN(auto history, ctx.stub.GetHistoryForKey(head_key));
  json head_history = json::array();
  for (const auto& m : history) {
    head_history.push_back({{"txId", m.tx_id}, {"timestamp", m.timestamp.ToRfc3339()}, {"isDelete", m.is_delete}});
  }
  std::vector<std::string_view> raws;
  raws.reserve(versions.size());
  for (const auto& kv : versions) raws.push_back(kv.value);
  ML_ASSIGN_OR_RETURN(auto erasure, LoadErasure(ctx, id));
  json id_json = id;
  // "erasure": the erasure record (reason code, by whom, when, txId) once the report was erased, else null.
  std::string out = "{\"erasure\":" + (erasure ? erasure->raw : std::string("null")) +
                    ",\"headHistory\":" + head_history.dump() + ",\"reportId\":" + id_json.dump() + ",\"versions\":";
  AppendRawArray(out, raws);
  out += '}';
  return out;
}

}  // namespace medledger::contract::records
