#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

class AuditTest : public RecordsTest {
 protected:
  void SetUp() override {
    RegisterPatients();  // 3 events: patient_registered x3
    Advance(1);
    CreateReport("doctor", "r1", kPatientA);  // report_created
    Advance(1);
    CreateReport("doctor", "r2", kPatientB);  // report_created (bob)
    Advance(1);
    Grant("alice", kPatientA, "Org1MSP/drwho", 3600);  // consent_granted
    Advance(1);
    Call("doctor2", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "verification"}});  // read
    Advance(1);
    Ok("doctor3", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});  // emergency
    Advance(1);
    Call("doctor3", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "emergency"}});  // read, flagged
    Advance(1);
    Ok("doctor", "AmendReport", {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}});
  }
  std::vector<std::string> Kinds(const json& page) {
    std::vector<std::string> out;
    for (const auto& e : page["items"]) out.push_back(e["kind"]);
    return out;
  }
};

TEST_F(AuditTest, AuditorSeesTheWholeTrailInTimeOrder) {
  json all = Ok("auditor", "ListAccessEvents", {{"pageSize", 100}});
  EXPECT_EQ(Kinds(all), (std::vector<std::string>{"patient_registered", "patient_registered", "patient_registered",
                                                  "report_created", "report_created", "consent_granted", "read",
                                                  "emergency", "read", "report_amended"}));
  EXPECT_EQ(all["bookmark"], "");
  for (const auto& e : all["items"]) {
    EXPECT_TRUE(e.contains("eventId") && e.contains("actor") && e.contains("actorRole") && e.contains("timestamp"));
    EXPECT_EQ(e["eventId"], e["txId"]);
  }
}

TEST_F(AuditTest, Filters) {
  json emergency = Ok("auditor", "ListAccessEvents", {{"emergencyOnly", true}});
  ASSERT_EQ(emergency["items"].size(), 2u);
  EXPECT_EQ(emergency["items"][0]["kind"], "emergency");
  EXPECT_EQ(emergency["items"][1]["kind"], "read");
  EXPECT_EQ(emergency["items"][1]["actor"], "Org1MSP/drstrange");
  EXPECT_EQ(emergency["items"][1]["purpose"], "emergency");

  json by_actor = Ok("auditor", "ListAccessEvents", {{"actor", "Org1MSP/drwho"}});
  EXPECT_EQ(Kinds(by_actor), std::vector<std::string>{"read"});
  json by_report = Ok("auditor", "ListAccessEvents", {{"reportId", "r2"}});
  EXPECT_EQ(Kinds(by_report), std::vector<std::string>{"report_created"});
  json by_patient = Ok("auditor", "ListAccessEvents", {{"patientRef", kPatientB}});
  EXPECT_EQ(Kinds(by_patient), (std::vector<std::string>{"patient_registered", "report_created"}));
  json by_kind = Ok("auditor", "ListAccessEvents", {{"kind", "consent_granted"}});
  ASSERT_EQ(by_kind["items"].size(), 1u);
  EXPECT_EQ(by_kind["items"][0]["doctor"], "Org1MSP/drwho");
  EXPECT_EQ(Call("auditor", "ListAccessEvents", json{{"reportId", "nope"}}).status, 404);
}

TEST_F(AuditTest, PatientsSeeOnlyTheirOwnTrail) {
  json mine = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}});
  EXPECT_EQ(mine["items"].size(), 7u);
  for (const auto& e : mine["items"]) EXPECT_EQ(e["patientRef"], kPatientA);
  EXPECT_EQ(Call("alice", "ListAccessEvents", json{{"patientRef", kPatientB}}).status, 403);
  EXPECT_EQ(Call("alice", "ListAccessEvents", json::object()).status, 403);
  EXPECT_EQ(Call("carol", "ListAccessEvents", json{{"patientRef", kPatientC}}).status, 403);
  for (const char* user : {"admin", "doctor", "doctor2"}) {
    EXPECT_EQ(Call(user, "ListAccessEvents", json{{"patientRef", kPatientA}}).status, 403) << user;
    EXPECT_EQ(Call(user, "ListAccessEvents", json::object()).status, 403) << user;
  }
}

TEST_F(AuditTest, PagesCoverEverythingOnce) {
  std::vector<std::string> ids;
  std::string bookmark;
  for (int i = 0; i < 20; ++i) {
    json page = Ok("auditor", "ListAccessEvents", {{"pageSize", 3}, {"bookmark", bookmark}});
    EXPECT_LE(page["items"].size(), 3u);
    for (const auto& e : page["items"]) ids.push_back(e["eventId"]);
    bookmark = page["bookmark"];
    if (bookmark.empty()) break;
  }
  EXPECT_EQ(ids.size(), 10u);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  // A bookmark into the global trail does not open a patient's listing.
  json first = Ok("auditor", "ListAccessEvents", {{"pageSize", 1}});
  EXPECT_EQ(Code(Call("alice", "ListAccessEvents",
                      json{{"patientRef", kPatientA}, {"bookmark", first["bookmark"].get<std::string>()}})),
            "invalid_bookmark");
}

TEST_F(AuditTest, ConsentRevocationIsAudited) {
  json list = Ok("alice", "ListConsents", {{"patientRef", kPatientA}});
  Ok("alice", "RevokeAccess", {{"patientRef", kPatientA}, {"consentId", list["items"][0]["consentId"]}});
  json revoked = Ok("auditor", "ListAccessEvents", {{"kind", "consent_revoked"}});
  ASSERT_EQ(revoked["items"].size(), 1u);
  EXPECT_EQ(revoked["items"][0]["actor"], "Org1MSP/alice");
  EXPECT_EQ(revoked["items"][0]["doctor"], "Org1MSP/drwho");
}

}  // namespace
}  // namespace medledger::contract::testing
