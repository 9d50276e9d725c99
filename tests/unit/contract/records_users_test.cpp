// RecordUserEvent / GetUserRecord: user administration on the ledger, signed by the acting administrator.
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

const std::string kCertHash = HexEncode(crypto::Sha256("cert of dr.new"));

json Enroll(const std::string& role = "doctor") {
  return {{"action", "enrolled"}, {"subject", "dr.new"}, {"role", role}, {"certHash", kCertHash}, {"channel", "api"}};
}

TEST_F(RecordsTest, RecordUserEventNamesTheActingAdministrator) {
  json rec = Ok("admin", "RecordUserEvent", Enroll());
  EXPECT_EQ(rec["user"], "Org1MSP/dr.new");
  EXPECT_EQ(rec["role"], "doctor");
  EXPECT_EQ(rec["enrolledBy"], "Org1MSP/admin1");
  EXPECT_EQ(rec["enrolledAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(rec["certHash"], kCertHash);
  // The global trail shows the enrolment, by whom; auditors find it by kind.
  json trail = Ok("auditor", "ListAccessEvents", {{"kind", "user_enrolled"}});
  ASSERT_EQ(trail["items"].size(), 1u);
  EXPECT_EQ(trail["items"][0]["actor"], "Org1MSP/admin1");
  EXPECT_EQ(trail["items"][0]["subject"], "Org1MSP/dr.new");
  EXPECT_EQ(trail["items"][0]["role"], "doctor");
  EXPECT_EQ(Ok("auditor", "GetUserRecord", {{"user", "Org1MSP/dr.new"}})["enrolledBy"], "Org1MSP/admin1");

  Advance(60);
  for (const char* action : {"password_reset", "disabled", "enabled"}) {
    Ok("admin2", "RecordUserEvent", {{"action", action}, {"subject", "dr.new"}, {"channel", "cli"}});
  }
  json after = Ok("admin", "GetUserRecord", {{"user", "Org1MSP/dr.new"}});
  EXPECT_EQ(after["lastAction"], "enabled");
  EXPECT_EQ(after["disabled"], false);
  EXPECT_EQ(after["enrolledBy"], "Org1MSP/admin1");
  EXPECT_EQ(Ok("auditor", "ListAccessEvents", {{"actor", "Org1MSP/admin2"}})["items"].size(), 3u);
}

TEST_F(RecordsTest, RecordUserEventRules) {
  auto call = [&](const std::string& user, const json& arg) {
    Response r = Call(user, "RecordUserEvent", arg);
    return std::to_string(r.status) + " " + Code(r);
  };
  for (const char* user : {"doctor", "alice", "auditor"}) EXPECT_EQ(call(user, Enroll()), "403 permission_denied");
  // No free text anywhere: codes from closed lists, an identifier, a hash.
  json bad = Enroll();
  bad["action"] = "created the account for a friend";
  EXPECT_EQ(call("admin", bad), "400 invalid_field");
  bad["action"] = "created";
  EXPECT_EQ(call("admin", bad), "400 invalid_code");
  bad = Enroll("nurse");
  EXPECT_EQ(call("admin", bad), "400 invalid_code");
  bad = Enroll();
  bad["note"] = "hello";
  EXPECT_EQ(call("admin", bad), "400 unknown_field");
  bad = Enroll();
  bad.erase("certHash");
  EXPECT_EQ(call("admin", bad), "400 missing_field");
  bad = Enroll();
  bad.erase("role");
  EXPECT_EQ(call("admin", bad), "400 missing_field");
  bad = Enroll();
  bad["channel"] = "email";
  EXPECT_EQ(call("admin", bad), "400 invalid_code");
  EXPECT_EQ(call("admin", Enroll()), "200 ");
  EXPECT_EQ(call("admin", Enroll()), "409 user_already_enrolled");
  EXPECT_EQ(Call("doctor", "GetUserRecord", json{{"user", "Org1MSP/dr.new"}}).status, 403);
  EXPECT_EQ(Call("admin", "GetUserRecord", json{{"user", "Org1MSP/nobody"}}).status, 404);
}

TEST_F(RecordsTest, ApprovalNeedsASecondAdministrator) {
  Ok("admin", "RecordUserEvent", Enroll());
  json approve = {{"action", "approved"}, {"subject", "dr.new"}, {"channel", "api"}};
  Response self = Call("admin", "RecordUserEvent", approve);
  EXPECT_EQ(self.status, 403) << "the enrolling administrator approved their own doctor";
  json ok = Ok("admin2", "RecordUserEvent", approve);
  EXPECT_EQ(ok["approvedBy"], "Org1MSP/admin2");
  // A role change clears the approval; now the changer may not approve, the original enroller may.
  Ok("admin2", "RecordUserEvent",
     {{"action", "role_changed"}, {"subject", "dr.new"}, {"role", "doctor"}, {"channel", "api"}});
  EXPECT_FALSE(Ok("admin", "GetUserRecord", {{"user", "Org1MSP/dr.new"}}).contains("approvedBy"));
  EXPECT_EQ(Call("admin2", "RecordUserEvent", approve).status, 403);
  EXPECT_EQ(Ok("admin", "RecordUserEvent", approve)["approvedBy"], "Org1MSP/admin1");
  EXPECT_EQ(
      Call("admin", "RecordUserEvent", json{{"action", "approved"}, {"subject", "ghost"}, {"channel", "api"}}).status,
      404);
}

}  // namespace
}  // namespace medledger::contract::testing
