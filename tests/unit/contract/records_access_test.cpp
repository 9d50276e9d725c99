#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

class AccessTest : public RecordsTest {
 protected:
  void SetUp() override {
    RegisterPatients();
    report_ = CreateReport("doctor", "r1", kPatientA);
  }
  Response Read(const std::string& user) {
    return Call(user, "RecordAccess", json{{"reportId", "r1"}, {"purpose", "treatment"}});
  }
  json report_;
};

TEST_F(AccessTest, GrantAccessRecordsConsent) {
  json c = Grant("alice", kPatientA, "Org1MSP/drwho", 7 * 24 * 3600);
  EXPECT_EQ(c["consentId"], last_tx_);
  EXPECT_EQ(c["doctor"], "Org1MSP/drwho");
  EXPECT_EQ(c["purpose"], "treatment");
  EXPECT_EQ(c["expiresAt"], "2026-06-08T08:00:00.000Z");
  EXPECT_EQ(c["revoked"], false);
  // A bare user name means a doctor of the patient's own organisation.
  json bare = Ok("alice", "GrantAccess",
                 {{"patientRef", kPatientA},
                  {"doctor", "drstrange"},
                  {"purpose", "second_opinion"},
                  {"expiresAt", Rfc3339(In(3600))}});
  EXPECT_EQ(bare["doctor"], "Org1MSP/drstrange");
  json list = Ok("alice", "ListConsents", {{"patientRef", kPatientA}});
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["active"], true);
  EXPECT_EQ(Ok("admin", "ListConsents", {{"patientRef", kPatientA}})["items"].size(), 2u);
  for (const char* user : {"bob", "carol", "doctor", "doctor2", "auditor"}) {
    EXPECT_EQ(Call(user, "ListConsents", json{{"patientRef", kPatientA}}).status, 403) << user;
  }
}

TEST_F(AccessTest, GrantAccessRules) {
  auto grant = [&](const std::string& user, json overrides) {
    json a = {{"patientRef", kPatientA},
              {"doctor", "Org1MSP/drwho"},
              {"purpose", "treatment"},
              {"expiresAt", Rfc3339(In(3600))}};
    if (overrides.is_object()) a.update(overrides);
    Response r = Call(user, "GrantAccess", a);
    return std::to_string(r.status) + " " + Code(r);
  };
  EXPECT_EQ(grant("bob", {}), "403 permission_denied");
  EXPECT_EQ(grant("carol", {}), "403 permission_denied");
  EXPECT_EQ(grant("admin", {}), "403 permission_denied");
  EXPECT_EQ(grant("doctor", {}), "403 permission_denied");
  EXPECT_EQ(grant("auditor", {}), "403 permission_denied");
  EXPECT_EQ(grant("alice", {{"expiresAt", Rfc3339(now_)}}), "400 expiry_not_in_future");
  EXPECT_EQ(grant("alice", {{"expiresAt", Rfc3339(In(-60))}}), "400 expiry_not_in_future");
  EXPECT_EQ(grant("alice", {{"expiresAt", Rfc3339(In(367LL * 24 * 3600))}}), "400 expiry_too_far");
  EXPECT_EQ(grant("alice", {{"expiresAt", "next tuesday"}}), "400 invalid_field");
  EXPECT_EQ(grant("alice", {{"expiresAt", 1780000000}}), "400 invalid_field");
  EXPECT_EQ(grant("alice", {{"doctor", "Org1MSP/dr who"}}), "400 invalid_field");
  EXPECT_EQ(grant("alice", {{"doctor", "a/b/c"}}), "400 invalid_field");
  EXPECT_EQ(grant("alice", {{"purpose", std::string(201, 'p')}}), "400 field_too_long");
  EXPECT_EQ(grant("alice", {{"purpose", "bell\a"}}), "400 invalid_field");
  // Purposes are codes from a closed list; the patient's own words are a sealed note named by CID.
  EXPECT_EQ(grant("alice", {{"purpose", "knee_surgery"}}), "400 invalid_code");
  EXPECT_EQ(grant("alice", {{"purpose", "Treatment"}}), "400 invalid_code");
  EXPECT_EQ(grant("alice", {{"purposeNote", "my knee surgery"}}), "400 invalid_field");
  EXPECT_EQ(grant("alice", {{"purpose", "other"}, {"purposeNote", kCid2}}), "200 ");
  EXPECT_EQ(grant("alice", {{"scope", "all"}}), "400 unknown_field");
  EXPECT_EQ(grant("alice", {{"expiresAt", Rfc3339(In(365LL * 24 * 3600))}}), "200 ");
}

TEST_F(AccessTest, ConsentExpiresWithTransactionTime) {
  EXPECT_EQ(Code(Read("doctor2")), "permission_denied");  // never consented
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  EXPECT_EQ(Read("doctor2").status, 200);
  EXPECT_EQ(Call("doctor2", "GetReport", json{{"reportId", "r1"}}).status, 200);
  Advance(3599);
  EXPECT_EQ(Read("doctor2").status, 200);
  Advance(1);
  EXPECT_EQ(Read("doctor2").status, 403);
  EXPECT_EQ(Code(Read("doctor2")), "consent_expired");
  EXPECT_EQ(Call("doctor2", "GetReport", json{{"reportId", "r1"}}).status, 403);
  json list = Ok("alice", "ListConsents", {{"patientRef", kPatientA}});
  EXPECT_EQ(list["items"][0]["active"], false);
  // Consent is per patient and per doctor.
  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  EXPECT_EQ(Read("other_doctor").status, 200);
  EXPECT_EQ(Read("doctor3").status, 403);
}

TEST_F(AccessTest, RevocationEndsAccess) {
  json c = Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  const std::string id = c["consentId"];
  EXPECT_EQ(Read("doctor2").status, 200);
  json revoke = {{"patientRef", kPatientA}, {"consentId", id}};
  EXPECT_EQ(Call("bob", "RevokeAccess", revoke).status, 403);
  EXPECT_EQ(Call("doctor2", "RevokeAccess", revoke).status, 403);
  EXPECT_EQ(Call("admin", "RevokeAccess", revoke).status, 403);
  json revoked = Ok("alice", "RevokeAccess", revoke);
  EXPECT_EQ(revoked["revoked"], true);
  EXPECT_EQ(revoked["revokedTxId"], last_tx_);
  EXPECT_EQ(Read("doctor2").status, 403);
  EXPECT_EQ(Code(Read("doctor2")), "consent_revoked");
  Response again = Call("alice", "RevokeAccess", revoke);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Code(again), "consent_already_revoked");
  Response unknown = Call("alice", "RevokeAccess", json{{"patientRef", kPatientA}, {"consentId", "nope"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "consent_not_found");
  // Bob cannot revoke alice's consent by naming his own record.
  EXPECT_EQ(Call("bob", "RevokeAccess", json{{"patientRef", kPatientB}, {"consentId", id}}).status, 404);
  // Revoking one of two consents leaves the other in force.
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  EXPECT_EQ(Read("doctor2").status, 200);
}

TEST_F(AccessTest, EmergencyAccessIsTimeLimitedAndFlagged) {
  EXPECT_EQ(Read("doctor3").status, 403);
  json grant = Ok("doctor3", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});
  EXPECT_EQ(grant["doctor"], "Org1MSP/drstrange");
  EXPECT_EQ(grant["emergency"], true);
  EXPECT_EQ(grant["expiresAt"], "2026-06-01T12:00:00.000Z");
  EXPECT_EQ(stub_.event()->first, "EmergencyAccess");
  EXPECT_EQ(json::parse(stub_.event()->second)["reportId"], "r1");

  Response read = Read("doctor3");
  ASSERT_EQ(read.status, 200);
  json body = json::parse(read.payload);
  EXPECT_EQ(body["emergency"], true);
  EXPECT_EQ(body["basis"], "emergency");
  EXPECT_EQ(body["report"], report_);
  // The grant covers that report only, for that doctor only.
  CreateReport("doctor", "r2", kPatientA);
  EXPECT_EQ(Call("doctor3", "RecordAccess", json{{"reportId", "r2"}, {"purpose", "treatment"}}).status, 403);
  EXPECT_EQ(Read("doctor2").status, 403);
  Advance(4 * 3600 - 1);
  EXPECT_EQ(Read("doctor3").status, 200);
  Advance(1);
  EXPECT_EQ(Read("doctor3").status, 403);
  EXPECT_EQ(Call("doctor3", "GetReport", json{{"reportId", "r1"}}).status, 403);
}

TEST_F(AccessTest, EmergencyAccessRules) {
  auto emergency = [&](const std::string& user, json arg) {
    Response r = Call(user, "EmergencyAccess", arg);
    return std::to_string(r.status) + " " + Code(r);
  };
  json ok = {{"reportId", "r1"}, {"reasonNote", kCid2}};
  for (const char* user : {"admin", "alice", "auditor"}) EXPECT_EQ(emergency(user, ok), "403 permission_denied");
  // The stated reason is sealed content named by CID: the contract refuses free text, so not even a modified
  // server can put a reason on the ledger in clear.
  EXPECT_EQ(emergency("doctor3", {{"reportId", "r1"}, {"reason", "cardiac arrest"}}), "400 unknown_field");
  EXPECT_EQ(emergency("doctor3", {{"reportId", "r1"}, {"reasonNote", "cardiac arrest"}}), "400 invalid_field");
  EXPECT_EQ(emergency("doctor3", {{"reportId", "r1"}}), "400 missing_field");
  EXPECT_EQ(emergency("doctor3", ok), "200 ");
  EXPECT_EQ(emergency("doctor3", {{"reportId", "zzz"}, {"reasonNote", kCid2}}), "404 report_not_found");
}

TEST_F(AccessTest, RecordAccessTakesOnlyAPurposeCode) {
  // Words are not even identifiers; identifiers outside the list are not codes.
  Response words = Call("doctor", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "follow-up of the knee"}});
  EXPECT_EQ(words.status, 400);
  EXPECT_EQ(Code(words), "invalid_field");
  for (const char* text : {"Treatment", "x", "second_opinion"}) {
    Response r = Call("doctor", "RecordAccess", json{{"reportId", "r1"}, {"purpose", text}});
    EXPECT_EQ(r.status, 400) << text;
    EXPECT_EQ(Code(r), "invalid_code") << text;
  }
  for (const char* code : {"treatment", "verification", "amendment", "emergency", "audit", "self"}) {
    EXPECT_EQ(Call("doctor", "RecordAccess", json{{"reportId", "r1"}, {"purpose", code}}).status, 200) << code;
  }
}

TEST_F(AccessTest, RecordAccessWritesReadEvents) {
  Response own = Read("doctor");
  ASSERT_EQ(own.status, 200);
  json body = json::parse(own.payload);
  EXPECT_EQ(body["basis"], "author");
  EXPECT_EQ(body["emergency"], false);
  EXPECT_EQ(body["eventId"], last_tx_);
  EXPECT_EQ(body["report"]["cid"], kCid1);
  EXPECT_EQ(body["report"]["contentHash"], kHash1);
  // The event carries who, what, why and when.
  json event;
  for (const auto& [k, v] : stub_.last_committed_writes()) {
    if (k.rfind(std::string("\0eventdesc\0", 11), 0) == 0) event = json::parse(*v);
  }
  EXPECT_EQ(event["kind"], "read");
  EXPECT_EQ(event["eventId"], last_tx_);
  EXPECT_EQ(event["txId"], last_tx_);
  EXPECT_EQ(event["reportId"], "r1");
  EXPECT_EQ(event["patientRef"], kPatientA);
  EXPECT_EQ(event["actor"], "Org1MSP/drhouse");
  EXPECT_EQ(event["actorRole"], "doctor");
  EXPECT_EQ(event["purpose"], "treatment");
  EXPECT_EQ(event["emergency"], false);
  EXPECT_EQ(event["timestamp"], "2026-06-01T08:00:00.000Z");

  EXPECT_EQ(json::parse(Read("alice").payload)["basis"], "self");
  for (const char* user : {"auditor", "admin", "bob", "carol", "doctor2", "no_role"}) {
    EXPECT_EQ(Read(user).status, 403) << user;
  }
  EXPECT_EQ(Code(Call("doctor", "RecordAccess", json{{"reportId", "r1"}})), "missing_field");
  EXPECT_EQ(Call("doctor", "RecordAccess", json{{"reportId", "r9"}, {"purpose", "treatment"}}).status, 404);
}

}  // namespace
}  // namespace medledger::contract::testing
