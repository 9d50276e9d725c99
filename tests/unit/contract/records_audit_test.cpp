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

TEST_F(AuditTest, AuditorSeesTheWholeTrailNewestFirst) {
  json all = Ok("auditor", "ListAccessEvents", {{"pageSize", 100}});
  EXPECT_EQ(Kinds(all), (std::vector<std::string>{"report_amended", "read", "emergency", "read", "consent_granted",
                                                  "report_created", "report_created", "patient_registered",
                                                  "patient_registered", "patient_registered"}));
  EXPECT_EQ(all["bookmark"], "");
  for (const auto& e : all["items"]) {
    EXPECT_TRUE(e.contains("eventId") && e.contains("actor") && e.contains("actorRole") && e.contains("timestamp"));
    EXPECT_EQ(e["eventId"], e["txId"]);
  }
}

TEST_F(AuditTest, Filters) {
  json emergency = Ok("auditor", "ListAccessEvents", {{"emergencyOnly", true}});
  ASSERT_EQ(emergency["items"].size(), 2u);
  EXPECT_EQ(emergency["items"][0]["kind"], "read");
  EXPECT_EQ(emergency["items"][0]["actor"], "Org1MSP/drstrange");
  EXPECT_EQ(emergency["items"][0]["purpose"], "emergency");
  EXPECT_EQ(emergency["items"][1]["kind"], "emergency");

  json by_actor = Ok("auditor", "ListAccessEvents", {{"actor", "Org1MSP/drwho"}});
  EXPECT_EQ(Kinds(by_actor), std::vector<std::string>{"read"});
  json by_report = Ok("auditor", "ListAccessEvents", {{"reportId", "r2"}});
  EXPECT_EQ(Kinds(by_report), std::vector<std::string>{"report_created"});
  json by_patient = Ok("auditor", "ListAccessEvents", {{"patientRef", kPatientB}});
  EXPECT_EQ(Kinds(by_patient), (std::vector<std::string>{"report_created", "patient_registered"}));
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

// Issue 15 item 3: the patient's log is newest first and pages reach every event, however many there are.
TEST_F(AuditTest, PatientPagesThroughEveryAccessNewestFirst) {
  for (int i = 0; i < 45; ++i) {
    Advance(1);
    EXPECT_EQ(Call("doctor2", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "treatment"}}).status, 200);
  }
  Advance(1);
  Ok("doctor3", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});
  Advance(1);
  EXPECT_EQ(Call("doctor3", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "emergency"}}).status, 200);
  const std::string late_read = last_tx_;

  std::vector<std::string> ids, times;
  std::string bookmark;
  int pages = 0;
  do {
    json page = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}, {"pageSize", 20}, {"bookmark", bookmark}});
    if (pages == 0) {
      ASSERT_FALSE(page["items"].empty());
      EXPECT_EQ(page["items"][0]["eventId"], late_read);  // the late break-glass read is the first thing she sees
      EXPECT_TRUE(page["items"][0]["emergency"].get<bool>());
    }
    for (const auto& e : page["items"]) {
      ids.push_back(e["eventId"]);
      times.push_back(e["timestamp"]);
    }
    bookmark = page["bookmark"];
    ++pages;
  } while (!bookmark.empty() && pages < 10);
  // 7 from SetUp (1 registration, 1 creation, consent, read, emergency, read, amendment) + 45 + 2.
  EXPECT_EQ(ids.size(), 54u);
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(std::is_sorted(times.rbegin(), times.rend()));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
}

// Issue 15 item 5: filters page over the filtered set; a page is full or the last one, and a bookmark names
// only a key the caller was shown.
TEST_F(AuditTest, FilteredPagesAreFullAndBookmarksNameOnlyReturnedEvents) {
  for (int i = 0; i < 30; ++i) {
    Advance(1);
    Call("doctor2", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "treatment"}});
  }
  std::vector<std::string> kinds;
  std::string bookmark;
  int pages = 0;
  do {
    json page = Ok("auditor", "ListAccessEvents", {{"emergencyOnly", true}, {"pageSize", 1}, {"bookmark", bookmark}});
    bookmark = page["bookmark"];
    ++pages;
    if (!bookmark.empty()) {
      ASSERT_EQ(page["items"].size(), 1u);
      // The resume point is just after the event returned: it holds that event's ID and no other.
      std::string raw = HexDecode(bookmark).value();
      EXPECT_NE(raw.find(page["items"][0]["eventId"].get<std::string>()), std::string::npos);
    }
    for (const auto& e : page["items"]) kinds.push_back(e["kind"]);
  } while (!bookmark.empty() && pages < 10);
  EXPECT_EQ(kinds, (std::vector<std::string>{"read", "emergency"}));
  EXPECT_LE(pages, 3);
}

// Issue 15 item 9: lookups and searches by doctors and administrators are on the trail; the patient sees them in
// their own log, without learning who else a search returned; no query text is accepted.
TEST_F(AuditTest, LookupsAndSearchesAreRecordedPerPatient) {
  Advance(1);
  Ok("doctor2", "RecordLookup", {{"kind", "lookup"}, {"patientRefs", {kPatientA}}});
  Advance(1);
  Ok("doctor3", "RecordLookup", {{"kind", "search"}, {"patientRefs", {kPatientB, kPatientA}}, {"resultCount", 7}});
  Advance(1);
  Ok("admin", "RecordLookup", {{"kind", "search"}, {"patientRefs", json::array()}, {"resultCount", 0}});

  json mine = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}, {"pageSize", 2}});
  ASSERT_EQ(Kinds(mine), (std::vector<std::string>{"search", "lookup"}));
  EXPECT_EQ(mine["items"][0]["actor"], "Org1MSP/drstrange");
  EXPECT_EQ(mine["items"][0]["patientRef"], kPatientA);
  EXPECT_FALSE(mine["items"][0].contains("patientRefs"));
  EXPECT_EQ(mine["items"][1]["actor"], "Org1MSP/drwho");
  json bobs = Ok("bob", "ListAccessEvents", {{"patientRef", kPatientB}, {"pageSize", 1}});
  ASSERT_EQ(Kinds(bobs), std::vector<std::string>{"search"});
  EXPECT_EQ(bobs["items"][0]["patientRef"], kPatientB);
  EXPECT_EQ(bobs["items"][0]["eventId"], mine["items"][0]["eventId"]);  // one transaction for the whole search

  json searches = Ok("auditor", "ListAccessEvents", {{"kind", "search"}});
  ASSERT_EQ(searches["items"].size(), 2u);
  EXPECT_EQ(searches["items"][0]["actor"], "Org1MSP/admin1");
  EXPECT_EQ(searches["items"][0]["resultCount"], 0);
  std::vector<std::string> both = {kPatientA, kPatientB};
  std::sort(both.begin(), both.end());  // the contract stores them in order, whatever order the caller used
  EXPECT_EQ(searches["items"][1]["patientRefs"], json(both));
  EXPECT_EQ(searches["items"][1]["resultCount"], 7);

  EXPECT_EQ(Code(Call("doctor", "RecordLookup", json{{"kind", "search"}, {"query", "Smith"}})), "unknown_field");
  EXPECT_EQ(Call("doctor", "RecordLookup", json{{"kind", "lookup"}, {"patientRefs", {kPatientA, kPatientB}}}).status,
            400);
  EXPECT_EQ(Call("doctor", "RecordLookup", json{{"kind", "search"}, {"patientRefs", {kPatientA, kPatientA}}}).status,
            400);
  EXPECT_EQ(
      Call("doctor", "RecordLookup", json{{"kind", "search"}, {"patientRefs", {kPatientA}}, {"resultCount", 0}}).status,
      400);
  EXPECT_EQ(Call("doctor", "RecordLookup", json{{"kind", "lookup"}, {"patientRefs", {std::string(64, '0')}}}).status,
            404);
  EXPECT_EQ(Call("doctor", "RecordLookup", json{{"kind", "peek"}, {"patientRefs", {kPatientA}}}).status, 400);
  EXPECT_EQ(Call("doctor", "RecordLookup",
                 json{{"kind", "search"}, {"patientRefs", std::vector<std::string>(101, kPatientA)}})
                .status,
            400);
  for (const char* user : {"alice", "auditor"}) {
    EXPECT_EQ(Call(user, "RecordLookup", json{{"kind", "lookup"}, {"patientRefs", {kPatientA}}}).status, 403) << user;
  }
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
