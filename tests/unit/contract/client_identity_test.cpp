#include "contract/client_identity.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

TEST(IdentityResolver, RolesAndCallerIds) {
  IdentityResolver resolver;
  const auto& ids = Identities::Get();
  struct Case {
    const char* user;
    const char* id;
    Role role;
  } cases[] = {{"admin", "Org1MSP/admin1", Role::kAdmin},
               {"doctor", "Org1MSP/drhouse", Role::kDoctor},
               {"alice", "Org1MSP/alice", Role::kPatient},
               {"auditor", "Org1MSP/audit1", Role::kAuditor},
               {"other_doctor", "Org2MSP/drhouse", Role::kDoctor}};
  for (const auto& c : cases) {
    auto id = resolver.Resolve(ids[c.user].creator);
    ASSERT_TRUE(id.ok()) << c.user << ": " << id.error().ToString();
    EXPECT_EQ(id->id, c.id);
    EXPECT_EQ(id->role, c.role);
    EXPECT_EQ(id->name + "", std::string(c.id).substr(std::string(c.id).find('/') + 1));
  }
}

TEST(IdentityResolver, BrokenIdentitiesAreDenied) {
  IdentityResolver resolver;
  const auto& ids = Identities::Get();
  for (const char* user : {"no_role", "no_attrs", "nurse", "bad_cn", "bad_pem", "no_msp"}) {
    auto id = resolver.Resolve(ids[user].creator);
    ASSERT_FALSE(id.ok()) << user;
    EXPECT_EQ(id.error().kind, ErrorKind::kPermissionDenied) << user;
    EXPECT_EQ(id.error().code, "permission_denied");
  }
  EXPECT_FALSE(resolver.Resolve(Creator{"Org1MSP", ""}).ok());
  EXPECT_FALSE(resolver.Resolve(Creator{std::string("Org1\0MSP", 8), ids["doctor"].creator.cert_pem}).ok());
}

TEST(IdentityResolver, CachedResultEqualsFreshParse) {
  IdentityResolver cached;
  const auto& doctor = Identities::Get()["doctor"].creator;
  auto first = cached.Resolve(doctor);
  auto second = cached.Resolve(doctor);
  IdentityResolver fresh;
  auto third = fresh.Resolve(doctor);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ(second->id, third->id);
  EXPECT_EQ(second->role, third->role);
  // The same certificate presented under another MSP is another caller, not a cache hit.
  auto other = cached.Resolve(Creator{"Org9MSP", doctor.cert_pem});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->id, "Org9MSP/drhouse");
}

TEST(IdentityResolver, ConcurrentResolution) {
  IdentityResolver resolver;
  const auto& ids = Identities::Get();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const char* users[] = {"admin", "doctor", "alice", "auditor"};
      for (int i = 0; i < 200; ++i) {
        const char* u = users[(i + t) % 4];
        auto id = resolver.Resolve(ids[u].creator);
        if (!id.ok() || id->id != ids[u].id) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace medledger::contract::testing
