// Erasure on the ledger: which report an organisation's administrator erased, when, and why (a closed code).
// The keys are destroyed off the ledger; this record is what makes the erasure provable, lets every server of
// the organisation re-apply it after a crash or a restore, and refuses a second erasure. No free text: the
// administrator's note stays in the local erasure journal (docs/OPERATIONS.md).
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

std::string_view MspOf(std::string_view caller_id) {
  const size_t slash = caller_id.find('/');
  return slash == std::string_view::npos ? std::string_view() : caller_id.substr(0, slash);
}

}  // namespace

namespace keys {
Result<std::string> Erasure(std::string_view report_id) {
  return CreateCompositeKey(kErasureType, {std::string(report_id)});
}
}  // namespace keys

Result<std::optional<Stored>> LoadErasure(Ctx& ctx, std::string_view report_id) {
  ML_ASSIGN_OR_RETURN(std::string key, keys::Erasure(report_id));
  return Load(ctx.stub, key);
}

Result<std::string> EraseReport(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId", "reasonCode"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(std::string reason, a.String("reasonCode", 64, Pattern::kId));
  if (std::find(kErasureReasons.begin(), kErasureReasons.end(), reason) == kErasureReasons.end()) {
    return Invalid("invalid_reason",
                   "\"reasonCode\" must be one of: patient_request, legal_order, retention_expired, entered_in_error");
  }
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin}, "erase reports"));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  // The keys belong to the author's organisation, so only its administrator may answer for destroying them;
  // on a shared channel another hospital's administrator must not erase this one's records.
  if (MspOf(Str(head.doc, "author")) != ctx.caller.msp_id) {
    return Denied("an administrator erases only reports of their own organisation");
  }
  ML_ASSIGN_OR_RETURN(std::string key, keys::Erasure(id));
  ML_ASSIGN_OR_RETURN(auto existing, ctx.stub.GetState(key));
  if (existing) return AlreadyExists("already_erased", "this report was erased before");
  json record = {{"reportId", id},
                 {"reasonCode", reason},
                 {"erasedBy", ctx.caller.id},
                 {"erasedByMsp", ctx.caller.msp_id},
                 {"erasedAt", ctx.now.ToRfc3339()},
                 {"txId", ctx.tx_id}};
  std::string text = record.dump();
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));
  // On the patient's trail too: the patient learns that the report's content is gone, and why.
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "report_erased"},
                                      {"reportId", id},
                                      {"patientRef", Str(head.doc, "patientRef")},
                                      {"reasonCode", reason}}));
  return text;
}

Result<std::string> ListErasures(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"pageSize", "bookmark"}));
  ML_ASSIGN_OR_RETURN(PageRequest page, ParsePage(a));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin, Role::kAuditor}, "list erasures"));
  ML_ASSIGN_OR_RETURN(Page p, FilteredRangePage(ctx.stub, kErasureType, {}, page, {}));
  std::vector<std::string_view> raws;
  raws.reserve(p.items.size());
  for (const auto& kv : p.items) raws.push_back(kv.value);
  return PageJson(p.bookmark, raws);
}

}  // namespace medledger::contract::records
