#include "ledger/fabric/gateway_ledger.h"

#include <gtest/gtest.h>

#include <future>

#include "common/encoding.h"
#include "mock_gateway.h"
#include "test_identity.h"

namespace medledger::ledger::fabric {
namespace {

struct GatewayFixture : ::testing::Test {
  testing::MockGateway mock;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<GatewayLedger> ledger;
  identity::SigningIdentity doctor = MakeTestUser("dr.house", "doctor");

  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&mock);
    server = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    FabricConfig config;
    config.peer_endpoint = "127.0.0.1:" + std::to_string(port);
    config.msp_id = "HospitalMSP";
    config.channel = "medchannel";
    config.chaincode = "records";
    config.evaluate_timeout = std::chrono::milliseconds(2000);
    config.max_attempts = 3;
    auto connected = GatewayLedger::Connect(config);
    ASSERT_TRUE(connected.ok());
    ledger = std::move(connected).value();
    ledger->SetQueryIdentity(std::make_shared<identity::SigningIdentity>(doctor));
  }
  void TearDown() override {
    ledger.reset();
    server->Shutdown();
  }
};

TEST_F(GatewayFixture, EvaluateSendsASignedProposalAndReturnsThePayload) {
  auto r = ledger->Evaluate(doctor, {"GetReport", {R"({"reportId":"R1"})"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, std::string("GetReport;") + R"({"reportId":"R1"})" + ";");
}

TEST_F(GatewayFixture, ContractFailuresSurfaceWithTheirStableCode) {
  auto r = ledger->Evaluate(doctor, {"Deny", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(r.error().code, "permission_denied");

  auto s = ledger->Submit(doctor, {"CreateDuplicate", {"R1"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "report_exists");  // found inside the EndpointError details
  EXPECT_EQ(s.error().kind, ErrorKind::kAlreadyExists);
}

TEST_F(GatewayFixture, SubmitEndorsesSignsSubmitsAndWaitsForCommit) {
  auto r = ledger->Submit(doctor, {"CreateReport", {"R9"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->payload, "created:R9");
  EXPECT_EQ(r->block_number, 7u);
  EXPECT_EQ(r->tx_id.size(), 64u);
  EXPECT_EQ(r->block_hash.size(), 64u);
  std::lock_guard lock(mock.mu);
  EXPECT_TRUE(mock.submitted.count(r->tx_id));
  std::vector<std::string> expected = {"Endorse", "Submit", "CommitStatus", "Evaluate"};
  EXPECT_EQ(mock.calls, expected);
}

TEST_F(GatewayFixture, InvalidatedTransactionsAreErrors) {
  mock.commit_code = 11;  // MVCC_READ_CONFLICT
  auto r = ledger->Submit(doctor, {"CreateReport", {"R10"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "mvcc_read_conflict");
}

// The organisations a submission names travel in EndorseRequest.endorsing_organizations (field 4, as Fabric's
// gateway.proto); the peers, not the client, judge them, and an invalidated transaction names the policy failure.
TEST_F(GatewayFixture, EndorsingOrganizationsAreSentAndPolicyFailuresSurface) {
  auto planned = ledger->Submit(doctor, {"CreateReport", {"R20"}});
  ASSERT_TRUE(planned.ok()) << planned.error().ToString();
  mock.commit_code = 10;  // ENDORSEMENT_POLICY_FAILURE
  auto one_org = ledger->Submit(doctor, Invocation{"CreateReport", {"R21"}, {"HospitalBMSP"}});
  ASSERT_FALSE(one_org.ok());
  EXPECT_EQ(one_org.error().code, "endorsement_policy_failure");
  EXPECT_EQ(one_org.error().kind, ErrorKind::kPermissionDenied);
  {
    std::lock_guard lock(mock.mu);
    ASSERT_EQ(mock.endorsing_organizations.size(), 2u);
    EXPECT_TRUE(mock.endorsing_organizations[0].empty());  // none named: the gateway plans from the policy
    EXPECT_EQ(mock.endorsing_organizations[1], std::vector<std::string>{"HospitalBMSP"});
    mock.calls.clear();
  }
  // Malformed lists never reach the gateway; evaluations take none.
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {""}, {"HospitalAMSP", "HospitalAMSP"}, {"Hospital/A"}, std::vector<std::string>(17, "X")}) {
    auto r = ledger->Submit(doctor, Invocation{"CreateReport", {"R22"}, bad});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "bad_endorsing_organizations");
  }
  auto eval = ledger->Evaluate(doctor, Invocation{"GetReport", {"R20"}, {"HospitalAMSP"}});
  ASSERT_FALSE(eval.ok());
  EXPECT_EQ(eval.error().code, "bad_endorsing_organizations");
  std::lock_guard lock(mock.mu);
  EXPECT_TRUE(mock.calls.empty());
}

TEST_F(GatewayFixture, UnavailablePeerIsRetriedWithBackoff) {
  mock.unavailable_before_success = 2;
  auto r = ledger->Evaluate(doctor, {"Ping", {}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  mock.unavailable_before_success = 5;  // more than max_attempts
  auto down = ledger->Evaluate(doctor, {"Ping", {}});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, "fabric_unavailable");
}

TEST_F(GatewayFixture, ManyConcurrentSubmissionsAllComplete) {
  constexpr int kN = 40;
  std::vector<std::future<Result<TxReceipt>>> futures;
  for (int i = 0; i < kN; ++i) {
    auto p = std::make_shared<std::promise<Result<TxReceipt>>>();
    futures.push_back(p->get_future());
    ledger->SubmitAsync(doctor, {"CreateReport", {"C" + std::to_string(i)}},
                        [p](Result<TxReceipt> r) { p->set_value(std::move(r)); });
  }
  std::set<std::string> txids;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    txids.insert(r->tx_id);
  }
  EXPECT_EQ(txids.size(), size_t(kN));
}

TEST_F(GatewayFixture, ChainInfoAndProofComeFromQscc) {
  auto info = ledger->GetChainInfo();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->height, 8u);
  EXPECT_EQ(info->current_hash, HexEncode(std::string(32, '\x07')));
  auto proof = ledger->GetTransactionProof("abc123");
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_EQ(proof->block_number, 7u);
  EXPECT_EQ(proof->tx_index, 1u);
  EXPECT_EQ(proof->validation_code, "MVCC_READ_CONFLICT");
  EXPECT_EQ(proof->block_hash.size(), 64u);
}

TEST(GatewayDown, NothingListeningGivesAClearErrorQuickly) {
  FabricConfig config;
  config.peer_endpoint = "127.0.0.1:1";  // nothing listens on port 1
  config.msp_id = "HospitalMSP";
  config.evaluate_timeout = std::chrono::milliseconds(300);
  config.max_attempts = 2;
  auto ledger = GatewayLedger::Connect(config).value();
  auto who = MakeTestUser("dr.x", "doctor");
  auto start = std::chrono::steady_clock::now();
  auto r = ledger->Evaluate(who, {"Ping", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code == "fabric_unavailable" || r.error().code == "fabric_timeout") << r.error().code;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(FabricConfigFile, ParsesAndRejectsPrecisely) {
  auto ok = ParseFabricConfig(
      R"({"peerEndpoint":"peer0:7051","mspId":"HospitalMSP","channel":"c","chaincode":"records",
          "tlsRootCert":"PEM","timeouts":{"commitMs":1000},"maxAttempts":2})",
      ".");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->commit_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(ok->max_attempts, 2);
  for (const char* bad :
       {"[]", "{", R"({"mspId":"M"})", R"({"peerEndpoint":"nocolon","mspId":"M"})",
        R"({"peerEndpoint":"p:1","mspId":"M","extra":1})", R"({"peerEndpoint":"p:1","mspId":"M","maxAttempts":0})",
        R"({"peerEndpoint":"p:1","mspId":"M","timeouts":{"evaluateMs":-5}})",
        R"({"peerEndpoint":"p:1","mspId":"M","tlsRootCertFile":"/nonexistent/ca.pem"})"}) {
    auto r = ParseFabricConfig(bad, ".");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_fabric_config");
  }
}

}  // namespace
}  // namespace medledger::ledger::fabric
