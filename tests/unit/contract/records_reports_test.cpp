#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

using namespace std::string_literals;

std::string HeadKey(const std::string& id) {
  return "\0report\0"s + id + "\0"s;
}
std::string VersionKey(const std::string& id, int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08d", v);
  return "\0reportver\0"s + id + "\0"s + buf + "\0"s;
}

TEST_F(RecordsTest, CreateReportWritesRecordIndexEventAndChaincodeEvent) {
  RegisterPatients();
  stub_.ResetCounters();
  json r = CreateReport("doctor", "r1", kPatientA);
  EXPECT_EQ(r["reportId"], "r1");
  EXPECT_EQ(r["patientRef"], kPatientA);
  EXPECT_EQ(r["cid"], kCid1);
  EXPECT_EQ(r["contentHash"], kHash1);
  EXPECT_EQ(r["author"], "Org1MSP/drhouse");
  EXPECT_EQ(r["version"], 1);
  EXPECT_EQ(r["txId"], last_tx_);
  EXPECT_EQ(r["createdTxId"], last_tx_);
  EXPECT_EQ(r["createdAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(r["metadata"]["title"], "Chest X-ray");
  EXPECT_EQ(r["metadata"]["size"], 1234);
  EXPECT_FALSE(r.contains("previousVersion"));

  // The hot path: three point reads (the doctor's user record for the two-person rule, patient, report ID)
  // and five writes, no range scans.
  EXPECT_EQ(stub_.reads(), 3u);
  EXPECT_EQ(stub_.range_queries(), 0u);
  const auto& writes = stub_.last_committed_writes();
  EXPECT_EQ(writes.size(), 5u);
  EXPECT_EQ(*writes.at(HeadKey("r1")), r.dump());
  EXPECT_EQ(*writes.at(VersionKey("r1", 1)), r.dump());
  EXPECT_EQ(*writes.at("\0patientreport\0"s + kPatientA + "\0r1\0"s), "r1");

  ASSERT_TRUE(stub_.event().has_value());
  EXPECT_EQ(stub_.event()->first, "ReportCreated");
  json ev = json::parse(stub_.event()->second);
  EXPECT_EQ(ev["reportId"], "r1");
  EXPECT_EQ(ev["cid"], kCid1);
  EXPECT_EQ(ev["txId"], last_tx_);
}

TEST_F(RecordsTest, CreateReportRules) {
  RegisterPatients();
  for (const char* user : {"admin", "alice", "auditor"}) {
    Response r = Call(user, "CreateReport", CreateArgs("r1", kPatientA));
    EXPECT_EQ(r.status, 403) << user;
  }
  Response missing = Call("doctor", "CreateReport", CreateArgs("r1", std::string(64, '0')));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Code(missing), "patient_not_found");
  CreateReport("doctor", "r1", kPatientA);
  Response dup = Call("doctor2", "CreateReport", CreateArgs("r1", kPatientB));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Code(dup), "report_exists");
  // The first record is untouched by the failed attempt.
  EXPECT_EQ(json::parse(stub_.state().at(HeadKey("r1")))["patientRef"], kPatientA);

  json with_version = CreateArgs("r2", kPatientA);
  with_version["version"] = 1;
  EXPECT_EQ(Call("doctor", "CreateReport", with_version).status, 200);
  with_version["reportId"] = "r3";
  with_version["version"] = 2;
  EXPECT_EQ(Call("doctor", "CreateReport", with_version).status, 400);
}

TEST_F(RecordsTest, CreateReportValidation) {
  RegisterPatients();
  auto status = [&](json arg) {
    Response r = Call("doctor", "CreateReport", arg);
    return std::to_string(r.status) + " " + Code(r);
  };
  json base = CreateArgs("r1", kPatientA);
  auto with = [&](const char* field, json value) {
    json a = base;
    a[field] = std::move(value);
    return a;
  };
  auto without = [&](const char* field) {
    json a = base;
    a.erase(field);
    return a;
  };
  EXPECT_EQ(status(with("reportId", "has space")), "400 invalid_field");
  EXPECT_EQ(status(with("reportId", std::string(129, 'r'))), "400 field_too_long");
  EXPECT_EQ(status(with("reportId", 17)), "400 invalid_field");
  EXPECT_EQ(status(without("reportId")), "400 missing_field");
  EXPECT_EQ(status(with("cid", "not-a-cid")), "400 invalid_field");
  EXPECT_EQ(status(with("contentHash", std::string(64, 'G'))), "400 invalid_field");
  EXPECT_EQ(status(without("contentHash")), "400 missing_field");
  EXPECT_EQ(status(with("metadata", "title")), "400 invalid_field");
  EXPECT_EQ(status(with("metadata", {{"nested", {{"a", 1}}}})), "400 invalid_field");
  EXPECT_EQ(status(with("author", "Org1MSP/someoneelse")), "400 unknown_field");
  EXPECT_EQ(status(with("patientRef", nullptr)), "400 missing_field");
  EXPECT_EQ(status(without("metadata")), "200 ");
  EXPECT_EQ(json::parse(stub_.state().at(HeadKey("r1")))["metadata"], json::object());
}

TEST_F(RecordsTest, AmendChainKeepsEveryVersion) {
  RegisterPatients();
  json v1 = CreateReport("doctor", "r1", kPatientA);
  const std::string v1_text = stub_.state().at(VersionKey("r1", 1));
  Advance(60);
  json amend = {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}};
  json v2 = Ok("doctor", "AmendReport", amend);
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["previousVersion"], 1);
  EXPECT_EQ(v2["previousTxId"], v1["txId"]);
  EXPECT_EQ(v2["cid"], kCid2);
  EXPECT_FALSE(v2.contains("reason"));
  EXPECT_EQ(v2["createdAt"], v1["createdAt"]);
  EXPECT_EQ(v2["updatedAt"], "2026-06-01T08:01:00.000Z");
  EXPECT_EQ(v2["metadata"], v1["metadata"]);  // carried over when not given
  EXPECT_EQ(stub_.event()->first, "ReportAmended");

  Advance(60);
  amend["metadata"] = {{"title", "Chest X-ray (corrected)"}};
  amend["version"] = 3;
  json v3 = Ok("doctor", "AmendReport", amend);
  EXPECT_EQ(v3["previousTxId"], v2["txId"]);
  EXPECT_EQ(v3["metadata"]["title"], "Chest X-ray (corrected)");

  // Version 1 is byte-for-byte what was first written; the head moved to version 3.
  EXPECT_EQ(stub_.state().at(VersionKey("r1", 1)), v1_text);
  EXPECT_EQ(json::parse(stub_.state().at(HeadKey("r1"))), v3);
  EXPECT_EQ(Ok("doctor", "GetReport", {{"reportId", "r1"}})["version"], 3);
  EXPECT_EQ(Ok("doctor", "GetReport", {{"reportId", "r1"}, {"version", 1}}), v1);
  EXPECT_EQ(Ok("doctor", "GetReport", {{"reportId", "r1"}, {"version", 2}}), v2);
  Response none = Call("doctor", "GetReport", json{{"reportId", "r1"}, {"version", 4}});
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(Code(none), "version_not_found");

  json history = Ok("doctor", "GetReportHistory", {{"reportId", "r1"}});
  ASSERT_EQ(history["versions"].size(), 3u);
  EXPECT_EQ(history["versions"][0], v1);
  EXPECT_EQ(history["versions"][2], v3);
  ASSERT_EQ(history["headHistory"].size(), 3u);
  EXPECT_EQ(history["headHistory"][0]["txId"], v1["txId"]);
  EXPECT_EQ(history["headHistory"][1]["timestamp"], "2026-06-01T08:01:00.000Z");
  EXPECT_EQ(history["headHistory"][2]["txId"], v3["txId"]);
}

TEST_F(RecordsTest, AmendRules) {
  RegisterPatients();
  CreateReport("doctor", "r1", kPatientA);
  json amend = {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}};
  for (const char* user : {"doctor2", "other_doctor", "admin", "alice", "auditor"}) {
    EXPECT_EQ(Call(user, "AmendReport", amend).status, 403) << user;
  }
  // Even a doctor with consent may not amend someone else's report.
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  EXPECT_EQ(Call("doctor2", "AmendReport", amend).status, 403);

  json stale = amend;
  stale["version"] = 3;
  Response conflict = Call("doctor", "AmendReport", stale);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Code(conflict), "version_conflict");
  json wrong_patient = amend;
  wrong_patient["patientRef"] = kPatientB;
  EXPECT_EQ(Code(Call("doctor", "AmendReport", wrong_patient)), "patient_mismatch");
  // The amendment's reason is free text: it belongs in the sealed version document, never on the ledger.
  json with_reason = amend;
  with_reason["reason"] = "typo in dosage";
  EXPECT_EQ(Code(Call("doctor", "AmendReport", with_reason)), "unknown_field");
  json unknown = amend;
  unknown["reportId"] = "nope";
  EXPECT_EQ(Call("doctor", "AmendReport", unknown).status, 404);
  EXPECT_EQ(Call("doctor", "AmendReport", amend).status, 200);
}

TEST_F(RecordsTest, GetReportAuthorization) {
  RegisterPatients();
  json r = CreateReport("doctor", "r1", kPatientA);
  json arg = {{"reportId", "r1"}};
  EXPECT_EQ(Ok("doctor", "GetReport", arg), r);   // author
  EXPECT_EQ(Ok("alice", "GetReport", arg), r);    // the patient
  EXPECT_EQ(Ok("auditor", "GetReport", arg), r);  // auditor (metadata only)
  EXPECT_EQ(Call("doctor2", "GetReport", arg).status, 403);
  EXPECT_EQ(Call("other_doctor", "GetReport", arg).status, 403);  // same CN, other MSP
  EXPECT_EQ(Call("bob", "GetReport", arg).status, 403);
  EXPECT_EQ(Call("carol", "GetReport", arg).status, 403);
  EXPECT_EQ(Call("admin", "GetReport", arg).status, 403);
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  EXPECT_EQ(Ok("doctor2", "GetReport", arg), r);
  EXPECT_EQ(Call("doctor2", "GetReportHistory", arg).status, 200);
  EXPECT_EQ(Call("doctor3", "GetReportHistory", arg).status, 403);
  EXPECT_EQ(Call("admin", "GetReportHistory", arg).status, 403);
  EXPECT_EQ(Call("bob", "GetReportHistory", arg).status, 403);
  EXPECT_EQ(Call("doctor", "GetReport", json{{"reportId", "r2"}}).status, 404);
  EXPECT_EQ(Call("doctor", "GetReportHistory", json{{"reportId", "r2"}}).status, 404);
}

TEST_F(RecordsTest, ListReportsByPatientPaginatesAndAuthorizes) {
  RegisterPatients();
  for (int i = 0; i < 7; ++i) CreateReport(i % 2 ? "doctor2" : "doctor", Numbered("r", i), kPatientA);
  CreateReport("doctor", "other", kPatientB);

  // The patient pages through all seven reports, three at a time.
  std::vector<std::string> seen;
  std::string bookmark;
  int pages = 0;
  do {
    json page =
        Ok("alice", "ListReportsByPatient", {{"patientRef", kPatientA}, {"pageSize", 3}, {"bookmark", bookmark}});
    for (const auto& item : page["items"]) seen.push_back(item["reportId"]);
    bookmark = page["bookmark"];
    ++pages;
  } while (!bookmark.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}));

  EXPECT_EQ(Ok("auditor", "ListReportsByPatient", {{"patientRef", kPatientA}})["items"].size(), 7u);
  // Without consent a doctor sees only what they wrote.
  json own = Ok("doctor", "ListReportsByPatient", {{"patientRef", kPatientA}});
  EXPECT_EQ(own["items"].size(), 4u);
  for (const auto& item : own["items"]) EXPECT_EQ(item["author"], "Org1MSP/drhouse");
  EXPECT_EQ(Ok("doctor3", "ListReportsByPatient", {{"patientRef", kPatientA}})["items"].size(), 0u);
  Grant("alice", kPatientA, "Org1MSP/drstrange", 3600);
  EXPECT_EQ(Ok("doctor3", "ListReportsByPatient", {{"patientRef", kPatientA}})["items"].size(), 7u);

  EXPECT_EQ(Call("bob", "ListReportsByPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("admin", "ListReportsByPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("auditor", "ListReportsByPatient", json{{"patientRef", std::string(64, '0')}}).status, 404);
  EXPECT_EQ(Code(Call("alice", "ListReportsByPatient", json{{"patientRef", kPatientA}, {"pageSize", 0}})),
            "out_of_range");
  EXPECT_EQ(Code(Call("alice", "ListReportsByPatient", json{{"patientRef", kPatientA}, {"pageSize", 101}})),
            "out_of_range");
  EXPECT_EQ(Code(Call("alice", "ListReportsByPatient", json{{"patientRef", kPatientA}, {"bookmark", "zz"}})),
            "invalid_bookmark");
  // A bookmark from bob's listing cannot be replayed against alice's.
  EXPECT_EQ(Ok("bob", "ListReportsByPatient", {{"patientRef", kPatientB}, {"pageSize", 1}})["items"].size(), 1u);
  std::string foreign = HexEncode("\0patientreport\0"s + kPatientB + "\0other\0"s);
  EXPECT_EQ(Code(Call("alice", "ListReportsByPatient", json{{"patientRef", kPatientA}, {"bookmark", foreign}})),
            "invalid_bookmark");
}

// Issue 15 item 5, the attack: a doctor without consent pages through another doctor's reports of a patient.
// Before, every page was empty but its bookmark was the raw next key, naming the next report; now paging runs
// over the reports the doctor may see, so the pages and bookmarks name only the doctor's own report.
TEST_F(RecordsTest, BookmarksDoNotLeakReportsTheCallerMayNotSee) {
  RegisterPatients();
  for (int i = 0; i < 12; ++i) CreateReport("doctor", Numbered("secret", 10 + i), kPatientA);
  CreateReport("doctor2", "secret15x", kPatientA);  // sorts among the others
  std::vector<std::string> seen;
  std::string bookmark;
  int pages = 0;
  do {
    json page =
        Ok("doctor2", "ListReportsByPatient", {{"patientRef", kPatientA}, {"pageSize", 1}, {"bookmark", bookmark}});
    for (const auto& item : page["items"]) seen.push_back(item["reportId"]);
    bookmark = page["bookmark"];
    std::string raw = HexDecode(bookmark).value();
    for (int i = 0; i < 12; ++i) {
      EXPECT_EQ(raw.find(Numbered("secret", 10 + i) + '\0'), std::string::npos) << raw;
    }
    ++pages;
  } while (!bookmark.empty() && pages < 20);
  EXPECT_EQ(seen, std::vector<std::string>{"secret15x"});
  EXPECT_LE(pages, 2);
  // Without any report of their own the doctor gets one empty, final page.
  json none = Ok("doctor3", "ListReportsByPatient", {{"patientRef", kPatientA}, {"pageSize", 1}});
  EXPECT_TRUE(none["items"].empty());
  EXPECT_EQ(none["bookmark"], "");
}

// A listing that may see few of many keys stops after kMaxScannedKeys per call and resumes where it stopped.
TEST_F(RecordsTest, FilteredListingBoundsTheKeysScannedPerCall) {
  RegisterPatients();
  for (int i = 0; i < 1100; ++i) CreateReport("doctor", Numbered("a", 10000 + i), kPatientA);
  CreateReport("doctor2", "zz-own", kPatientA);  // after all of them in key order
  stub_.ResetCounters();
  json first = Ok("doctor2", "ListReportsByPatient", {{"patientRef", kPatientA}, {"pageSize", 5}});
  EXPECT_TRUE(first["items"].empty());
  EXPECT_FALSE(first["bookmark"].get<std::string>().empty());
  EXPECT_LE(stub_.reads(), 1000u + 10u);  // the scan bound, plus the patient and consent checks
  json second = Ok("doctor2", "ListReportsByPatient",
                   {{"patientRef", kPatientA}, {"pageSize", 5}, {"bookmark", first["bookmark"]}});
  ASSERT_EQ(second["items"].size(), 1u);
  EXPECT_EQ(second["items"][0]["reportId"], "zz-own");
  EXPECT_EQ(second["bookmark"], "");
}

}  // namespace
}  // namespace medledger::contract::testing
