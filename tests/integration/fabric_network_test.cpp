// End-to-end on a REAL Hyperledger Fabric 2.5 network (opt-in: FABRIC_BIN=/path/to/fabric/bin).
// tests/fabric/network.sh brings up one orderer (etcdraft, TLS) and one peer on 127.0.0.1 from the given
// binaries with medledger's own config templates, the organisation made by `medledger init`, and the records
// contract hosted by `medledger-chaincode` as a chaincode-as-a-service. This test then drives the records
// workflow through medledger's own C++ Gateway client (GatewayLedger), each call signed by the user's wallet
// identity. Without FABRIC_BIN it reports SKIPPED.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fabric_harness.h"
#include "identity/organization.h"
#include "ledger/fabric/fabric_config.h"
#include "ledger/fabric/gateway_ledger.h"
#include "server_harness.h"

namespace medledger {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ledger::Invocation;

using testing::EnvOr;

// The network is shared by the suite's tests in one process (ctest runs each test in its own, so each brings up
// its own network, ~15 s) and stopped in TearDownTestSuite.
class FabricNetworkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (EnvOr("FABRIC_BIN").empty()) return;
    network_ = std::make_unique<testing::ScriptedFabricNetwork>("network.sh", "", 180);
  }
  static void TearDownTestSuite() { network_.reset(); }

  void SetUp() override {
    if (EnvOr("FABRIC_BIN").empty()) GTEST_SKIP() << "set FABRIC_BIN to a directory with Fabric 2.5 binaries";
    ASSERT_TRUE(network_ && network_->up()) << (network_ ? network_->Describe() : "no network");
    net_ = network_->dir();
  }

  static inline std::unique_ptr<testing::ScriptedFabricNetwork> network_;
  fs::path net_;
};

std::string Arg(const json& j) {
  return j.dump();
}

TEST_F(FabricNetworkTest, RecordsWorkflowThroughCppGatewayClient) {
  // The peer reaches medledger-chaincode over mutual TLS (network.sh packages the CA and a client certificate).
  std::ifstream cc_log(net_ / "logs" / "chaincode.log");
  std::string cc_line;
  ASSERT_TRUE(std::getline(cc_log, cc_line));
  EXPECT_NE(cc_line.find("\"tls\":true"), std::string::npos) << cc_line;
  auto org = identity::Organization::Open(net_ / "org");
  ASSERT_TRUE(org.ok()) << org.error().ToString();
  auto admin = (*org)->LoadIdentity("admin");
  auto doctor = (*org)->LoadIdentity("doctor1");
  auto patient = (*org)->LoadIdentity("patient1");
  auto auditor = (*org)->LoadIdentity("auditor1");
  ASSERT_TRUE(admin.ok() && doctor.ok() && patient.ok() && auditor.ok());

  auto config = ledger::fabric::LoadFabricConfig((net_ / "fabric.json").string());
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  auto gw = ledger::fabric::GatewayLedger::Connect(*config);
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  auto& ledger = **gw;
  ledger.SetQueryIdentity(std::make_shared<identity::SigningIdentity>(*auditor));

  const std::string patient_ref(64, 'a');
  const std::string content_hash(64, 'b');
  const std::string cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

  // 1. The admin registers the patient, linking the patient's login.
  auto reg = ledger.Submit(
      *admin, Invocation{"RegisterPatient",
                         {Arg({{"patientRef", patient_ref}, {"login", patient->certificate().SubjectCommonName()}})}});
  ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  EXPECT_EQ(reg->tx_id.size(), 64u);
  EXPECT_GE(reg->block_number, 1u);  // block 0 is the genesis block; lifecycle transactions follow

  // 2. The doctor creates a report: the receipt names the block it was committed in.
  const json create = {{"reportId", "rep-1"},
                       {"patientRef", patient_ref},
                       {"cid", cid},
                       {"contentHash", content_hash},
                       {"metadata", {{"title", "Chest X-ray"}}}};
  auto created = ledger.Submit(*doctor, Invocation{"CreateReport", {Arg(create)}});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_GT(created->block_number, reg->block_number);
  EXPECT_EQ(created->block_hash.size(), 64u);
  auto created_json = json::parse(created->payload);
  EXPECT_EQ(created_json.at("version"), 1);
  EXPECT_EQ(created_json.at("txId"), created->tx_id);

  // 3. Reads.
  auto got = ledger.Evaluate(*doctor, Invocation{"GetReport", {Arg({{"reportId", "rep-1"}})}});
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(json::parse(*got).at("cid"), cid);
  auto access =
      ledger.Submit(*doctor, Invocation{"RecordAccess", {Arg({{"reportId", "rep-1"}, {"purpose", "treatment"}})}});
  ASSERT_TRUE(access.ok()) << access.error().ToString();
  EXPECT_EQ(json::parse(access->payload).at("basis"), "author");

  // 4. Consent: the patient grants another doctor access, then revokes it.
  identity::NewUser new_doctor;
  new_doctor.username = "doctor2";
  new_doctor.role = identity::Role::kDoctor;
  auto doctor2_user = (*org)->AddUser(new_doctor);
  ASSERT_TRUE(doctor2_user.ok()) << doctor2_user.error().ToString();
  auto doctor2 = (*org)->LoadIdentity("doctor2");
  ASSERT_TRUE(doctor2.ok());
  auto denied = ledger.Evaluate(*doctor2, Invocation{"GetReport", {Arg({{"reportId", "rep-1"}})}});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "permission_denied") << denied.error().ToString();
  auto grant = ledger.Submit(*patient, Invocation{"GrantAccess",
                                                  {Arg({{"patientRef", patient_ref},
                                                        {"doctor", "doctor2"},
                                                        {"purpose", "second_opinion"},
                                                        {"expiresAt", "2099-01-01T00:00:00Z"}})}});
  // expiresAt must be within 366 days of the transaction time: far future is refused with a stable code.
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.error().code, "expiry_too_far") << grant.error().ToString();
  const std::string expires = testing::UtcIn(std::chrono::hours(24 * 30));
  grant = ledger.Submit(*patient, Invocation{"GrantAccess",
                                             {Arg({{"patientRef", patient_ref},
                                                   {"doctor", "doctor2"},
                                                   {"purpose", "second_opinion"},
                                                   {"expiresAt", expires}})}});
  ASSERT_TRUE(grant.ok()) << grant.error().ToString();
  const std::string consent_id = json::parse(grant->payload).at("consentId");
  auto allowed = ledger.Evaluate(*doctor2, Invocation{"GetReport", {Arg({{"reportId", "rep-1"}})}});
  EXPECT_TRUE(allowed.ok()) << allowed.error().ToString();
  auto revoke = ledger.Submit(
      *patient, Invocation{"RevokeAccess", {Arg({{"patientRef", patient_ref}, {"consentId", consent_id}})}});
  ASSERT_TRUE(revoke.ok()) << revoke.error().ToString();
  auto denied_again = ledger.Evaluate(*doctor2, Invocation{"GetReport", {Arg({{"reportId", "rep-1"}})}});
  ASSERT_FALSE(denied_again.ok());
  EXPECT_EQ(denied_again.error().code, "permission_denied");

  // 5. Break-glass: doctor2 without consent uses emergency access, then may record a read.
  auto emergency =
      ledger.Submit(*doctor2, Invocation{"EmergencyAccess", {Arg({{"reportId", "rep-1"}, {"reasonNote", cid}})}});
  ASSERT_TRUE(emergency.ok()) << emergency.error().ToString();
  auto emergency_read =
      ledger.Submit(*doctor2, Invocation{"RecordAccess", {Arg({{"reportId", "rep-1"}, {"purpose", "emergency"}})}});
  ASSERT_TRUE(emergency_read.ok()) << emergency_read.error().ToString();
  EXPECT_EQ(json::parse(emergency_read->payload).at("emergency"), true);

  // 6. History (Fabric's history database through GET_HISTORY_FOR_KEY).
  auto history = ledger.Evaluate(*doctor, Invocation{"GetReportHistory", {Arg({{"reportId", "rep-1"}})}});
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  auto h = json::parse(*history);
  ASSERT_EQ(h.at("headHistory").size(), 1u);
  EXPECT_EQ(h.at("headHistory")[0].at("txId"), created->tx_id);

  // 7. Errors keep their stable codes across Fabric's gRPC error path.
  auto dup = ledger.Submit(*doctor, Invocation{"CreateReport", {Arg(create)}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "report_exists") << dup.error().ToString();
  auto forbidden = ledger.Submit(*patient, Invocation{"CreateReport", {Arg(create)}});
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, "permission_denied") << forbidden.error().ToString();

  // 8. The audit trail holds the reads, the emergency and the emergency read.
  auto events = ledger.Evaluate(*auditor, Invocation{"ListAccessEvents", {Arg({{"reportId", "rep-1"}})}});
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  EXPECT_GE(json::parse(*events).at("items").size(), 3u);

  // 9. qscc: chain info and a proof for the report's transaction.
  auto info = ledger.GetChainInfo();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_GT(info->height, created->block_number);
  EXPECT_EQ(info->current_hash.size(), 64u);
  auto proof = ledger.GetTransactionProof(created->tx_id);
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_EQ(proof->block_number, created->block_number);
  EXPECT_EQ(proof->validation_code, "VALID");
  EXPECT_EQ(proof->block_hash, created->block_hash);
  EXPECT_FALSE(proof->envelope.empty());
}

// The product itself on Fabric: `medledger serve --ledger fabric` with users enrolled by the organisation's CA
// (passwords set with `user add --password-file`), driven over HTTP exactly as the web app drives it.
TEST_F(FabricNetworkTest, ServerOverHttpRunsTheReportWorkflowOnFabric) {
  using testing::ParseBody;
  using testing::ProblemCode;
  const std::string org = (net_ / "org").string();
  const std::string password = "Fabric-Http-Test-2026!";
  const fs::path pw_file = net_ / "http-users.pw";
  std::ofstream(pw_file) << password << "\n";
  fs::permissions(pw_file, fs::perms::owner_read | fs::perms::owner_write);
  for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{{"http.admin", "admin"},
                                                                                   {"http.doc", "doctor"},
                                                                                   {"http.doc2", "doctor"},
                                                                                   {"http.pat", "patient"},
                                                                                   {"http.aud", "auditor"}}) {
    auto added = testing::RunMedledger("user add --data '" + org + "' --name " + name + " --role " + role +
                                       " --password-file '" + pw_file.string() + "'");
    ASSERT_EQ(added.exit_code, 0) << added.output;
  }
  testing::ServerProcess server(org, {"--ledger", "fabric", "--fabric-config", (net_ / "fabric.json").string()});
  ASSERT_TRUE(server.ok()) << "serve --ledger fabric did not start";
  std::map<std::string, std::string> token;
  for (const char* u : {"http.admin", "http.doc", "http.doc2", "http.pat", "http.aud"}) {
    server.SetPassword(u, password);
    token[u] = server.Login(u);
    ASSERT_FALSE(token[u].empty()) << u << " could not sign in";
  }

  auto patient = server.PostJson(
      "/api/v1/patients",
      json{{"mrn", "FAB-0001"}, {"name", "Fabric Patient"}, {"birthDate", "1970-01-01"}, {"username", "http.pat"}}
          .dump(),
      token["http.admin"]);
  ASSERT_EQ(patient.status, 201) << patient.body;
  const std::string pid = ParseBody(patient).value("patientId", "");
  auto submitted = server.PostJson("/api/v1/reports",
                                   json{{"patientId", pid},
                                        {"title", "Nephrology"},
                                        {"diagnosis", "CKD stage 3"},
                                        {"content", "eGFR 45. Start ACE inhibitor; recheck in 3 months."}}
                                       .dump(),
                                   token["http.doc"]);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  json receipt = ParseBody(submitted);
  const std::string id = receipt.value("reportId", "");
  EXPECT_EQ(receipt.value("txId", "").size(), 64u);
  EXPECT_GT(receipt.value("blockNumber", uint64_t{0}), 0u);

  // Read (an access event on Fabric), and the patient sees who read it.
  auto read = server.Get("/api/v1/reports/" + id, token["http.doc"]);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(read.body.find("eGFR 45"), std::string::npos);
  auto log = server.Get("/api/v1/patients/" + pid + "/access-log", token["http.pat"]);
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("http.doc"), std::string::npos);

  // Consent: another doctor is refused, allowed while consent lasts, refused again after revocation.
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, token["http.doc2"]).status, 403);
  const std::string expires = testing::UtcIn(std::chrono::hours(24 * 30));
  auto consent = server.PostJson("/api/v1/patients/" + pid + "/consents",
                                 json{{"doctor", "http.doc2"}, {"purpose", "treatment"}, {"expiresAt", expires}}.dump(),
                                 token["http.pat"]);
  ASSERT_EQ(consent.status, 201) << consent.body;
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, token["http.doc2"]).status, 200);
  const std::string consent_id = ParseBody(consent).value("consentId", "");
  auto revoked = server.Request("DELETE", "/api/v1/patients/" + pid + "/consents/" + consent_id, "",
                                {"Authorization: Bearer " + token["http.pat"]});
  EXPECT_EQ(revoked.status, 204) << revoked.body;
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, token["http.doc2"]).status, 403);

  // History from the peer's history database; the proof from qscc.
  auto history = server.Get("/api/v1/reports/" + id + "/history", token["http.doc"]);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find(receipt.value("txId", "")), std::string::npos);
  auto proof = server.Get("/api/v1/reports/" + id + "/proof", token["http.doc"]);
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(ParseBody(proof).value("validationCode", ""), "VALID");

  // Break-glass: granted with a reason, then the read succeeds and the auditor sees it flagged.
  auto emergency = server.PostJson("/api/v1/reports/" + id + "/emergency-access",
                                   json{{"reason", "Unconscious in the emergency department, renal dosing"}}.dump(),
                                   token["http.doc2"]);
  ASSERT_EQ(emergency.status, 201) << emergency.body;
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, token["http.doc2"]).status, 200);
  auto audit = server.Get("/api/v1/audit/events?emergencyOnly=true", token["http.aud"]);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("http.doc2"), std::string::npos);
  // The same contract on the peer: the patient's log is newest first, so the break-glass read leads page one.
  auto newest = ParseBody(server.Get("/api/v1/patients/" + pid + "/access-log?pageSize=1", token["http.pat"]));
  ASSERT_EQ(newest["items"].size(), 1u) << newest.dump();
  EXPECT_EQ(newest["items"][0].value("actor", ""), "http.doc2");
  EXPECT_TRUE(newest["items"][0].value("emergency", false));
  EXPECT_FALSE(newest.value("bookmark", "").empty());
}

}  // namespace
}  // namespace medledger
