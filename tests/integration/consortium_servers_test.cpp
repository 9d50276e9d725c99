// Two hospitals' servers on a REAL Fabric 2.5 consortium (opt-in: FABRIC_BIN=/path/to/fabric/bin; SKIPPED
// otherwise, or without tests/peers' js-ipfs). tests/fabric/consortium.sh brings up the network; each hospital then
// runs its own js-ipfs node (the two swarms peered on 127.0.0.1) and its own `medledger serve --ledger fabric
// --content kubo --consortium`. Over HTTP, as the web app calls it:
//   - A's doctor submits a report; its ciphertext is replicated to B's node (replicationFactor 2);
//   - B's admin publishes a doctor in the directory, A's patient consents to that doctor by "MSP/username";
//   - B's doctor finds the patient under "shared with me", lists the reports and reads A's report: B's server
//     records the access, A's server releases the data key over mutual TLS (HPKE) after checking the access on
//     its own peer, B decrypts; A's patient sees B's doctor in the access log and the key release;
//   - B's other doctor, without consent, is refused;
//   - forged key requests (no such access, a replayed one, another hospital's read) are refused, and the
//     refusals are on the ledger for A's auditor (a certificate from no member's CA: tests/unit/http/mtls_test);
//   - B's content node down: the read comes from A's trustless gateway (CAR, every block verified);
//   - A's server down: B's cross-hospital read fails cleanly (503 key_holder_unavailable, Retry-After), while
//     B's own work goes on.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/encoding.h"
#include "content/kubo_store.h"
#include "crypto/hpke.h"
#include "crypto/random.h"
#include "fabric_harness.h"
#include "ipfs_node.h"
#include "net/http_client.h"

namespace medledger {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::EnvOr;
using testing::IpfsNode;
using testing::ParseBody;
using testing::ProblemCode;
using testing::ServerProcess;
using namespace std::chrono_literals;

constexpr char kPassword[] = "Consortium-Http-Test-2026!";

// One hospital: its directory in the network, its content node and its server.
struct Site {
  std::string msp;
  fs::path dir;
  std::unique_ptr<IpfsNode> ipfs;
  std::unique_ptr<ServerProcess> server;
  std::map<std::string, std::string> token;

  void AddUsers(const std::vector<std::pair<std::string, std::string>>& users, const fs::path& pw_file) const {
    for (const auto& [name, role] : users) {
      auto added = testing::RunMedledger("user add --data '" + (dir / "org").string() + "' --name " + name +
                                         " --role " + role + " --password-file '" + pw_file.string() + "'");
      ASSERT_EQ(added.exit_code, 0) << added.output;
    }
  }
  void Start() {
    server = std::make_unique<ServerProcess>(
        (dir / "org").string(),
        std::vector<std::string>{"--ledger", "fabric", "--fabric-config", (dir / "fabric.json").string(), "--content",
                                 "kubo", "--ipfs-url", ipfs->url(), "--consortium",
                                 (dir / "consortium.json").string()});
  }
  void Login(const std::vector<std::string>& users) {
    for (const auto& u : users) {
      server->SetPassword(u, kPassword);
      token[u] = server->Login(u);
      ASSERT_FALSE(token[u].empty()) << msp << ": " << u << " could not sign in";
    }
  }
};

// A key request straight to a holder's mutual-TLS listener, as `from`'s server would send it.
net::HttpCall KeyRequest(const Site& holder, const fs::path& cert, const fs::path& key, const json& body) {
  json holder_config;
  std::ifstream(holder.dir / "consortium.json") >> holder_config;
  net::HttpCall call;
  for (const auto& m : holder_config["members"]) {
    if (m["mspId"] == holder.msp) {
      call.url = m["url"].get<std::string>() + "/peer/v1/keys/release";
      call.ca_file = (holder.dir / m["tlsCaFile"].get<std::string>()).lexically_normal().string();
    }
  }
  call.client_cert_file = cert.string();
  call.client_key_file = key.string();
  call.content_type = "application/json";
  call.body = body.dump();
  return call;
}

class ConsortiumServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EnvOr("FABRIC_BIN").empty()) GTEST_SKIP() << "FABRIC_BIN is not set (docs/CONSORTIUM.md)";
    std::string why;
    ipfs_a_ = IpfsNode::Start(&why);
    if (why == "skip") GTEST_SKIP() << "tests/peers/node_modules is missing (run scripts/setup.sh)";
    ASSERT_NE(ipfs_a_, nullptr) << why;
    auto ipfs_b = IpfsNode::Start(&why);
    ASSERT_NE(ipfs_b, nullptr) << why;
    ASSERT_TRUE(ipfs_b->ConnectTo(*ipfs_a_)) << "the two IPFS nodes could not peer";
    net_ = std::make_unique<testing::ScriptedFabricNetwork>("consortium.sh", "ORGS=2", 240);
    ASSERT_TRUE(net_->up()) << net_->Describe();
    a_.msp = "HospitalAMSP";
    a_.dir = net_->dir() / "HospitalA";
    a_.ipfs = std::move(ipfs_a_);
    b_.msp = "HospitalBMSP";
    b_.dir = net_->dir() / "HospitalB";
    b_.ipfs = std::move(ipfs_b);
  }

  std::unique_ptr<IpfsNode> ipfs_a_;
  std::unique_ptr<testing::ScriptedFabricNetwork> net_;
  Site a_, b_;
};

TEST_F(ConsortiumServersTest, ADoctorOfAnotherHospitalReadsUnderConsentAndFaultsFailCleanly) {
  const fs::path pw_file = net_->dir() / "users.pw";
  std::ofstream(pw_file) << kPassword << "\n";
  fs::permissions(pw_file, fs::perms::owner_read | fs::perms::owner_write);
  a_.AddUsers({{"a.admin", "admin"}, {"a.doc", "doctor"}, {"a.pat", "patient"}, {"a.aud", "auditor"}}, pw_file);
  b_.AddUsers({{"b.admin", "admin"}, {"b.doc", "doctor"}, {"b.doc2", "doctor"}, {"b.pat", "patient"}}, pw_file);
  a_.Start();
  b_.Start();
  ASSERT_TRUE(a_.server->ok() && b_.server->ok()) << "a server did not start";
  a_.Login({"a.admin", "a.doc", "a.pat", "a.aud"});
  b_.Login({"b.admin", "b.doc", "b.doc2", "b.pat"});

  // A's doctor writes a report for A's patient.
  auto patient = a_.server->PostJson(
      "/api/v1/patients",
      json{{"mrn", "A-0001"}, {"name", "Ada Shared"}, {"birthDate", "1970-01-01"}, {"username", "a.pat"}}.dump(),
      a_.token["a.admin"]);
  ASSERT_EQ(patient.status, 201) << patient.body;
  const std::string pid = ParseBody(patient).value("patientId", "");
  auto submitted =
      a_.server->PostJson("/api/v1/reports",
                          json{{"patientId", pid},
                               {"title", "Cardiology"},
                               {"diagnosis", "Atrial fibrillation"},
                               {"content", "Rate control with bisoprolol; anticoagulation discussed (CHA2DS2-VASc 3)."}}
                              .dump(),
                          a_.token["a.doc"]);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const json receipt = ParseBody(submitted);
  const std::string report_id = receipt.value("reportId", "");
  const std::string cid = receipt.value("cid", "");

  // Replication: B's node pins the ciphertext (B's server fetched it from A's gateway and checked it).
  content::KuboOptions ko;
  ko.url = b_.ipfs->url();
  auto b_store = content::KuboStore::Create(ko).value();
  bool replicated = false;
  for (int i = 0; i < 100 && !replicated; ++i) {
    auto pinned = b_store->IsPinned(cid);
    replicated = pinned.ok() && *pinned;
    if (!replicated) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(replicated) << "B's node never pinned " << cid;

  // B's admin publishes b.doc; A's patient consents to "HospitalBMSP/b.doc" (picked from the directory).
  auto published =
      b_.server->PostJson("/api/v1/directory/clinicians",
                          json{{"username", "b.doc"}, {"displayName", "Dr. Bea Doc"}}.dump(), b_.token["b.admin"]);
  ASSERT_EQ(published.status, 201) << published.body;
  auto directory = a_.server->Get("/api/v1/directory/clinicians?org=HospitalBMSP", a_.token["a.pat"]);
  ASSERT_EQ(directory.status, 200) << directory.body;
  EXPECT_NE(directory.body.find("Dr. Bea Doc"), std::string::npos);
  // Before consent, B's doctor is refused by the contract itself.
  EXPECT_EQ(b_.server->Get("/api/v1/reports/" + report_id, b_.token["b.doc"]).status, 403);
  auto consent = a_.server->PostJson("/api/v1/patients/" + pid + "/consents",
                                     json{{"doctor", "HospitalBMSP/b.doc"},
                                          {"purpose", "second_opinion"},
                                          {"expiresAt", testing::UtcIn(std::chrono::hours(24 * 30))}}
                                         .dump(),
                                     a_.token["a.pat"]);
  ASSERT_EQ(consent.status, 201) << consent.body;

  // B's doctor finds the patient under "shared with me", lists the reports and reads A's report.
  auto shared = b_.server->Get("/api/v1/shared/consents", b_.token["b.doc"]);
  ASSERT_EQ(shared.status, 200) << shared.body;
  const json shared_items = ParseBody(shared)["items"];
  ASSERT_EQ(shared_items.size(), 1u) << shared.body;
  const std::string patient_ref = shared_items[0].value("patientRef", "");
  auto listed = b_.server->Get("/api/v1/shared/patients/" + patient_ref + "/reports", b_.token["b.doc"]);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find(report_id), std::string::npos);
  auto read = b_.server->Get("/api/v1/reports/" + report_id, b_.token["b.doc"]);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(read.body.find("bisoprolol"), std::string::npos);
  EXPECT_EQ(ParseBody(read).value("authorMsp", ""), "HospitalAMSP");
  EXPECT_EQ(ParseBody(read).value("author", ""), "a.doc");
  // A's patient sees the read by B's doctor and the key's release to B.
  auto access_log = a_.server->Get("/api/v1/patients/" + pid + "/access-log", a_.token["a.pat"]);
  ASSERT_EQ(access_log.status, 200) << access_log.body;
  EXPECT_NE(access_log.body.find("b.doc"), std::string::npos);
  EXPECT_NE(access_log.body.find("key_released"), std::string::npos);
  // Another doctor of B, without consent, is refused.
  EXPECT_EQ(b_.server->Get("/api/v1/reports/" + report_id, b_.token["b.doc2"]).status, 403);

  // Forged key requests, sent with B's own server certificate straight to A's listener.
  const fs::path b_cert = b_.dir / "tls" / "server.crt";
  const fs::path b_key = b_.dir / "tls" / "server.key";
  // A real P-256 point: the request must pass parsing and be refused for what it asks.
  const std::string recipient_key = Base64UrlEncode(crypto::hpke::PrivateKey::Generate().value().public_key().bytes());
  auto forge = [&](const std::string& access_tx) {
    json body = {{"accessTxId", access_tx}, {"reportId", report_id}, {"version", 1}, {"recipientKey", recipient_key}};
    return net::HttpFetch(KeyRequest(a_, b_cert, b_key, body));
  };
  auto no_access = forge(std::string(64, 'a'));
  ASSERT_TRUE(no_access.ok()) << no_access.error().ToString();
  EXPECT_EQ(no_access->status, 404) << no_access->body;
  EXPECT_NE(no_access->body.find("access_tx_not_found"), std::string::npos) << no_access->body;
  // A's own doctor's read is not a read by B.
  auto own_read = a_.server->Get("/api/v1/reports/" + report_id, a_.token["a.doc"]);
  ASSERT_EQ(own_read.status, 200);
  auto events = a_.server->Get("/api/v1/audit/events?kind=read", a_.token["a.aud"]);
  ASSERT_EQ(events.status, 200) << events.body;
  std::string a_read_tx, b_read_tx;
  const json event_list = ParseBody(events);
  for (const auto& e : event_list["items"]) {
    const std::string actor = e.value("actor", "") + "|" + e.value("actorMsp", "");
    if (actor.find("a.doc") != std::string::npos && a_read_tx.empty()) a_read_tx = e.value("eventId", "");
    if (actor.find("b.doc") != std::string::npos && b_read_tx.empty()) b_read_tx = e.value("eventId", "");
  }
  ASSERT_FALSE(a_read_tx.empty()) << events.body;
  ASSERT_FALSE(b_read_tx.empty()) << events.body;
  auto mismatch = forge(a_read_tx);
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->status, 403) << mismatch->body;
  EXPECT_NE(mismatch->body.find("access_mismatch"), std::string::npos) << mismatch->body;
  auto replay = forge(b_read_tx);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status, 409) << replay->body;
  EXPECT_NE(replay->body.find("key_already_released"), std::string::npos) << replay->body;
  // The refusals are on A's ledger for its auditor.
  bool recorded = false;
  for (int i = 0; i < 50 && !recorded; ++i) {
    auto refused = a_.server->Get("/api/v1/audit/events?kind=key_release_refused", a_.token["a.aud"]);
    recorded = refused.status == 200 && refused.body.find("access_mismatch") != std::string::npos &&
               refused.body.find("key_already_released") != std::string::npos;
    if (!recorded) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(recorded) << "the refused key requests are not on the ledger";

  // B's content node down: the read comes from A's trustless gateway.
  b_.ipfs->Stop();
  auto from_gateway = b_.server->Get("/api/v1/reports/" + report_id, b_.token["b.doc"]);
  EXPECT_EQ(from_gateway.status, 200) << from_gateway.body;
  EXPECT_NE(from_gateway.body.find("bisoprolol"), std::string::npos);

  // A's server down: B's cross-hospital read fails cleanly; B's own work goes on.
  EXPECT_EQ(a_.server->Stop(), 0);
  auto holder_down = b_.server->Get("/api/v1/reports/" + report_id, b_.token["b.doc"]);
  EXPECT_EQ(holder_down.status, 503) << holder_down.body;
  EXPECT_EQ(ProblemCode(holder_down), "key_holder_unavailable") << holder_down.body;
  EXPECT_FALSE(holder_down.Header("retry-after").empty());
  auto b_patient = b_.server->PostJson(
      "/api/v1/patients",
      json{{"mrn", "B-0001"}, {"name", "Bob Local"}, {"birthDate", "1980-02-02"}, {"username", "b.pat"}}.dump(),
      b_.token["b.admin"]);
  EXPECT_EQ(b_patient.status, 201) << b_patient.body;
}

}  // namespace
}  // namespace medledger
