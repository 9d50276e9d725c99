// EraseReport and ListErasures: who may erase (an administrator of the author's organisation), which reasons
// (a closed list), once only, what the record holds (no free text), who may list, and that an erased report
// takes no new version and says so in its history.
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

using namespace std::string_literals;

json EraseArgs(const std::string& id, const std::string& reason = "patient_request") {
  return {{"reportId", id}, {"reasonCode", reason}};
}

class ErasureTest : public RecordsTest {
 protected:
  void SetUp() override {
    RegisterPatients();
    CreateReport("doctor", "r1", kPatientA);
  }
  std::string Status(const std::string& user, const json& arg) {
    Response r = Call(user, "EraseReport", arg);
    return std::to_string(r.status) + " " + (r.status == 200 ? "" : Code(r));
  }
};

TEST_F(ErasureTest, AnAdministratorOfTheAuthorsOrganisationRecordsTheErasureOnce) {
  json rec = Ok("admin", "EraseReport", EraseArgs("r1", "legal_order"));
  EXPECT_EQ(rec["reportId"], "r1");
  EXPECT_EQ(rec["reasonCode"], "legal_order");
  EXPECT_EQ(rec["erasedBy"], "Org1MSP/admin1");
  EXPECT_EQ(rec["erasedByMsp"], "Org1MSP");
  EXPECT_EQ(rec["erasedAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(rec["txId"], last_tx_);
  EXPECT_EQ(rec.size(), 6u) << "only these fields, no free text: " << rec.dump();
  // Stored under the composite key erasure~r1, with the same bytes the call returned.
  EXPECT_EQ(json::parse(stub_.state().at("\0erasure\0r1\0"s)), rec);

  // Once only, whoever asks again and with whatever reason.
  EXPECT_EQ(Status("admin", EraseArgs("r1")), "409 already_erased");
  EXPECT_EQ(Status("admin2", EraseArgs("r1", "entered_in_error")), "409 already_erased");
  // The first record is untouched.
  EXPECT_EQ(json::parse(stub_.state().at("\0erasure\0r1\0"s))["reasonCode"], "legal_order");
}

TEST_F(ErasureTest, EveryReasonOfTheClosedListIsAcceptedAndNothingElse) {
  int n = 0;
  for (const char* reason : {"patient_request", "legal_order", "retention_expired", "entered_in_error"}) {
    const std::string id = Numbered("rr", ++n);
    CreateReport("doctor", id, kPatientB);
    EXPECT_EQ(Status("admin", EraseArgs(id, reason)), "200 ") << reason;
  }
  CreateReport("doctor", "r2", kPatientA);
  for (const char* reason : {"other", "PATIENT_REQUEST", "patient request", "", "patient_request2"}) {
    const std::string s = Status("admin", EraseArgs("r2", reason));
    EXPECT_EQ(s.substr(0, 3), "400") << reason << ": " << s;
  }
  EXPECT_EQ(Status("admin", EraseArgs("r2", "other")), "400 invalid_reason");
  EXPECT_EQ(Status("admin", EraseArgs("r2", "patient_requests")), "400 invalid_reason");
  EXPECT_EQ(Status("admin", {{"reportId", "r2"}}), "400 missing_field");
  // A note or any other free-text field is refused: it could hold PHI and the ledger cannot forget it.
  json with_note = EraseArgs("r2");
  with_note["note"] = "the patient called on Monday";
  EXPECT_EQ(Status("admin", with_note).substr(0, 3), "400");
  EXPECT_EQ(stub_.state().count("\0erasure\0r2\0"s), 0u);
}

TEST_F(ErasureTest, OnlyAnAdministratorOfTheAuthorsOrganisationMayErase) {
  for (const char* user : {"doctor", "doctor2", "alice", "bob", "auditor", "service"}) {
    EXPECT_EQ(Status(user, EraseArgs("r1")), "403 permission_denied") << user;
  }
  // Another hospital's administrator on the same channel.
  EXPECT_EQ(Status("other_admin", EraseArgs("r1")), "403 permission_denied");
  EXPECT_EQ(stub_.state().count("\0erasure\0r1\0"s), 0u);
  EXPECT_EQ(Status("admin2", EraseArgs("r1")), "200 ");
}

TEST_F(ErasureTest, TheReportMustExist) {
  EXPECT_EQ(Status("admin", EraseArgs("nope")), "404 report_not_found");
  EXPECT_EQ(Status("admin", EraseArgs("bad id")), "400 invalid_field");
}

TEST_F(ErasureTest, ErasureIsOnThePatientsTrail) {
  Advance(60);  // the trail is newest first
  Ok("admin", "EraseReport", EraseArgs("r1", "retention_expired"));
  json events = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}});
  ASSERT_TRUE(events["items"].is_array());
  ASSERT_FALSE(events["items"].empty());
  json latest = events["items"][0];
  EXPECT_EQ(latest["kind"], "report_erased");
  EXPECT_EQ(latest["reportId"], "r1");
  EXPECT_EQ(latest["reasonCode"], "retention_expired");
  EXPECT_EQ(latest["actor"], "Org1MSP/admin1");
}

TEST_F(ErasureTest, AnErasedReportTakesNoNewVersionAndItsHistorySaysErased) {
  json before = Ok("doctor", "GetReportHistory", {{"reportId", "r1"}});
  EXPECT_TRUE(before["erasure"].is_null()) << before.dump();
  json rec = Ok("admin", "EraseReport", EraseArgs("r1"));
  json after = Ok("doctor", "GetReportHistory", {{"reportId", "r1"}});
  EXPECT_EQ(after["erasure"], rec);
  EXPECT_EQ(after["versions"].size(), 1u);

  json amend = {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}};
  Response r = Call("doctor", "AmendReport", amend);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Code(r), "report_erased");
}

TEST_F(ErasureTest, ListErasuresPagesForAdministratorsAndAuditorsOnly) {
  for (int i = 1; i <= 5; ++i) {
    const std::string id = Numbered("p", i);
    CreateReport("doctor", id, kPatientA);
    Ok("admin", "EraseReport", EraseArgs(id));
  }
  for (const char* user : {"doctor", "alice", "service"}) {
    EXPECT_EQ(Call(user, "ListErasures", json::object()).status, 403) << user;
  }
  std::vector<std::string> seen;
  std::string bookmark;
  int pages = 0;
  do {
    json page = Ok("auditor", "ListErasures", {{"pageSize", 2}, {"bookmark", bookmark}});
    for (const auto& e : page["items"]) seen.push_back(e["reportId"]);
    bookmark = page["bookmark"];
    ASSERT_LT(++pages, 10);
  } while (!bookmark.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"p1", "p2", "p3", "p4", "p5"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Ok("admin", "ListErasures", json::object())["items"].size(), 5u);
  // A bookmark of another listing is refused.
  json other = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}, {"pageSize", 1}});
  ASSERT_FALSE(other["bookmark"].get<std::string>().empty());
  Response r = Call("admin", "ListErasures", {{"bookmark", other["bookmark"]}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_bookmark");
}

}  // namespace
}  // namespace medledger::contract::testing
