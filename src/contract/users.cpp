// User administration on the ledger: every enrolment, role change, disable/enable, password reset and approval,
// signed by the acting administrator's own identity, so the trail names who created or changed an account and
// an administrator cannot make a doctor appear from nowhere. No free text: codes, an enrollment ID (a random
// pseudonym for patients) and the SHA-256 of the certificate.
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

constexpr std::array<std::string_view, 6> kUserActions = {"enrolled", "role_changed",   "disabled",
                                                          "enabled",  "password_reset", "approved"};
constexpr std::array<std::string_view, 4> kRoles = {"admin", "doctor", "patient", "auditor"};
constexpr std::array<std::string_view, 2> kChannels = {"api", "cli"};

}  // namespace

namespace keys {
Result<std::string> User(std::string_view caller_id) {
  return CreateCompositeKey(kUserType, {std::string(caller_id)});
}
}  // namespace keys

Status RequireApprovedAccount(Ctx& ctx) {
  if (ctx.caller.role != Role::kDoctor) return OkStatus();
  ML_ASSIGN_OR_RETURN(std::string key, keys::User(ctx.caller.id));
  ML_ASSIGN_OR_RETURN(auto stored, Load(ctx.stub, key));
  if (stored && stored->doc.value("pendingApproval", false)) {
    return MakeError(ErrorKind::kPermissionDenied, "account_pending_approval",
                     "this account awaits a second administrator's approval");
  }
  return OkStatus();
}

Result<std::string> RecordUserEvent(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a,
                      Args::Parse(arg, {"action", "subject", "role", "certHash", "channel", "requiresApproval"}));
  ML_ASSIGN_OR_RETURN(std::string action, Code(a, "action", kUserActions));
  ML_ASSIGN_OR_RETURN(std::string subject, a.String("subject", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto role, a.OptionalString("role", 16, Pattern::kId));
  if (role && !role->empty() && std::find(kRoles.begin(), kRoles.end(), *role) == kRoles.end()) {
    return Invalid("invalid_code", "\"role\" must be one of: admin, doctor, patient, auditor");
  }
  const bool needs_role = action == "enrolled" || action == "role_changed";
  if (needs_role && (!role || role->empty())) return Invalid("missing_field", "\"role\" is required for " + action);
  ML_ASSIGN_OR_RETURN(auto cert_hash, a.OptionalString("certHash", 64, Pattern::kHex64));
  if (action == "enrolled" && (!cert_hash || cert_hash->empty())) {
    return Invalid("missing_field", "\"certHash\" is required for enrolled");
  }
  ML_ASSIGN_OR_RETURN(std::string channel, Code(a, "channel", kChannels));
  ML_ASSIGN_OR_RETURN(auto requires_approval, a.OptionalBool("requiresApproval"));
  if (requires_approval.value_or(false) && !needs_role) {
    return Invalid("invalid_field", "\"requiresApproval\" applies to enrolled and role_changed only");
  }
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin}, "record user administration"));

  // The subject lives in the acting administrator's organisation.
  const std::string user_id = ctx.caller.msp_id + "/" + subject;
  ML_ASSIGN_OR_RETURN(std::string key, keys::User(user_id));
  ML_ASSIGN_OR_RETURN(auto stored, Load(ctx.stub, key));
  json record = stored ? std::move(stored->doc) : json{{"user", user_id}};
  if (action == "enrolled") {
    if (stored && record.contains("enrolledAt")) {
      return AlreadyExists("user_already_enrolled", "this enrollment ID is already on the ledger");
    }
    record["enrolledAt"] = ctx.now.ToRfc3339();
    record["enrolledAtMs"] = ctx.now.UnixMillis();
    record["enrolledBy"] = ctx.caller.id;
    record["enrolledTxId"] = ctx.tx_id;
    record["certHash"] = *cert_hash;
  }
  if (action == "approved") {
    // The two-person rule: whoever granted the current role (enrolled the account, or last changed its role)
    // cannot approve it.
    if (!stored) return NotFound("user_not_found", "no enrolment of this user is on the ledger");
    const std::string granted_by =
        record.contains("roleChangedBy") ? Str(record, "roleChangedBy") : Str(record, "enrolledBy");
    if (granted_by == ctx.caller.id) {
      return Denied("a second, different administrator must approve");
    }
    record["approvedBy"] = ctx.caller.id;
    record["approvedAt"] = ctx.now.ToRfc3339();
  }
  if (action == "role_changed") {
    record["roleChangedBy"] = ctx.caller.id;
    record["roleChangedAt"] = ctx.now.ToRfc3339();
    record["roleChangedAtMs"] = ctx.now.UnixMillis();
    record.erase("approvedBy");
    record.erase("approvedAt");
  }
  if (needs_role) {
    record["role"] = *role;
    // Two-person rule: the account is refused by every function until a different administrator approves.
    record["pendingApproval"] = requires_approval.value_or(false);
  }
  if (action == "approved") record["pendingApproval"] = false;
  if (action == "disabled") record["disabled"] = true;
  if (action == "enabled") record["disabled"] = false;
  record["updatedAt"] = ctx.now.ToRfc3339();
  record["lastAction"] = action;
  record["txId"] = ctx.tx_id;
  std::string text = record.dump();
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));

  json event = {{"kind", "user_" + action},
                {"subject", user_id},
                {"channel", channel},
                {"eventId", ctx.tx_id},
                {"txId", ctx.tx_id},
                {"actor", ctx.caller.id},
                {"actorRole", RoleName(ctx.caller.role)},
                {"timestamp", ctx.now.ToRfc3339()},
                {"emergency", false}};
  if (role && !role->empty()) event["role"] = *role;
  // The global trail only: user administration concerns no patient.
  ML_ASSIGN_OR_RETURN(std::string by_time, CreateCompositeKey(kEventType, {TimeKey(ctx.now), ctx.tx_id}));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_time, event.dump()));
  return text;
}

Result<std::string> GetUserRecord(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"user"}));
  ML_ASSIGN_OR_RETURN(std::string user_id, a.String("user", 257, Pattern::kCallerId));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin, Role::kAuditor}, "read user administration records"));
  ML_ASSIGN_OR_RETURN(std::string key, keys::User(user_id));
  ML_ASSIGN_OR_RETURN(auto stored, Load(ctx.stub, key));
  if (!stored) return NotFound("user_not_found", "no administration of this user is on the ledger");
  return std::move(stored->raw);
}

}  // namespace medledger::contract::records
