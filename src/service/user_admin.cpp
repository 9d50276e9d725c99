#include "service/user_admin.h"

#include "identity/password.h"
#include "service/records_service.h"

namespace medledger::service {

UserAdminService::UserAdminService(identity::Organization* org, RecordsService* records, UserAdminOptions options)
    : org_(org), records_(records), options_(options) {}

Status UserAdminService::MayAdminister(const auth::Principal& who) {
  if (who.role != identity::Role::kAdmin) {
    return MakeError(ErrorKind::kPermissionDenied, "forbidden", "administrators only");
  }
  return OkStatus();
}

Result<std::vector<identity::User>> UserAdminService::ListUsers(const auth::Principal& who) const {
  ML_RETURN_IF_ERROR(MayAdminister(who));
  return org_->users().ListUsers();
}

std::vector<identity::User> UserAdminService::ListDoctors() const {
  std::vector<identity::User> out;
  for (auto& u : org_->users().ListUsers()) {
    if (u.role == identity::Role::kDoctor && !u.disabled) out.push_back(std::move(u));
  }
  return out;
}

bool UserAdminService::IsActiveDoctor(const std::string& username) const {
  auto user = org_->users().GetUser(username);
  return user.ok() && !user->disabled && user->role == identity::Role::kDoctor;
}

Result<EnrolledAccount> UserAdminService::Enroll(const auth::Principal& admin, const NewAccount& in,
                                                 std::vector<FieldIssue>* issues) {
  ML_RETURN_IF_ERROR(MayAdminister(admin));
  auto role = identity::ParseRole(in.role);
  if (!role.ok()) {
    issues->push_back({"role", "invalid", "admin, doctor, patient or auditor"});
    return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "bad role");
  }
  if (!identity::IsValidUsername(in.username)) {
    issues->push_back({"username", "invalid", "[a-z0-9][a-z0-9._-]{0,63}"});
    return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "bad username");
  }
  ML_RETURN_IF_ERROR(identity::ValidatePassword(in.password));
  identity::NewUser nu{in.username, *role, in.display_name.empty() ? in.username : in.display_name, in.password};
  ML_ASSIGN_OR_RETURN(auto user, org_->AddUser(nu));
  // The enrolment goes on the ledger signed by this administrator, so the trail names who made the account.
  // A clinical account under the two-person rule stays disabled (and refused by the contract) until a
  // different administrator approves it.
  const bool pending = options_.two_person_enrollment && *role == identity::Role::kDoctor;
  if (pending) ML_RETURN_IF_ERROR(org_->users().SetDisabled(user.username, true));
  if (records_ != nullptr) {
    auto recorded = records_->RecordUserEvent(admin, "enrolled", user.username, "api", pending);
    if (!recorded.ok()) {
      (void)org_->users().SetDisabled(user.username, true);
      return recorded.error();
    }
  }
  return EnrolledAccount{std::move(user), pending};
}

Result<identity::User> UserAdminService::Approve(const auth::Principal& admin, const std::string& username) {
  ML_RETURN_IF_ERROR(MayAdminister(admin));
  auto user = org_->users().GetUser(username);
  if (!user.ok()) return MakeError(ErrorKind::kNotFound, "user_not_found", "no such user");
  if (records_ == nullptr) return MakeError(ErrorKind::kUnavailable, "ledger_unavailable", "no ledger");
  ML_RETURN_IF_ERROR(records_->RecordUserEvent(admin, "approved", username, "api"));
  ML_RETURN_IF_ERROR(org_->users().SetDisabled(username, false));
  return user;
}

}  // namespace medledger::service
