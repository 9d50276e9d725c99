// The consortium directory of clinicians (PublishClinician, ListClinicians) and a doctor's listing of the
// consents that name them (ListConsentsForDoctor).
#include <set>

#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

class DirectoryTest : public RecordsTest {
 protected:
  json Publish(const std::string& user, json overrides = json::object()) {
    json a = {{"username", "drwho"}, {"displayName", "Dr. Who"}, {"role", "doctor"}};
    a.update(overrides);
    return Ok(user, "PublishClinician", a);
  }
  std::string PublishCode(const std::string& user, json overrides) {
    json a = {{"username", "drwho"}, {"displayName", "Dr. Who"}, {"role", "doctor"}};
    if (overrides.is_object()) a.update(overrides);
    Response r = Call(user, "PublishClinician", a);
    return std::to_string(r.status) + " " + Code(r);
  }
};

TEST_F(DirectoryTest, AdminPublishesAClinicianOfTheirOwnOrganisation) {
  json e = Publish("admin", {{"displayName", "Dr. Wéi Hú"}});
  EXPECT_EQ(e["mspId"], "Org1MSP");
  EXPECT_EQ(e["username"], "drwho");
  EXPECT_EQ(e["displayName"], "Dr. Wéi Hú");
  EXPECT_EQ(e["role"], "doctor");
  EXPECT_EQ(e["active"], true);
  EXPECT_EQ(e["publishedBy"], "Org1MSP/admin1");
  EXPECT_EQ(e["publishedAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(e["txId"], last_tx_);
  // The entry is on the global trail, without the display name.
  json trail = Ok("auditor", "ListAccessEvents", {{"kind", "clinician_published"}});
  ASSERT_EQ(trail["items"].size(), 1u);
  EXPECT_EQ(trail["items"][0]["subject"], "Org1MSP/drwho");
  EXPECT_EQ(trail["items"][0]["actor"], "Org1MSP/admin1");
  EXPECT_FALSE(trail["items"][0].contains("displayName"));
  EXPECT_FALSE(trail["items"][0].contains("patientRef"));
  // Publishing again replaces the entry (a new name, or deactivation).
  Publish("admin2", {{"displayName", "Dr. W."}, {"active", false}});
  json list = Ok("alice", "ListClinicians", json::object());
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["displayName"], "Dr. W.");
  EXPECT_EQ(list["items"][0]["active"], false);
  EXPECT_EQ(list["items"][0]["publishedBy"], "Org1MSP/admin2");
}

TEST_F(DirectoryTest, OnlyAdministratorsPublishAndOnlyForTheirOwnOrganisation) {
  for (const char* user : {"doctor", "alice", "auditor", "service"}) {
    EXPECT_EQ(PublishCode(user, {}), "403 permission_denied") << user;
  }
  // The organisation comes from the caller's certificate; there is no argument to name another one.
  EXPECT_EQ(PublishCode("other_admin", {{"mspId", "Org1MSP"}}), "400 unknown_field");
  EXPECT_EQ(PublishCode("other_admin", {{"username", "Org1MSP/drwho"}}), "400 invalid_field");
  Publish("admin");
  json theirs = Publish("other_admin", {{"displayName", "Impostor"}, {"active", false}});
  EXPECT_EQ(theirs["mspId"], "Org2MSP");
  // Org1's entry is untouched by Org2's administrator.
  json org1 = Ok("doctor", "ListClinicians", {{"mspId", "Org1MSP"}});
  ASSERT_EQ(org1["items"].size(), 1u);
  EXPECT_EQ(org1["items"][0]["displayName"], "Dr. Who");
  EXPECT_EQ(org1["items"][0]["active"], true);
  json org2 = Ok("doctor", "ListClinicians", {{"mspId", "Org2MSP"}});
  ASSERT_EQ(org2["items"].size(), 1u);
  EXPECT_EQ(org2["items"][0]["displayName"], "Impostor");
  EXPECT_EQ(Ok("doctor", "ListClinicians", {{"mspId", "Org3MSP"}})["items"].size(), 0u);
}

TEST_F(DirectoryTest, PublishValidation) {
  EXPECT_EQ(PublishCode("admin", {{"displayName", std::string(129, 'a')}}), "400 field_too_long");
  EXPECT_EQ(PublishCode("admin", {{"displayName", std::string(128, 'a')}}), "200 ");
  // 64 two-byte characters are 128 bytes; one more is too long even though it is 65 characters.
  std::string accents;
  for (int i = 0; i < 65; ++i) accents += "é";
  EXPECT_EQ(PublishCode("admin", {{"displayName", accents}}), "400 field_too_long");
  EXPECT_EQ(PublishCode("admin", {{"displayName", "Dr.\nWho"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"displayName", "Dr.\tWho"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"displayName", "Dr.\x01Who"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"displayName", "Dr.\x7fWho"}}), "400 invalid_field");
  // C1 controls, line separators and bidirectional controls: one line that displays as stored.
  for (const char* hidden : {"Dr.\u0085Who", "Dr.\u009fWho", "Dr.\u2028Who", "Dr.\u2029Who", "Dr.\u202eohW",
                             "Dr.\u2066Who", "Dr.\u2069Who", "\u202a"}) {
    EXPECT_EQ(PublishCode("admin", {{"displayName", hidden}}), "400 invalid_field") << hidden;
  }
  // Neighbours of those ranges are ordinary characters.
  for (const char* fine :
       {"Dr.\u00a0Who", "Dr.\u2027Who", "Dr.\u202fWho", "Dr.\u2065Who", "Dr.\u206aWho", "Zoë Ångström"}) {
    EXPECT_EQ(PublishCode("admin", {{"displayName", fine}}), "200 ") << fine;
  }
  // Not UTF-8 (nlohmann/json cannot even serialize it, so the argument is written by hand).
  Response bad_utf8 = Call("admin", "PublishClinician",
                           std::string("{\"username\":\"drwho\",\"role\":\"doctor\",\"displayName\":\"\xff\xfe\"}"));
  EXPECT_EQ(bad_utf8.status, 400) << bad_utf8.message;
  EXPECT_EQ(PublishCode("admin", {{"displayName", "   "}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"displayName", ""}}), "400 missing_field");
  EXPECT_EQ(PublishCode("admin", {{"role", "nurse"}}), "400 invalid_code");
  EXPECT_EQ(PublishCode("admin", {{"role", "admin"}}), "400 invalid_code");
  EXPECT_EQ(PublishCode("admin", {{"username", "dr who"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"username", "dr/who"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"username", std::string(129, 'd')}}), "400 field_too_long");
  EXPECT_EQ(PublishCode("admin", {{"username", "dr.who@example.org"}}), "200 ");  // a CN may hold '@'
  EXPECT_EQ(PublishCode("admin", {{"active", "yes"}}), "400 invalid_field");
  EXPECT_EQ(PublishCode("admin", {{"patientRef", kPatientA}}), "400 unknown_field");
  // Malformed arguments are 400 for every role, before the role check.
  EXPECT_EQ(PublishCode("doctor", {{"role", "nurse"}}), "400 invalid_code");
}

TEST_F(DirectoryTest, APublishedUserOfAnotherRoleIsRefused) {
  Ok("admin", "RecordUserEvent",
     {{"action", "enrolled"}, {"subject", "audit1"}, {"role", "auditor"}, {"certHash", kHash1}, {"channel", "api"}});
  EXPECT_EQ(PublishCode("admin", {{"username", "audit1"}}), "409 clinician_role_mismatch");
  Ok("admin", "RecordUserEvent",
     {{"action", "enrolled"}, {"subject", "drwho"}, {"role", "doctor"}, {"certHash", kHash2}, {"channel", "api"}});
  EXPECT_EQ(PublishCode("admin", {}), "200 ");
}

TEST_F(DirectoryTest, ListCliniciansPagesForEveryRole) {
  for (int i = 0; i < 7; ++i) Publish("admin", {{"username", Numbered("dr", i)}});
  Publish("other_admin", {{"username", "drx"}});
  for (const char* user : {"admin", "doctor", "alice", "auditor", "carol", "other_doctor"}) {
    EXPECT_EQ(Ok(user, "ListClinicians", json::object())["items"].size(), 8u) << user;
  }
  std::vector<std::string> seen;
  std::string bookmark;
  int pages = 0;
  do {
    json page = Ok("alice", "ListClinicians", {{"mspId", "Org1MSP"}, {"pageSize", 3}, {"bookmark", bookmark}});
    for (const auto& e : page["items"]) seen.push_back(e["username"]);
    bookmark = page["bookmark"];
    ++pages;
  } while (!bookmark.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"dr0", "dr1", "dr2", "dr3", "dr4", "dr5", "dr6"}));
  auto code = [&](json arg) {
    Response r = Call("alice", "ListClinicians", arg);
    return std::to_string(r.status) + " " + Code(r);
  };
  EXPECT_EQ(code({{"pageSize", 0}}), "400 out_of_range");
  EXPECT_EQ(code({{"pageSize", 101}}), "400 out_of_range");
  EXPECT_EQ(code({{"bookmark", "zz"}}), "400 invalid_bookmark");
  EXPECT_EQ(code({{"mspId", "Org 1"}}), "400 invalid_field");
  EXPECT_EQ(code({{"username", "dr1"}}), "400 missing_field");
  EXPECT_EQ(code({{"username", "dr 1"}, {"mspId", "Org1MSP"}}), "400 invalid_field");
  EXPECT_EQ(code({{"user", "dr1"}}), "400 unknown_field");
  // One clinician by (mspId, username): exactly that entry, not a prefix match.
  json one = Ok("alice", "ListClinicians", {{"mspId", "Org1MSP"}, {"username", "dr1"}});
  ASSERT_EQ(one["items"].size(), 1u);
  EXPECT_EQ(one["items"][0]["username"], "dr1");
  EXPECT_EQ(Ok("alice", "ListClinicians", {{"mspId", "Org1MSP"}, {"username", "dr"}})["items"].size(), 0u);
  EXPECT_EQ(Ok("alice", "ListClinicians", {{"mspId", "Org2MSP"}, {"username", "dr1"}})["items"].size(), 0u);
  // A bookmark of another listing (here: Org2's range) is refused.
  json org1 = Ok("alice", "ListClinicians", {{"mspId", "Org1MSP"}, {"pageSize", 1}});
  EXPECT_EQ(code({{"mspId", "Org2MSP"}, {"bookmark", org1["bookmark"]}}), "400 invalid_bookmark");
}

class DoctorConsentsTest : public RecordsTest {
 protected:
  void SetUp() override { RegisterPatients(); }
};

TEST_F(DoctorConsentsTest, ADoctorListsTheConsentsThatNameThem) {
  json c1 = Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  EXPECT_EQ(c1["patientMsp"], "Org1MSP");
  json c2 = Grant("bob", kPatientB, "Org1MSP/drwho", 7200);
  Grant("alice", kPatientA, "Org1MSP/drstrange", 3600);
  // A consent naming another organisation's doctor of the same username is theirs, not drwho's.
  Grant("alice", kPatientA, "Org2MSP/drwho", 3600);
  json mine = Ok("doctor2", "ListConsentsForDoctor", json::object());
  ASSERT_EQ(mine["items"].size(), 2u);
  EXPECT_EQ(mine["bookmark"], "");
  for (const auto& c : mine["items"]) {
    EXPECT_EQ(c["doctor"], "Org1MSP/drwho");
    EXPECT_EQ(c["active"], true);
    EXPECT_EQ(c["patientMsp"], "Org1MSP");
  }
  EXPECT_EQ(Ok("doctor", "ListConsentsForDoctor", json::object())["items"].size(), 0u);
  EXPECT_EQ(Ok("doctor3", "ListConsentsForDoctor", json::object())["items"].size(), 1u);
  // Filter by patient.
  json only_b = Ok("doctor2", "ListConsentsForDoctor", {{"patientRef", kPatientB}});
  ASSERT_EQ(only_b["items"].size(), 1u);
  EXPECT_EQ(only_b["items"][0]["consentId"], c2["consentId"]);

  // Revoked and expired consents stay listed, inactive; activeOnly hides them.
  Ok("alice", "RevokeAccess", {{"patientRef", kPatientA}, {"consentId", c1["consentId"]}});
  json after = Ok("doctor2", "ListConsentsForDoctor", {{"patientRef", kPatientA}});
  ASSERT_EQ(after["items"].size(), 1u);
  EXPECT_EQ(after["items"][0]["active"], false);
  EXPECT_EQ(after["items"][0]["revoked"], true);
  EXPECT_EQ(Ok("doctor2", "ListConsentsForDoctor", {{"activeOnly", true}})["items"].size(), 1u);
  Advance(7200);
  json expired = Ok("doctor2", "ListConsentsForDoctor", {{"patientRef", kPatientB}});
  EXPECT_EQ(expired["items"][0]["active"], false);
  EXPECT_EQ(Ok("doctor2", "ListConsentsForDoctor", {{"activeOnly", true}})["items"].size(), 0u);
}

TEST_F(DoctorConsentsTest, RolesAndValidation) {
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  for (const char* user : {"admin", "alice", "auditor", "service"}) {
    EXPECT_EQ(Call(user, "ListConsentsForDoctor", json::object()).status, 403) << user;
  }
  // Same username, another organisation: not named by Org1's consent.
  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  json theirs = Ok("other_doctor", "ListConsentsForDoctor", json::object());
  ASSERT_EQ(theirs["items"].size(), 1u);
  EXPECT_EQ(theirs["items"][0]["doctor"], "Org2MSP/drhouse");
  auto code = [&](json arg) {
    Response r = Call("doctor2", "ListConsentsForDoctor", arg);
    return std::to_string(r.status) + " " + Code(r);
  };
  EXPECT_EQ(code({{"patientRef", "ABC"}}), "400 invalid_field");
  EXPECT_EQ(code({{"doctor", "Org1MSP/drhouse"}}), "400 unknown_field");
  EXPECT_EQ(code({{"activeOnly", 1}}), "400 invalid_field");
  EXPECT_EQ(code({{"pageSize", 101}}), "400 out_of_range");
  // Another doctor's bookmark does not open this doctor's range.
  for (int i = 0; i < 3; ++i) Grant("alice", kPatientA, "Org1MSP/drhouse", 3600);
  json other = Ok("doctor", "ListConsentsForDoctor", {{"pageSize", 1}});
  ASSERT_FALSE(other["bookmark"].get<std::string>().empty());
  EXPECT_EQ(code({{"bookmark", other["bookmark"]}}), "400 invalid_bookmark");
}

TEST_F(DoctorConsentsTest, Pages) {
  for (int i = 0; i < 5; ++i) Grant("alice", kPatientA, "Org1MSP/drwho", 3600 + i);
  for (int i = 0; i < 2; ++i) Grant("bob", kPatientB, "Org1MSP/drwho", 3600 + i);
  std::set<std::string> ids;
  std::string bookmark;
  int pages = 0;
  do {
    json page = Ok("doctor2", "ListConsentsForDoctor", {{"pageSize", 2}, {"bookmark", bookmark}});
    for (const auto& c : page["items"]) ids.insert(c["consentId"]);
    bookmark = page["bookmark"];
    ++pages;
  } while (!bookmark.empty() && pages < 10);
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_EQ(pages, 4);
}

}  // namespace
}  // namespace medledger::contract::testing
