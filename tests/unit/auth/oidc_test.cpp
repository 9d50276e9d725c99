#include "auth/oidc.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace medledger::auth {
namespace {

using json = nlohmann::json;

JwtClaims ClaimsWith(const json& payload) {
  JwtClaims c;
  c.sub = "ext-1";
  c.raw_payload = payload.dump();
  return c;
}

TEST(OidcRoleMap, ParsesAndRefusesUnknownRolesAndBadSyntax) {
  auto m = ParseRoleMap("physician=doctor,member=patient,it=admin");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at("physician"), "doctor");
  EXPECT_EQ(m->at("it"), "admin");
  EXPECT_TRUE(ParseRoleMap("").value().empty());
  EXPECT_EQ(ParseRoleMap("physician=surgeon").error().code, "oidc_role_map_invalid");
  EXPECT_EQ(ParseRoleMap("physician").error().code, "oidc_role_map_invalid");
  EXPECT_EQ(ParseRoleMap("=doctor").error().code, "oidc_role_map_invalid");
}

TEST(OidcClaims, MapsTheConfiguredClaimsAndNothingElse) {
  OidcConfig cfg;
  cfg.issuer = "https://idp";
  cfg.client_id = "app";
  cfg.role_claim = "medledger_role";
  cfg.role_map = {{"physician", "doctor"}};
  OidcProvider provider(cfg);
  auto ok = provider.MapClaims(ClaimsWith({{"preferred_username", "dr.house"}, {"medledger_role", "physician"}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->username, "dr.house");
  EXPECT_EQ(ok->role, identity::Role::kDoctor);
  EXPECT_EQ(ok->subject, "ext-1");
  // With a map, a bare medledger role name is not enough: only mapped provider values count.
  EXPECT_EQ(provider.MapClaims(ClaimsWith({{"preferred_username", "x"}, {"medledger_role", "admin"}})).error().code,
            "oidc_role_unmapped");
  EXPECT_EQ(provider.MapClaims(ClaimsWith({{"preferred_username", "x"}})).error().code, "oidc_claim_missing");
  EXPECT_EQ(provider.MapClaims(ClaimsWith({{"medledger_role", "physician"}})).error().code, "oidc_claim_missing");
  // A claim of the wrong type is missing, not a crash.
  EXPECT_EQ(provider.MapClaims(ClaimsWith({{"preferred_username", 7}, {"medledger_role", {"physician"}}})).error().code,
            "oidc_claim_missing");

  OidcConfig plain = cfg;
  plain.role_map.clear();
  OidcProvider identity_map(plain);
  EXPECT_EQ(identity_map.MapClaims(ClaimsWith({{"preferred_username", "a"}, {"medledger_role", "auditor"}}))->role,
            identity::Role::kAuditor);
  EXPECT_EQ(
      identity_map.MapClaims(ClaimsWith({{"preferred_username", "a"}, {"medledger_role", "physician"}})).error().code,
      "oidc_role_unmapped");
}

TEST(OidcSignIn, RefusesIncompleteRequestsAndAnUnreachableProvider) {
  OidcConfig cfg;
  cfg.issuer = "http://127.0.0.1:1";  // nothing listens on port 1
  cfg.client_id = "app";
  cfg.http_timeout_ms = 2000;
  OidcProvider provider(cfg);
  EXPECT_EQ(provider.SignIn({"", "v", "r", "n"}, 0).error().code, "missing_field");
  auto down = provider.SignIn({"code", "verifier", "http://127.0.0.1:1/cb", "nonce"}, 0);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, "oidc_unavailable");
  EXPECT_EQ(down.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(provider.PublicConfigJson().error().code, "oidc_unavailable");
}

}  // namespace
}  // namespace medledger::auth
