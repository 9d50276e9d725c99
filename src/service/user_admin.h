// User administration over the API: who may list, enrol and approve accounts, and the ledger trail of each
// change. The HTTP handlers parse and answer; the rules live here, so no handler touches identity::Organization.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/principal.h"
#include "common/result.h"
#include "identity/organization.h"
#include "identity/user_directory.h"
#include "service/report_validation.h"

namespace medledger::service {

class RecordsService;

struct NewAccount {
  std::string username;
  std::string role;          // as sent: "admin", "doctor", "patient" or "auditor"
  std::string display_name;  // empty: the username
  std::string password;
};

struct EnrolledAccount {
  identity::User user;
  bool pending_approval = false;  // a doctor under the two-person rule: disabled until a second admin approves
};

struct UserAdminOptions {
  // Two-person rule: a doctor enrolled over the API works only after a different administrator approves it.
  bool two_person_enrollment = false;
};

class UserAdminService {
 public:
  // `records` records enrolments and approvals on the ledger; null (no ledger): enrolments go unrecorded and
  // approvals answer `ledger_unavailable`. Both pointers must outlive this.
  UserAdminService(identity::Organization* org, RecordsService* records, UserAdminOptions options = {});

  // "forbidden" unless `who` is an administrator: the rule every call below applies first. A handler asks it
  // before reading a request body, so a non-administrator's malformed body is still a 403.
  static Status MayAdminister(const auth::Principal& who);

  // Every account, sorted by username. Administrators only.
  Result<std::vector<identity::User>> ListUsers(const auth::Principal& who) const;
  // The enabled doctors (the consent form's picker). Any signed-in caller.
  std::vector<identity::User> ListDoctors() const;
  // Whether `username` is an enabled doctor account (what a system client may act as).
  bool IsActiveDoctor(const std::string& username) const;

  // Validates role, username and password in that order ("validation_failed" with the offending field in
  // `issues`, or the password policy's own error), creates the account and records the enrolment signed by
  // `admin`. If the ledger refuses, the new account is disabled: it must not work unrecorded.
  Result<EnrolledAccount> Enroll(const auth::Principal& admin, const NewAccount& in, std::vector<FieldIssue>* issues);

  // A second administrator's approval of a pending account ("user_not_found", "ledger_unavailable"); the
  // contract refuses the enrolling administrator. Enables the account once the approval is on the ledger.
  Result<identity::User> Approve(const auth::Principal& admin, const std::string& username);

 private:
  identity::Organization* org_;
  RecordsService* records_;
  UserAdminOptions options_;
};

}  // namespace medledger::service
