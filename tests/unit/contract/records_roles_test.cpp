// Every function x every kind of caller, each cell on a fresh ledger: who is allowed (200) and who is
// refused (403). The set-up gives each doctor a different relationship to report r1 of alice's record.
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

// Callers: admin; doctor = the author of r1; doctor2 = has alice's consent; doctor3 = has a break-glass
// grant on r1; other_doctor = no relation; alice = r1's patient; bob = another patient; carol = a patient
// login linked to no record; auditor.
const std::vector<std::string> kCallers = {"admin", "doctor", "doctor2", "doctor3", "other_doctor",
                                           "alice", "bob",    "carol",   "auditor"};

struct Row {
  const char* function;
  json arg;
  std::vector<int> expected;  // one status per kCallers entry
};

class RoleMatrix : public Harness {
 public:
  RoleMatrix() {
    RegisterPatients();
    CreateReport("doctor", "r1", kPatientA);
    consent_id = Grant("alice", kPatientA, "Org1MSP/drwho", 3600)["consentId"];
    Ok("doctor3", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});
  }
  std::string consent_id;
};

TEST(RoleMatrixTest, EveryFunctionForEveryCaller) {
  const std::string consent_id = RoleMatrix().consent_id;  // tx IDs are deterministic per fresh harness
  const json amend = {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}};
  const json grant = {{"patientRef", kPatientA},
                      {"doctor", "Org1MSP/drstrange"},
                      {"purpose", "treatment"},
                      {"expiresAt", "2026-06-02T00:00:00Z"}};
  const std::vector<Row> rows = {
      //                                                     adm  dr   dr2  dr3  oth  ali  bob  car  aud
      {"RegisterPatient", {{"patientRef", std::string(64, '7')}}, {200, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GetPatient", {{"patientRef", kPatientA}}, {200, 200, 200, 200, 200, 200, 403, 403, 403}},
      {"CreateReport",
       {{"reportId", "r9"}, {"patientRef", kPatientA}, {"cid", kCid1}, {"contentHash", kHash1}},
       {403, 200, 200, 200, 200, 403, 403, 403, 403}},
      {"AmendReport", amend, {403, 200, 403, 403, 403, 403, 403, 403, 403}},
      {"GetReport", {{"reportId", "r1"}}, {403, 200, 200, 200, 403, 200, 403, 403, 200}},
      {"GetReportHistory", {{"reportId", "r1"}}, {403, 200, 200, 200, 403, 200, 403, 403, 200}},
      {"ListReportsByPatient", {{"patientRef", kPatientA}}, {403, 200, 200, 200, 200, 200, 403, 403, 200}},
      {"GrantAccess", grant, {403, 403, 403, 403, 403, 200, 403, 403, 403}},
      {"RevokeAccess",
       {{"patientRef", kPatientA}, {"consentId", consent_id}},
       {403, 403, 403, 403, 403, 200, 403, 403, 403}},
      {"ListConsents", {{"patientRef", kPatientA}}, {200, 403, 403, 403, 403, 200, 403, 403, 403}},
      {"EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}}, {403, 200, 200, 200, 200, 403, 403, 403, 403}},
      {"RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}}, {403, 200, 200, 200, 403, 200, 403, 403, 403}},
      {"ListAccessEvents", {{"patientRef", kPatientA}}, {403, 403, 403, 403, 403, 200, 403, 403, 200}},
      {"RecordLookup",
       {{"kind", "lookup"}, {"patientRefs", {kPatientA}}},
       {200, 200, 200, 200, 200, 403, 403, 403, 403}},
      {"EraseReport",
       {{"reportId", "r1"}, {"reasonCode", "patient_request"}},
       {200, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"ListErasures", json::object(), {200, 403, 403, 403, 403, 403, 403, 403, 200}},
  };
  int cells = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.expected.size(), kCallers.size()) << row.function;
    for (size_t i = 0; i < kCallers.size(); ++i) {
      RoleMatrix m;
      ASSERT_EQ(m.consent_id, consent_id);
      Response r = m.Call(kCallers[i], row.function, row.arg);
      EXPECT_EQ(r.status, row.expected[i]) << row.function << " as " << kCallers[i] << ": " << r.message;
      if (r.status != 200) {
        EXPECT_EQ(Harness::Code(r), "permission_denied");
        // Authorization comes before any write: a refused call did not even buffer one.
        EXPECT_TRUE(m.stub_.pending_writes().empty()) << row.function << " as " << kCallers[i];
      }
      ++cells;
    }
  }
  EXPECT_EQ(cells, 16 * 9);
}

// Doctors without consent list only what they wrote; with consent, everything.
TEST(RoleMatrixTest, ListingContentsDependOnTheRelationship) {
  RoleMatrix m;
  m.CreateReport("doctor2", "r2", kPatientA);
  auto count = [&](const std::string& user) {
    return m.Ok(user, "ListReportsByPatient", {{"patientRef", kPatientA}})["items"].size();
  };
  EXPECT_EQ(count("doctor"), 1u);   // wrote r1
  EXPECT_EQ(count("doctor2"), 2u);  // consent
  EXPECT_EQ(count("doctor3"), 0u);  // an emergency grant covers one report, not the listing
  EXPECT_EQ(count("other_doctor"), 0u);
  EXPECT_EQ(count("alice"), 2u);
  EXPECT_EQ(count("auditor"), 2u);
}

}  // namespace
}  // namespace medledger::contract::testing
