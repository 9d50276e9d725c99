// The audit behind `medledger verify` on a real chain: the records contract on the organisation's embedded
// ledger, the server's ReportLog following it (anchoring each checkpoint as the service identity), then the
// stored log re-derived from the blocks. Tampering with the tree, the anchors or the saved checkpoints is named.
#include "reportlog/log_audit.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/encoding.h"
#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "identity/organization.h"
#include "kill_child.h"
#include "ledger/embedded/data_dir.h"
#include "service/report_log.h"
#include "temp_dir.h"
#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::reportlog {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kOrigin[] = "medledger/Org1MSP/reports";
constexpr char kCrashDirVar[] = "MEDLEDGER_LOG_CRASH_DIR";
const std::string kPatient = HexEncode(crypto::Sha256("patient"));
const std::string kCid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

std::unique_ptr<ledger::embedded::EmbeddedLedger> OpenLedger(const identity::Organization& org) {
  auto options = ledger::embedded::OptionsForOrganization(org, contract::NewRecordsContract());
  options.chaincode = "records";
  options.genesis_block = true;
  options.batch.timeout_ms = 2;
  auto opened = ledger::embedded::EmbeddedLedger::Open(std::move(options));
  EXPECT_TRUE(opened.ok()) << opened.error().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// The data directory's log key, kept in a file so a crash-test child and its parent share it (the server seals
// it under the master key; that is not what is tested here).
tlog::NoteSigner LogKey(const fs::path& data) {
  const fs::path file = data / "log-test.skey";
  std::ifstream in(file);
  std::string skey;
  if (in >> skey) return tlog::NoteSigner::Parse(skey).value();
  auto key = tlog::NoteSigner::Generate(kOrigin, tlog::SignatureType::kEd25519).value();
  std::ofstream(file) << key.ToString();
  fs::create_directories(data / "log");
  std::ofstream(data / "log" / "trust.json") << json{{"logVkey", key.Verifier().ToString()}}.dump();
  return key;
}

std::unique_ptr<service::ReportLog> OpenLog(ledger::Ledger& ledger, identity::Organization& org, const fs::path& data) {
  service::ReportLogOptions o;
  o.dir = data / "log";
  o.origin = kOrigin;
  auto who = std::make_shared<identity::SigningIdentity>(org.ServiceIdentity().value());
  o.anchor = [&ledger, who](const tlog::Checkpoint& c) -> Result<std::string> {
    json arg = {{"origin", kOrigin}, {"treeSize", c.size}, {"rootHash", HexEncode(c.root_hash)}};
    ML_ASSIGN_OR_RETURN(auto receipt, ledger.Submit(*who, {"AnchorCheckpoint", {arg.dump()}}));
    return receipt.tx_id;
  };
  auto log = service::ReportLog::Open(ledger, LogKey(data), std::move(o));
  EXPECT_TRUE(log.ok()) << log.error().ToString();
  return log.ok() ? std::move(*log) : nullptr;
}

// `count` reports created concurrently (several per block), named from `first`.
void CreateReports(ledger::Ledger& ledger, const identity::SigningIdentity& doctor, int first, int count) {
  std::mutex mu;
  std::condition_variable cv;
  int pending = count;
  for (int i = first; i < first + count; ++i) {
    json arg = {{"reportId", "r-" + std::to_string(i)},
                {"patientRef", kPatient},
                {"cid", kCid},
                {"contentHash", HexEncode(crypto::Sha256("report " + std::to_string(i)))}};
    ledger.SubmitAsync(doctor, {"CreateReport", {arg.dump()}}, [&](Result<ledger::TxReceipt> r) {
      EXPECT_TRUE(r.ok()) << r.error().ToString();
      std::lock_guard lock(mu);
      if (--pending == 0) cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << file;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
}

class LogAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = identity::Organization::Create(dir_.path(), "Org1").value();
    ASSERT_TRUE(org_->AddUser({"doc", identity::Role::kDoctor, "", std::nullopt}).ok());
    ledger_ = OpenLedger(*org_);
    ASSERT_NE(ledger_, nullptr);
    admin_ = std::make_unique<identity::SigningIdentity>(org_->LoadIdentity("admin").value());
    doctor_ = std::make_unique<identity::SigningIdentity>(org_->LoadIdentity("doc").value());
    ASSERT_TRUE(ledger_->Submit(*admin_, {"RegisterPatient", {json{{"patientRef", kPatient}}.dump()}}).ok());
    log_ = OpenLog(*ledger_, *org_, dir_.path());
    ASSERT_NE(log_, nullptr);
  }

  // Reports folded in and checkpointed (and anchored) in rounds; the last `unfolded` reports are committed
  // but not yet in the stored log, as when the server is behind by a block or two.
  void BuildLog(const std::vector<int>& rounds, int unfolded) {
    int next = 0;
    for (int n : rounds) {
      CreateReports(*ledger_, *doctor_, next, n);
      next += n;
      ASSERT_TRUE(log_->CatchUp().ok());
      ASSERT_TRUE(log_->PublishIfGrown().ok());
    }
    if (unfolded > 0) CreateReports(*ledger_, *doctor_, next, unfolded);
  }

  // What `medledger verify` does once the server has stopped.
  Result<LogAuditReport> Audit() {
    log_.reset();
    ML_ASSIGN_OR_RETURN(OpenedLog opened, OpenStoredLog(dir_.path() / "log"));
    ML_ASSIGN_OR_RETURN(ledger::ChainInfo info, ledger_->GetChainInfo());
    return AuditLog([this](uint64_t n) { return ledger_->GetBlock(n); }, info.height, opened.stored, {});
  }

  void SubmitAnchor(uint64_t size, const std::string& root_hex) {
    auto who = org_->ServiceIdentity().value();
    json arg = {{"origin", kOrigin}, {"treeSize", size}, {"rootHash", root_hex}};
    auto r = ledger_->Submit(who, {"AnchorCheckpoint", {arg.dump()}});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  medledger::testing::TempDir dir_{"log-audit"};
  std::unique_ptr<identity::Organization> org_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;
  std::unique_ptr<identity::SigningIdentity> admin_;
  std::unique_ptr<identity::SigningIdentity> doctor_;
  std::unique_ptr<service::ReportLog> log_;
};

TEST_F(LogAuditTest, ACleanLogPassesAndMayLagTheChain) {
  // 300 leaves: the stored tile level above the leaves (256-leaf subtrees) is compared too.
  BuildLog({40, 260, 5}, 3);
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->ok) << report->problem << ": " << report->detail;
  EXPECT_EQ(report->leaves, 308u);
  EXPECT_TRUE(report->stored);
  EXPECT_EQ(report->stored_size, 305u);
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(report->anchors, 3u);
}

TEST_F(LogAuditTest, ADataDirectoryWithoutALogOnlyChecksTheAnchors) {
  CreateReports(*ledger_, *doctor_, 0, 3);
  log_.reset();
  fs::remove_all(dir_.path() / "log");
  auto opened = OpenStoredLog(dir_.path() / "log");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->stored.tree, nullptr);
  const uint64_t height = ledger_->GetChainInfo()->height;
  auto report = AuditLog([this](uint64_t n) { return ledger_->GetBlock(n); }, height, opened->stored, {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_FALSE(report->stored);
  EXPECT_EQ(report->leaves, 3u);
}

TEST_F(LogAuditTest, AnAlteredLeafIsNamed) {
  BuildLog({10}, 0);
  log_.reset();
  // Leaf 4's bytes: its offset is entries.index[3] (the end of leaf 3).
  std::ifstream index(dir_.path() / "log" / "tree" / "entries.index", std::ios::binary);
  unsigned char end3[8];
  index.seekg(3 * 8);
  index.read(reinterpret_cast<char*>(end3), 8);
  uint64_t offset = 0;
  for (unsigned char c : end3) offset = (offset << 8) | c;
  FlipByte(dir_.path() / "log" / "tree" / "entries.data", offset + 20);
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->problem, "log_leaf_mismatch");
  EXPECT_EQ(report->at, 4u);
}

TEST_F(LogAuditTest, AnAlteredLeafHashIsNamed) {
  BuildLog({10}, 0);
  log_.reset();
  FlipByte(dir_.path() / "log" / "tree" / "level-0.hashes", 7 * tlog::kHashSize + 3);
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->problem, "log_hash_mismatch");
  EXPECT_EQ(report->at, 7u);
}

TEST_F(LogAuditTest, AnAnchorWithAWrongRootIsNamed) {
  BuildLog({6}, 0);
  // A new size (the contract refuses a second root for an anchored size), submitted as the service identity.
  CreateReports(*ledger_, *doctor_, 100, 2);
  SubmitAnchor(8, std::string(64, 'e'));
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->problem, "anchor_root_mismatch");
  EXPECT_EQ(report->at, 8u);
}

TEST_F(LogAuditTest, AnAnchorBeyondTheLeavesBeforeItIsNamed) {
  BuildLog({6}, 0);
  // The right root of a size the chain has not reached when the anchor commits.
  CreateReports(*ledger_, *doctor_, 100, 1);
  ASSERT_TRUE(log_->CatchUp().ok());
  SubmitAnchor(8, std::string(64, '0'));
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->problem, "anchor_ahead_of_log");
  EXPECT_EQ(report->at, 8u);
}

TEST_F(LogAuditTest, ASavedCheckpointOverAnotherRootIsNamed) {
  BuildLog({5}, 0);
  log_.reset();
  const fs::path file = dir_.path() / "log" / "checkpoints.json";
  std::ifstream in(file);
  json saved = json::parse(in);
  in.close();
  ASSERT_EQ(saved.size(), 1u);
  // Correctly signed by the log key, over a root the blocks do not give.
  auto key = LogKey(dir_.path());
  const std::string forged =
      tlog::SignNote(tlog::FormatCheckpoint({kOrigin, 5, std::string(32, '\x07'), {}}), key).value();
  json tampered = saved;
  tampered[0]["note"] = forged;
  std::ofstream(file, std::ios::trunc) << tampered.dump();
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->problem, "checkpoint_root_mismatch");
  EXPECT_EQ(report->at, 5u);

  // One character of the signed note changed: the signature no longer verifies.
  std::string note = saved[0]["note"].get<std::string>();
  note[note.size() - 5] = note[note.size() - 5] == 'A' ? 'B' : 'A';
  tampered[0]["note"] = note;
  std::ofstream(file, std::ios::trunc) << tampered.dump();
  auto again = Audit();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->problem, "checkpoint_signature_invalid");
}

TEST_F(LogAuditTest, ASavedCosignatureThatNoLongerVerifiesIsNamed) {
  BuildLog({4}, 0);
  log_.reset();
  const fs::path log_dir = dir_.path() / "log";
  auto witness = tlog::NoteSigner::Generate("witness.test/w1", tlog::SignatureType::kCosignatureV1).value();
  auto stranger = tlog::NoteSigner::Generate("witness.test/w2", tlog::SignatureType::kCosignatureV1).value();
  std::ifstream trust_in(log_dir / "trust.json");
  json trust = json::parse(trust_in);
  trust_in.close();
  trust["witnessVkeys"] = {witness.Verifier().ToString()};
  std::ofstream(log_dir / "trust.json", std::ios::trunc) << trust.dump();
  std::ifstream saved_in(log_dir / "checkpoints.json");
  json saved = json::parse(saved_in);
  saved_in.close();
  ASSERT_EQ(saved.size(), 1u);
  const std::string text =
      tlog::OpenCheckpoint(saved[0]["note"].get<std::string>(), LogKey(dir_.path()).Verifier()).value().note.text;
  auto line = [&](const tlog::NoteSigner& w) {
    std::string l = tlog::Cosign(w, text, 1765000000).value().Line();
    l.pop_back();  // stored without the newline, as the server keeps them
    return l;
  };
  const std::string good = line(witness);
  saved[0]["cosignatures"] = {good, line(stranger)};
  std::ofstream(log_dir / "checkpoints.json", std::ios::trunc) << saved.dump();
  auto clean = Audit();
  ASSERT_TRUE(clean.ok()) << clean.error().ToString();
  EXPECT_TRUE(clean->ok) << clean->problem << ": " << clean->detail;
  EXPECT_EQ(clean->cosignatures, 1u);
  EXPECT_EQ(clean->unknown_cosignatures, 1u);

  std::string altered = good;
  const size_t i = altered.size() - 3;
  altered[i] = altered[i] == 'A' ? 'B' : 'A';
  saved[0]["cosignatures"] = {altered};
  std::ofstream(log_dir / "checkpoints.json", std::ios::trunc) << saved.dump();
  auto report = Audit();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->problem, "cosignature_invalid");
  EXPECT_EQ(report->at, 4u);
}

TEST_F(LogAuditTest, ALogHeldByARunningServerIsReportedAsInUse) {
  BuildLog({2}, 0);
  auto opened = OpenStoredLog(dir_.path() / "log");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, "log_in_use");
}

// The crash child: reports committed in the background while the follower folds and checkpoints; reports each
// committed log size. Killed at a random moment by the parent.
TEST(LogAuditCrashChild, FollowLoop) {
  const char* dir = std::getenv(kCrashDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a crash-test child";
  const int fd = medledger::testing::CrashChildFd();
  auto org = identity::Organization::Open(dir).value();
  auto ledger = OpenLedger(*org);
  if (ledger == nullptr) std::_Exit(2);
  auto doctor = org->LoadIdentity("doc").value();
  auto log = OpenLog(*ledger, *org, dir);
  if (log == nullptr) std::_Exit(3);
  std::thread writer([&] {
    const int base = static_cast<int>(::getpid()) * 1000;
    for (int i = 0;; i += 8) CreateReports(*ledger, doctor, base + i, 8);
  });
  for (;;) {
    auto size = log->CatchUp();
    if (!size.ok()) std::_Exit(4);
    if (!log->PublishIfGrown().ok()) std::_Exit(5);
    medledger::testing::ReportAcknowledged(fd, *size);
  }
}

TEST(LogAuditCrash, KillDashNineLeavesALogThatMatchesTheBlocks) {
  medledger::testing::TempDir dir("log-audit-crash");
  {
    auto org = identity::Organization::Create(dir.path(), "Org1").value();
    ASSERT_TRUE(org->AddUser({"doc", identity::Role::kDoctor, "", std::nullopt}).ok());
    auto ledger = OpenLedger(*org);
    ASSERT_NE(ledger, nullptr);
    auto admin = org->LoadIdentity("admin").value();
    ASSERT_TRUE(ledger->Submit(admin, {"RegisterPatient", {json{{"patientRef", kPatient}}.dump()}}).ok());
    LogKey(dir.path());
  }
  const int seed = ::testing::UnitTest::GetInstance()->random_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 4; ++round) {
    const int64_t last = medledger::testing::RunAndKill("LogAuditCrashChild.FollowLoop",
                                                        {std::string(kCrashDirVar) + "=" + dir.path().string()}, rng,
                                                        std::chrono::microseconds(500000));
    ASSERT_GE(last, 0) << "round " << round;
    auto org = identity::Organization::Open(dir.path()).value();
    auto ledger = OpenLedger(*org);
    ASSERT_NE(ledger, nullptr);
    {
      // As found after the crash: whatever was committed agrees with the blocks.
      auto opened = OpenStoredLog(dir.path() / "log");
      ASSERT_TRUE(opened.ok()) << opened.error().ToString();
      EXPECT_GE(opened->stored.tree->CommittedSize(), static_cast<uint64_t>(last)) << "round " << round;
      auto report =
          AuditLog([&](uint64_t n) { return ledger->GetBlock(n); }, ledger->GetChainInfo()->height, opened->stored, {});
      ASSERT_TRUE(report.ok()) << report.error().ToString();
      EXPECT_TRUE(report->ok) << "round " << round << ": " << report->problem << ": " << report->detail;
    }
    // And the restarted follower catches up to exactly the derived log.
    auto log = OpenLog(*ledger, *org, dir.path());
    ASSERT_NE(log, nullptr);
    auto size = log->CatchUp();
    ASSERT_TRUE(size.ok()) << size.error().ToString();
    log.reset();
    auto opened = OpenStoredLog(dir.path() / "log");
    ASSERT_TRUE(opened.ok());
    auto report =
        AuditLog([&](uint64_t n) { return ledger->GetBlock(n); }, ledger->GetChainInfo()->height, opened->stored, {});
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_TRUE(report->ok) << "round " << round << ": " << report->problem << ": " << report->detail;
    EXPECT_EQ(report->stored_size, report->leaves) << "round " << round;
    EXPECT_GT(report->leaves, 0u);
  }
}

}  // namespace
}  // namespace medledger::reportlog
