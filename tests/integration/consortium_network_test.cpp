// The consortium on a REAL Hyperledger Fabric 2.5 network (opt-in: FABRIC_BIN=/path/to/fabric/bin; SKIPPED
// otherwise). tests/fabric/consortium.sh brings up two hospitals (each its own CA, TLS CA, peer and
// medledger-chaincode) and three etcdraft orderers spread over them on 127.0.0.1; the records chaincode's
// endorsement policy is the channel's MAJORITY Endorsement. Through medledger's GatewayLedger, each hospital on
// its own peer with its own wallet identities:
//   - a report is endorsed by BOTH hospitals' peers (read back from the committed block);
//   - a doctor of hospital B reads a report of hospital A under the consent of A's patient, and not before;
//   - a transaction endorsed by one hospital only (endorsing_organizations) is invalidated by every peer
//     (ENDORSEMENT_POLICY_FAILURE);
//   - with the Raft leader killed (kill -9), transactions still commit; restarted, it catches up;
//   - with three hospitals, an amendment of A's report endorsed by B and C (a majority without the author's
//     hospital) is invalidated by the contract's key-level policy; A with C, or the Gateway's own plan, commits.
// Each test brings up its own network (~15 s).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fabric_harness.h"
#include "identity/organization.h"
#include "identity/signing_identity.h"
#include "ledger/fabric/fabric_config.h"
#include "ledger/fabric/gateway_ledger.h"
#include "pb/common/common.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ledger::Invocation;
using testing::EnvOr;

constexpr auto kConsentDays = std::chrono::hours(24 * 30);

// One hospital as the tests see it: its organisation (wallet) and a Gateway client on its own peer.
struct Hospital {
  std::string msp_id;
  std::unique_ptr<identity::Organization> org;
  std::unique_ptr<ledger::fabric::GatewayLedger> ledger;
};

Result<Hospital> OpenHospital(const fs::path& dir, const std::string& msp_id) {
  Hospital h;
  h.msp_id = msp_id;
  ML_ASSIGN_OR_RETURN(h.org, identity::Organization::Open(dir / "org"));
  ML_ASSIGN_OR_RETURN(auto config, ledger::fabric::LoadFabricConfig((dir / "fabric.json").string()));
  ML_ASSIGN_OR_RETURN(h.ledger, ledger::fabric::GatewayLedger::Connect(config));
  ML_ASSIGN_OR_RETURN(auto admin, h.org->LoadIdentity("admin"));
  h.ledger->SetQueryIdentity(std::make_shared<identity::SigningIdentity>(std::move(admin)));
  return h;
}

// The MSP IDs of the peers that endorsed transaction `tx_id` in `block` (a serialized common.Block as qscc
// returns it).
std::multiset<std::string> EndorsingMsps(const std::string& block_bytes, const std::string& tx_id) {
  common::Block block;
  if (!block.ParseFromString(block_bytes)) return {};
  for (const auto& data : block.data().data()) {
    common::Envelope env;
    common::Payload payload;
    common::ChannelHeader ch;
    if (!env.ParseFromString(data) || !payload.ParseFromString(env.payload()) ||
        !ch.ParseFromString(payload.header().channel_header()) || ch.tx_id() != tx_id) {
      continue;
    }
    protos::Transaction tx;
    protos::ChaincodeActionPayload cap;
    if (!tx.ParseFromString(payload.data()) || tx.actions_size() != 1 ||
        !cap.ParseFromString(tx.actions(0).payload())) {
      return {};
    }
    std::multiset<std::string> out;
    for (const auto& e : cap.action().endorsements()) {
      auto who = identity::ParseSerializedIdentity(e.endorser());
      out.insert(who.ok() ? who->first : "<unparsable endorser>");
    }
    return out;
  }
  return {};
}

// "transaction <id> committed as invalid: <CODE>" -> <id>.
std::string InvalidTxId(const Error& e) {
  constexpr std::string_view kPrefix = "transaction ";
  if (e.message.rfind(kPrefix, 0) != 0) return "";
  return e.message.substr(kPrefix.size(), e.message.find(' ', kPrefix.size()) - kPrefix.size());
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.substr(s.find_last_of('\n') == std::string::npos ? 0 : s.find_last_of('\n') + 1);
}

class ConsortiumNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EnvOr("FABRIC_BIN").empty()) GTEST_SKIP() << "set FABRIC_BIN to a directory with Fabric 2.5 binaries";
    network_ = std::make_unique<testing::ScriptedFabricNetwork>("consortium.sh", "ORGS=" + std::to_string(Orgs()), 240);
    ASSERT_TRUE(network_->up()) << network_->Describe();
    env_ = network_->Env();
    for (int i = 1; i <= Orgs(); ++i) {
      const std::string n = "ORG" + std::to_string(i);
      auto h = OpenHospital(env_.at(n + "_DIR"), env_.at(n + "_MSPID"));
      ASSERT_TRUE(h.ok()) << h.error().ToString();
      hospitals_.push_back(std::move(*h));
    }
  }
  void TearDown() override {
    hospitals_.clear();
    network_.reset();
  }
  virtual int Orgs() const { return 2; }

  identity::SigningIdentity User(int hospital, const std::string& name) {
    auto id = hospitals_.at(hospital).org->LoadIdentity(name);
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    return std::move(id).value();
  }

  // Registers a patient of hospital `h` (its admin), linked to its user patient1 if `link_login`.
  Result<ledger::TxReceipt> RegisterPatient(int h, const std::string& patient_ref, bool link_login = true) {
    json arg = {{"patientRef", patient_ref}};
    if (link_login) arg["login"] = User(h, "patient1").certificate().SubjectCommonName();
    return hospitals_.at(h).ledger->Submit(User(h, "admin"), Invocation{"RegisterPatient", {arg.dump()}});
  }

  // The block height of orderer k on the channel, from its channel participation API (osnadmin); -1 when it
  // does not answer.
  int64_t OrdererHeight(int k) {
    auto r = testing::RunCommand("timeout 10 '" + EnvOr("FABRIC_BIN") + "/osnadmin' channel list --channelID " +
                                 env_.at("CHANNEL") +
                                 " -o 127.0.0.1:" + env_.at("ORDERER" + std::to_string(k) + "_ADMIN_PORT"));
    const size_t brace = r.output.find('{');
    if (r.exit_code != 0 || brace == std::string::npos) return -1;
    auto j = json::parse(r.output.substr(brace), nullptr, false);
    return j.is_object() && j.contains("height") ? j["height"].get<int64_t>() : -1;
  }

  std::unique_ptr<testing::ScriptedFabricNetwork> network_;
  std::map<std::string, std::string> env_;
  std::vector<Hospital> hospitals_;
};

TEST_F(ConsortiumNetworkTest, BothHospitalsEndorseConsentOpensAReportAcrossOneHospitalAloneIsInvalidated) {
  Hospital& a = hospitals_[0];
  Hospital& b = hospitals_[1];
  ASSERT_EQ(a.msp_id, "HospitalAMSP");
  ASSERT_EQ(b.msp_id, "HospitalBMSP");
  const auto a_doctor = User(0, "doctor1");
  const auto a_patient = User(0, "patient1");
  const auto b_doctor = User(1, "doctor1");
  const std::string patient_ref(64, 'c');

  // A's admin registers a patient and A's doctor writes a report: MAJORITY of two is both, so B's peer endorses
  // A's transactions too, and both peers commit the same block.
  auto reg = RegisterPatient(0, patient_ref);
  ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  const json report = {{"reportId", "cons-1"},
                       {"patientRef", patient_ref},
                       {"cid", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"},
                       {"contentHash", std::string(64, 'd')},
                       {"metadata", {{"title", "Renal ultrasound"}}}};
  auto created = a.ledger->Submit(a_doctor, Invocation{"CreateReport", {report.dump()}});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  auto block = a.ledger->GetBlock(created->block_number);
  ASSERT_TRUE(block.ok()) << block.error().ToString();
  EXPECT_EQ(EndorsingMsps(*block, created->tx_id), (std::multiset<std::string>{"HospitalAMSP", "HospitalBMSP"}));
  auto on_b = b.ledger->GetTransactionProof(created->tx_id);
  ASSERT_TRUE(on_b.ok()) << on_b.error().ToString();
  EXPECT_EQ(on_b->validation_code, "VALID");
  EXPECT_EQ(on_b->block_hash, created->block_hash);

  // B's doctor may not read A's report until A's patient consents to that doctor, named with B's MSP ID.
  const json read = {{"reportId", "cons-1"}, {"purpose", "treatment"}};
  auto refused = b.ledger->Submit(b_doctor, Invocation{"RecordAccess", {read.dump()}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "permission_denied") << refused.error().ToString();
  auto grant = a.ledger->Submit(a_patient, Invocation{"GrantAccess",
                                                      {json{{"patientRef", patient_ref},
                                                            {"doctor", "HospitalBMSP/doctor1"},
                                                            {"purpose", "treatment"},
                                                            {"expiresAt", testing::UtcIn(kConsentDays)}}
                                                           .dump()}});
  ASSERT_TRUE(grant.ok()) << grant.error().ToString();
  auto access = b.ledger->Submit(b_doctor, Invocation{"RecordAccess", {read.dump()}});
  ASSERT_TRUE(access.ok()) << access.error().ToString();
  EXPECT_EQ(json::parse(access->payload).at("basis"), "consent");
  auto access_block = b.ledger->GetBlock(access->block_number);
  ASSERT_TRUE(access_block.ok()) << access_block.error().ToString();
  EXPECT_EQ(EndorsingMsps(*access_block, access->tx_id), (std::multiset<std::string>{"HospitalAMSP", "HospitalBMSP"}));

  // Endorsed by one hospital alone (its own or the other): ordered, then invalidated by every peer.
  for (const auto& [who, only] : std::vector<std::pair<int, std::string>>{{1, "HospitalBMSP"}, {0, "HospitalAMSP"}}) {
    Hospital& h = hospitals_[who];
    auto alone = h.ledger->Submit(User(who, "doctor1"), Invocation{"RecordAccess", {read.dump()}, {only}});
    ASSERT_FALSE(alone.ok()) << only << " alone was accepted";
    EXPECT_EQ(alone.error().code, "endorsement_policy_failure") << alone.error().ToString();
    const std::string tx_id = InvalidTxId(alone.error());
    ASSERT_EQ(tx_id.size(), 64u) << alone.error().message;
    for (Hospital& peer : hospitals_) {
      auto proof = peer.ledger->GetTransactionProof(tx_id);
      ASSERT_TRUE(proof.ok()) << proof.error().ToString();
      EXPECT_EQ(proof->validation_code, "ENDORSEMENT_POLICY_FAILURE") << peer.msp_id;
      auto invalid_block = peer.ledger->GetBlock(proof->block_number);
      ASSERT_TRUE(invalid_block.ok());
      EXPECT_EQ(EndorsingMsps(*invalid_block, tx_id), (std::multiset<std::string>{only}));
    }
  }
}

TEST_F(ConsortiumNetworkTest, RaftLeaderKilledTransactionsCommitRestartedItCatchesUp) {
  auto leader = network_->Run("raft-leader");
  ASSERT_EQ(leader.exit_code, 0) << leader.output;
  const int killed = std::stoi(Trimmed(leader.output));
  ASSERT_EQ(network_->Run("stop-orderer", std::to_string(killed)).exit_code, 0);

  // The two others elect a leader among themselves (Raft ticks of 200 ms: about 2 s).
  int new_leader = 0;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       new_leader == 0 && std::chrono::steady_clock::now() < deadline;) {
    auto r = network_->Run("raft-leader");
    if (r.exit_code == 0 && std::stoi(Trimmed(r.output)) != killed) new_leader = std::stoi(Trimmed(r.output));
    if (new_leader == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(new_leader, 0) << "no new Raft leader after orderer" << killed << " was killed";

  // Transactions from both hospitals still commit, on both peers.
  for (int i = 0; i < 3; ++i) {
    auto reg = RegisterPatient(i % 2, std::string(63, 'e') + std::to_string(i), /*link_login=*/false);
    ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  }
  auto info = hospitals_[0].ledger->GetChainInfo();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  const int64_t height = static_cast<int64_t>(info->height);
  EXPECT_EQ(OrdererHeight(killed), -1);
  EXPECT_EQ(OrdererHeight(new_leader), height);

  // Restarted with the same configuration and data, it catches up with the blocks it missed and follows new ones.
  auto started = network_->Run("start-orderer", std::to_string(killed));
  ASSERT_EQ(started.exit_code, 0) << started.output;
  auto after = RegisterPatient(1, std::string(64, 'f'), /*link_login=*/false);
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  const int64_t final_height = static_cast<int64_t>(after->block_number) + 1;
  EXPECT_GT(final_height, height);
  int64_t caught_up = -1;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       caught_up < final_height && std::chrono::steady_clock::now() < deadline;) {
    caught_up = OrdererHeight(killed);
    if (caught_up < final_height) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(caught_up, final_height) << "orderer" << killed << " did not catch up";
  for (int k = 1; k <= 3; ++k) EXPECT_EQ(OrdererHeight(k), final_height) << "orderer" << k;
}

// Three hospitals: MAJORITY Endorsement is any two, but CreateReport puts a key-level policy on the report's keys
// (the author's organisation must endorse), so an amendment of A's report that B and C endorse without A is
// invalidated by every peer, while A with C is enough.
class ConsortiumNetworkThreeHospitalsTest : public ConsortiumNetworkTest {
 protected:
  int Orgs() const override { return 3; }
};

TEST_F(ConsortiumNetworkThreeHospitalsTest, AmendmentEndorsedByAMajorityWithoutTheAuthorsHospitalIsInvalidated) {
  Hospital& a = hospitals_[0];
  const auto a_doctor = User(0, "doctor1");
  const std::string patient_ref(64, '7');
  auto reg = RegisterPatient(0, patient_ref);
  ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  const std::string cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
  auto created = a.ledger->Submit(a_doctor, Invocation{"CreateReport",
                                                       {json{{"reportId", "three-1"},
                                                             {"patientRef", patient_ref},
                                                             {"cid", cid},
                                                             {"contentHash", std::string(64, '1')},
                                                             {"metadata", {{"title", "Echocardiogram"}}}}
                                                            .dump()}});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::string amend = json{
      {"reportId", "three-1"},
      {"cid", cid},
      {"contentHash", std::string(64, '2')},
      {"metadata", {{"title", "Echocardiogram (amended)"}}},
      {"version", 2}}.dump();

  auto without_author =
      a.ledger->Submit(a_doctor, Invocation{"AmendReport", {amend}, {"HospitalBMSP", "HospitalCMSP"}});
  ASSERT_FALSE(without_author.ok()) << "an amendment without the author's hospital was accepted";
  EXPECT_EQ(without_author.error().code, "endorsement_policy_failure") << without_author.error().ToString();
  const std::string tx_id = InvalidTxId(without_author.error());
  ASSERT_EQ(tx_id.size(), 64u) << without_author.error().message;
  for (Hospital& peer : hospitals_) {
    auto proof = peer.ledger->GetTransactionProof(tx_id);
    ASSERT_TRUE(proof.ok()) << proof.error().ToString();
    EXPECT_EQ(proof->validation_code, "ENDORSEMENT_POLICY_FAILURE") << peer.msp_id;
  }

  auto with_author = a.ledger->Submit(a_doctor, Invocation{"AmendReport", {amend}, {"HospitalAMSP", "HospitalCMSP"}});
  ASSERT_TRUE(with_author.ok()) << with_author.error().ToString();
  // Without a list the Gateway plans from the chaincode's policy and the key-level one (discovery): it commits.
  json third = json::parse(amend);
  third["version"] = 3;
  auto planned = a.ledger->Submit(a_doctor, Invocation{"AmendReport", {third.dump()}});
  ASSERT_TRUE(planned.ok()) << planned.error().ToString();
  auto block = a.ledger->GetBlock(planned->block_number);
  ASSERT_TRUE(block.ok()) << block.error().ToString();
  EXPECT_EQ(EndorsingMsps(*block, planned->tx_id).count("HospitalAMSP"), 1u);
  auto head = hospitals_[2].ledger->Evaluate(a_doctor, Invocation{"GetReport", {json{{"reportId", "three-1"}}.dump()}});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(json::parse(*head).at("version"), 3);
}

}  // namespace
}  // namespace medledger
