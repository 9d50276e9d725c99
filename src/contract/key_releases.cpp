// Key releases in a consortium (docs/CONSORTIUM.md): the report author's organisation records on the ledger, before
// a data key leaves its server, that it releases the key of a report version to another organisation's server
// for one committed read (`RecordAccess`). The contract is the authority on whether that read allows it: the read
// is in the state (so its transaction was valid), was made by a doctor of the receiving organisation for this
// report, is recent, was allowed by consent or a break-glass grant that still holds, and has not been used for a
// release before. Refusals are recorded too, so a forged or replayed request leaves a trace.
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

constexpr std::string_view kAccessType = "access";          // access tx ID -> the read it recorded
constexpr std::string_view kKeyReleaseType = "keyrelease";  // access tx ID -> the release it allowed
// A read's transaction allows a key release for this long after it committed: the reader's server asks at once.
constexpr int64_t kReleaseWindowMs = 10 * 60 * 1000;

// Why a holder refused a key request (the codes of docs/CONSORTIUM.md); nothing else can be recorded.
constexpr std::array<std::string_view, 10> kRefusalReasons = {
    "not_a_member",   "access_tx_not_found",  "access_tx_invalid", "access_mismatch", "no_consent",
    "access_expired", "key_already_released", "version_not_found", "key_destroyed",   "invalid_request"};

std::string_view MspOf(std::string_view caller_id) {
  return caller_id.substr(0, caller_id.find('/'));
}

Error Refused(std::string code, std::string text) {
  return MakeError(ErrorKind::kPermissionDenied, std::move(code), std::move(text));
}

}  // namespace

Status RecordAccessFact(Ctx& ctx, const json& report, const Access& access) {
  json fact = {{"reportId", Str(report, "reportId")},
               {"patientRef", Str(report, "patientRef")},
               {"version", report.value("version", int64_t{0})},
               {"actor", ctx.caller.id},
               {"actorMsp", ctx.caller.msp_id},
               {"actorRole", RoleName(ctx.caller.role)},
               {"basis", access.basis},
               {"emergency", access.emergency},
               {"accessedAtMs", ctx.now.UnixMillis()},
               {"txId", ctx.tx_id}};
  ML_ASSIGN_OR_RETURN(std::string key, CreateCompositeKey(kAccessType, {ctx.tx_id}));
  return ctx.stub.PutState(key, fact.dump());
}

Result<std::string> RecordKeyRelease(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a,
                      Args::Parse(arg, {"accessTxId", "reportId", "version", "recipientMsp", "outcome", "reason"}));
  ML_ASSIGN_OR_RETURN(std::string access_tx, a.String("accessTxId", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(std::string report_id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto version, a.OptionalInt("version", 1, int64_t{1} << 31));
  if (!version) return Invalid("missing_field", "version is required");
  ML_ASSIGN_OR_RETURN(std::string recipient, a.String("recipientMsp", 128, Pattern::kId));
  static constexpr std::array<std::string_view, 2> kOutcomes = {"released", "refused"};
  ML_ASSIGN_OR_RETURN(std::string outcome, Code(a, "outcome", kOutcomes));
  std::optional<std::string> reason;
  if (outcome == "refused") {
    ML_ASSIGN_OR_RETURN(reason, Code(a, "reason", kRefusalReasons));
  } else {
    ML_ASSIGN_OR_RETURN(auto stray, a.OptionalString("reason", 64, Pattern::kId));
    if (stray) return Invalid("unknown_field", "a release has no reason");
  }
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kService}, "record key releases"));
  if (recipient == ctx.caller.msp_id)
    return Invalid("invalid_field", "an organisation does not release keys to itself");

  ML_ASSIGN_OR_RETURN(std::string head_key, keys::ReportHead(report_id));
  ML_ASSIGN_OR_RETURN(auto head, Load(ctx.stub, head_key));
  std::string patient_ref;
  if (head) {
    // Only the organisation that holds the report's keys (its author's) records their release.
    if (MspOf(Str(head->doc, "author")) != ctx.caller.msp_id) {
      return Denied("only the report author's organisation releases its keys");
    }
    patient_ref = Str(head->doc, "patientRef");
  } else if (outcome == "released") {
    return NotFound("report_not_found", "no report has this ID");
  }

  json event = {{"kind", outcome == "released" ? "key_released" : "key_release_refused"},
                {"reportId", report_id},
                {"version", *version},
                {"recipientMsp", recipient},
                {"accessTxId", access_tx}};
  if (!patient_ref.empty()) event["patientRef"] = patient_ref;
  if (reason) {
    event["reason"] = *reason;
    ML_RETURN_IF_ERROR(WriteEvent(ctx, event));
    return event.dump();
  }

  ML_ASSIGN_OR_RETURN(std::string access_key, CreateCompositeKey(kAccessType, {access_tx}));
  ML_ASSIGN_OR_RETURN(auto access, Load(ctx.stub, access_key));
  if (!access) return NotFound("access_tx_not_found", "no committed read has this transaction ID");
  const json& fact = access->doc;
  if (Str(fact, "reportId") != report_id || Str(fact, "actorMsp") != recipient || Str(fact, "actorRole") != "doctor") {
    return Refused("access_mismatch", "the read was not made by a doctor of the recipient for this report");
  }
  const int64_t accessed_version = fact.value("version", int64_t{0});
  if (*version > accessed_version) {
    return NotFound("version_not_found", "the read covered version " + std::to_string(accessed_version));
  }
  if (ctx.now.UnixMillis() - fact.value("accessedAtMs", int64_t{0}) > kReleaseWindowMs) {
    return Refused("access_expired", "the read is older than the release window");
  }
  const std::string basis = Str(fact, "basis");
  const std::string actor = Str(fact, "actor");
  // The grant must still hold now: a consent revoked between the read and the release stops the release.
  bool still_allowed = false;
  if (basis == "consent") {
    ML_ASSIGN_OR_RETURN(still_allowed, HasActiveConsent(ctx, patient_ref, actor));
  } else if (basis == "emergency") {
    ML_ASSIGN_OR_RETURN(still_allowed, HasActiveEmergency(ctx, report_id, actor));
  }
  if (!still_allowed) return Refused("no_consent", "no consent or break-glass grant covers this doctor now");

  ML_ASSIGN_OR_RETURN(std::string release_key, CreateCompositeKey(kKeyReleaseType, {access_tx}));
  ML_ASSIGN_OR_RETURN(auto earlier, ctx.stub.GetState(release_key));
  if (earlier) return AlreadyExists("key_already_released", "a key was already released for this read");

  json record = {{"accessTxId", access_tx},
                 {"reportId", report_id},
                 {"version", *version},
                 {"recipientMsp", recipient},
                 {"doctor", actor},
                 {"basis", basis},
                 {"releasedBy", ctx.caller.id},
                 {"releasedAt", ctx.now.ToRfc3339()},
                 {"txId", ctx.tx_id}};
  const std::string text = record.dump();
  ML_RETURN_IF_ERROR(ctx.stub.PutState(release_key, text));
  event["doctor"] = actor;
  event["basis"] = basis;
  ML_RETURN_IF_ERROR(WriteEvent(ctx, event));
  return text;
}

Result<std::string> GetAccessGrants(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "doctor", "reportId"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(std::string doctor, a.String("doctor", 257, Pattern::kCallerId));
  ML_ASSIGN_OR_RETURN(std::string report_id, a.String("reportId", 128, Pattern::kId));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kService}, "read access grants"));
  // One page each: a key holder needs the grants around one read, and a patient-doctor pair has few.
  const PageRequest page{kMaxPageSize, ""};
  ML_ASSIGN_OR_RETURN(Page consents, FilteredRangePage(ctx.stub, kDoctorConsentType, {ref, doctor}, page, {}));
  ML_ASSIGN_OR_RETURN(Page grants, FilteredRangePage(ctx.stub, kEmergencyType, {report_id, doctor}, page, {}));
  auto raw = [](const Page& p) {
    std::vector<std::string_view> items;
    for (const auto& kv : p.items) items.push_back(kv.value);
    return PageJson("", items);
  };
  return "{\"consents\":" + raw(consents) + ",\"emergencies\":" + raw(grants) + "}";
}

}  // namespace medledger::contract::records
