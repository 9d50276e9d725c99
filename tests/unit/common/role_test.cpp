#include "common/role.h"

#include <gtest/gtest.h>

#include <string>

namespace medledger {
namespace {

TEST(RoleTest, EveryRoleHasOneNameThatMapsBack) {
  for (Role r : {Role::kAdmin, Role::kDoctor, Role::kPatient, Role::kAuditor, Role::kService}) {
    auto back = RoleFromName(RoleName(r));
    ASSERT_TRUE(back.has_value()) << RoleName(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_STREQ(RoleName(Role::kService), "service");
}

TEST(RoleTest, UnknownNamesHaveNoFallback) {
  for (const char* name : {"", "Admin", "doctor ", "nurse", "unknown", "patient\n"}) {
    EXPECT_FALSE(RoleFromName(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace medledger
