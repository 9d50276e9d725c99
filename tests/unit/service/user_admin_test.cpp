// UserAdminService without a ledger: who may administer, the order and form of its validation, what an
// enrolment under the two-person rule leaves disabled, and the doctor list. The ledger trail (enrolled and
// approved events, the contract refusing the enrolling administrator) is server_user_admin_test's.
#include "service/user_admin.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "temp_dir.h"

namespace medledger::service {
namespace {

using identity::Role;

class UserAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    identity::CreateOrganizationOptions create;
    create.password_cost = identity::PasswordCost::Minimal();
    auto org = identity::Organization::Create(dir_.path() / "org", "Fake Hospital", create);
    ASSERT_TRUE(org.ok()) << org.error().ToString();
    org_ = std::move(*org);
    ASSERT_TRUE(org_->AddUser({"registrar", Role::kAdmin, "Registrar", {}}).ok());
  }

  static auth::Principal As(const char* name, Role role) { return auth::Principal{name, role, name}; }

  std::vector<std::string> Names(const std::vector<identity::User>& users) {
    std::vector<std::string> out;
    for (const auto& u : users) out.push_back(u.username);
    return out;
  }

  medledger::testing::TempDir dir_;
  std::unique_ptr<identity::Organization> org_;
};

TEST_F(UserAdminTest, OnlyAnAdministratorListsEnrolsAndApproves) {
  UserAdminService admin(org_.get(), nullptr);
  for (Role role : {Role::kDoctor, Role::kPatient, Role::kAuditor}) {
    const auth::Principal who = As("someone", role);
    EXPECT_EQ(UserAdminService::MayAdminister(who).error().code, "forbidden");
    EXPECT_EQ(admin.ListUsers(who).error().kind, ErrorKind::kPermissionDenied);
    std::vector<FieldIssue> issues;
    EXPECT_EQ(admin.Enroll(who, {"eve", "admin", "", "a-long-enough-password"}, &issues).error().code, "forbidden");
    EXPECT_EQ(admin.Approve(who, "registrar").error().code, "forbidden");
  }
  EXPECT_FALSE(org_->users().GetUser("eve").ok());
  auto all = admin.ListUsers(As("registrar", Role::kAdmin));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"admin", "registrar"}));  // Create made "admin"
}

TEST_F(UserAdminTest, EnrolValidatesRoleThenUsernameThenPassword) {
  UserAdminService admin(org_.get(), nullptr);
  const auth::Principal registrar = As("registrar", Role::kAdmin);
  std::vector<FieldIssue> issues;
  auto bad_role = admin.Enroll(registrar, {"Bad Name", "surgeon", "", "x"}, &issues);
  EXPECT_EQ(bad_role.error().code, "validation_failed");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "role");

  issues.clear();
  auto bad_name = admin.Enroll(registrar, {"Bad Name", "doctor", "", "x"}, &issues);
  EXPECT_EQ(bad_name.error().code, "validation_failed");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "username");

  issues.clear();
  auto weak = admin.Enroll(registrar, {"dr.new", "doctor", "", "x"}, &issues);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, "weak_password");
  EXPECT_TRUE(issues.empty());
  EXPECT_FALSE(org_->users().GetUser("dr.new").ok());

  auto ok = admin.Enroll(registrar, {"dr.new", "doctor", "", "correct-horse-battery"}, &issues);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->user.display_name, "dr.new");  // no display name: the username
  EXPECT_EQ(ok->user.role, Role::kDoctor);
  EXPECT_FALSE(ok->pending_approval);
  EXPECT_FALSE(org_->users().GetUser("dr.new")->disabled);
  EXPECT_EQ(admin.Enroll(registrar, {"dr.new", "doctor", "", "correct-horse-battery"}, &issues).error().kind,
            ErrorKind::kAlreadyExists);
}

TEST_F(UserAdminTest, TwoPersonRuleLeavesANewDoctorDisabledAndOthersNot) {
  UserAdminService admin(org_.get(), nullptr, {.two_person_enrollment = true});
  const auth::Principal registrar = As("registrar", Role::kAdmin);
  std::vector<FieldIssue> issues;
  auto doctor = admin.Enroll(registrar, {"dr.two", "doctor", "Dr Two", "correct-horse-battery"}, &issues);
  ASSERT_TRUE(doctor.ok()) << doctor.error().ToString();
  EXPECT_TRUE(doctor->pending_approval);
  EXPECT_TRUE(org_->users().GetUser("dr.two")->disabled);
  auto auditor = admin.Enroll(registrar, {"aud", "auditor", "", "correct-horse-battery"}, &issues);
  ASSERT_TRUE(auditor.ok());
  EXPECT_FALSE(auditor->pending_approval);
  EXPECT_FALSE(org_->users().GetUser("aud")->disabled);
  // Approval is recorded on the ledger first; with none it is refused and the account stays disabled.
  EXPECT_EQ(admin.Approve(registrar, "nobody").error().code, "user_not_found");
  EXPECT_EQ(admin.Approve(registrar, "dr.two").error().code, "ledger_unavailable");
  EXPECT_TRUE(org_->users().GetUser("dr.two")->disabled);
}

TEST_F(UserAdminTest, DoctorListHoldsEnabledDoctorsOnly) {
  UserAdminService admin(org_.get(), nullptr);
  for (auto [name, role] : {std::pair{"dr.b", Role::kDoctor}, std::pair{"dr.a", Role::kDoctor},
                            std::pair{"dr.off", Role::kDoctor}, std::pair{"pat", Role::kPatient}}) {
    ASSERT_TRUE(org_->AddUser({name, role, name, {}}).ok()) << name;
  }
  ASSERT_TRUE(org_->users().SetDisabled("dr.off", true).ok());
  EXPECT_EQ(Names(admin.ListDoctors()), (std::vector<std::string>{"dr.a", "dr.b"}));
}

}  // namespace
}  // namespace medledger::service
