// Backup and restore end to end with the real binary (docs/OPERATIONS.md): a backup taken while the server
// serves and writes, restored into a new directory that `medledger verify` accepts and a second server serves
// with the same reports, CIDs, attachments and receipts; an incremental backup; an erased report that stays
// erased; refusals of damaged, foreign-key and incomplete backups; and kill -9 in the middle of a backup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.h"

extern char** environ;

namespace medledger::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string BinaryPath() {
  const char* dir = std::getenv("MEDLEDGER_BIN_DIR");
  return std::string(dir ? dir : ".") + "/src/app/medledger";
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A backup key file as the runbook makes one (base64 of 32 random bytes, mode 0600).
std::string WriteKeyFile(const fs::path& p) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::random_device rd;
  std::string raw;
  for (int i = 0; i < 32; ++i) raw.push_back(static_cast<char>(rd() & 0xff));
  std::string b64;
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<uint8_t>(raw[i + 1]) << 8;
    if (i + 2 < raw.size()) v |= static_cast<uint8_t>(raw[i + 2]);
    b64.push_back(kAlphabet[(v >> 18) & 63]);
    b64.push_back(kAlphabet[(v >> 12) & 63]);
    b64.push_back(i + 1 < raw.size() ? kAlphabet[(v >> 6) & 63] : '=');
    b64.push_back(i + 2 < raw.size() ? kAlphabet[v & 63] : '=');
  }
  std::ofstream(p) << b64 << "\n";
  ::chmod(p.c_str(), 0600);
  return p.string();
}

uint64_t DirBytes(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

// What a reader saw of one report: the document, the receipt's content, leaf and ledger parts, an attachment.
struct Seen {
  std::string cid;
  std::string content;
  json receipt;
  std::string attachment;
};

json ReceiptCore(const ServerProcess& server, const std::string& id, const std::string& token) {
  for (int i = 0; i < 200; ++i) {  // the log folds a block in shortly after it commits
    auto r = server.Get("/api/v1/reports/" + id + "/receipt", token);
    if (r.status == 200) {
      json j = ParseBody(r);
      return json{{"content", j["content"]}, {"leaf", j["leaf"]}, {"ledger", j["ledger"]}};
    }
    if (ProblemCode(r) != "receipt_not_ready") return json{{"status", r.status}, {"body", r.body}};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return json{{"status", "receipt never ready"}};
}

Seen Read(const ServerProcess& server, const std::string& id, const std::string& token, bool attachment) {
  Seen s;
  auto r = server.Get("/api/v1/reports/" + id, token);
  if (r.status != 200) {
    s.cid = "status " + std::to_string(r.status) + " " + ProblemCode(r);
    return s;
  }
  json j = ParseBody(r);
  s.cid = j.value("cid", "");
  s.content = j.value("content", "");
  s.receipt = ReceiptCore(server, id, token);
  if (attachment) s.attachment = server.Get("/api/v1/reports/" + id + "/attachments/0", token).body;
  return s;
}

// Logs in to a server on a restored demo directory with the demo passwords it holds.
void UseDemoPasswords(ServerProcess& server, const fs::path& data) {
  std::ifstream creds(data / "demo-credentials.txt");
  std::string user, role, password;
  std::string line;
  while (std::getline(creds, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream(line) >> user >> role >> password;
    server.SetPassword(user, password);
  }
}

class Reports {
 public:
  Reports(const ServerProcess& server, std::string token, std::string patient)
      : server_(server), token_(std::move(token)), patient_(std::move(patient)) {}
  std::string Submit(const std::string& text) {
    json body = {{"patientId", patient_}, {"title", "Backup"}, {"diagnosis", "d"}, {"content", text}};
    auto r = server_.PostJson("/api/v1/reports", body.dump(), token_);
    return r.status == 201 ? ParseBody(r).value("reportId", "") : "";
  }

 private:
  const ServerProcess& server_;
  std::string token_;
  std::string patient_;
};

TEST(ServerBackupTest, BackupWhileServingRestoresToAServerWithTheSameReportsReceiptsAndErasures) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const fs::path root = server.data_dir();
  const std::string data = (root / "data").string();
  const std::string key = WriteKeyFile(root / "backup.key");
  const std::string out = (root / "backups").string();
  Reports reports(server, doctor, alice);

  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(reports.Submit("Report " + std::to_string(i) + ": findings unremarkable."));
    ASSERT_FALSE(ids.back().empty());
  }
  auto amended = server.PostJson("/api/v1/reports/" + ids[0] + "/amendments",
                                 json{{"content", "Amended: lesion 5 mm."}, {"reason", "re-measured"}}.dump(), doctor);
  ASSERT_EQ(amended.status, 201) << amended.body;
  const std::string pdf = std::string("%PDF-1.7\r\n%\xE2\xE3\xCF\xD3\r\n", 16) + "1 0 obj\n%%EOF\n";
  const std::string form = "--B1\r\nContent-Disposition: form-data; name=\"patientId\"\r\n\r\n" + alice +
                           "\r\n--B1\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nECG\r\n"
                           "--B1\r\nContent-Disposition: form-data; name=\"diagnosis\"\r\n\r\nAF\r\n"
                           "--B1\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nIrregular rhythm.\r\n"
                           "--B1\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"ecg.pdf\"\r\n"
                           "Content-Type: application/pdf\r\n\r\n" +
                           pdf + "\r\n--B1--\r\n";
  auto with_file =
      server.Request("POST", "/api/v1/reports", form,
                     {"Authorization: Bearer " + doctor, "Content-Type: multipart/form-data; boundary=B1"});
  ASSERT_EQ(with_file.status, 201) << with_file.body;
  const std::string attached = ParseBody(with_file).value("reportId", "");
  const std::string erased = ids[1];
  const std::string admin = server.Login("admin");
  auto erase =
      server.PostJson("/api/v1/reports/" + erased + "/erasure", json{{"reason", "patient_request"}}.dump(), admin);
  ASSERT_EQ(erase.status, 200) << erase.body;

  // Backup 1 while a client keeps submitting.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> concurrent;
  std::thread writer([&] {
    Reports own(server, doctor, alice);
    for (int i = 0; !stop; ++i) {
      std::string id = own.Submit("Concurrent report " + std::to_string(i));
      std::lock_guard lock(mu);
      if (!id.empty()) concurrent.push_back(id);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto first = RunMedledger("backup --data '" + data + "' --out '" + out + "' --key-file '" + key + "'");
  stop = true;
  writer.join();
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("backup-000001"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find(": full"), std::string::npos) << first.output;
  ASSERT_FALSE(concurrent.empty());

  // Backup 2, incremental, after more reports.
  std::vector<std::string> later;
  for (int i = 0; i < 3; ++i) later.push_back(reports.Submit("Later report " + std::to_string(i)));
  auto second = RunMedledger("backup --data '" + data + "' --out '" + out + "' --key-file '" + key + "'");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("incremental on backup-000001"), std::string::npos) << second.output;
  const uint64_t full_bytes = DirBytes(fs::path(out) / "backup-000001");
  const uint64_t incremental_bytes = DirBytes(fs::path(out) / "backup-000002");
  EXPECT_LT(incremental_bytes * 2, full_bytes) << "the incremental backup copied more than half of the full one";

  // An erasure after the newest backup: its ledger does not have it, the exported journal does.
  const std::string erased_later = later[2];
  auto erase_later = server.PostJson("/api/v1/reports/" + erased_later + "/erasure",
                                     json{{"reason", "legal_order"}, {"note", "court order 17"}}.dump(), admin);
  ASSERT_EQ(erase_later.status, 200) << erase_later.body;
  const fs::path journal = root / "erasures-exported.jsonl";
  fs::copy_file(fs::path(data) / "server/erasures.jsonl", journal);

  // What every reader sees now (the erased reports: 410).
  std::vector<std::string> readable = ids;
  readable.erase(readable.begin() + 1);
  later.pop_back();
  readable.push_back(attached);
  readable.insert(readable.end(), concurrent.begin(), concurrent.end());
  readable.insert(readable.end(), later.begin(), later.end());
  std::map<std::string, Seen> before;
  for (const auto& id : readable) before[id] = Read(server, id, doctor, id == attached);
  ASSERT_EQ(server.Get("/api/v1/reports/" + erased, doctor).status, 410);

  // Refusals, each exit 2 with its code, and NEW never created.
  const fs::path refused = root / "refused";
  const fs::path other_key = WriteKeyFile(root / "other.key");
  auto wrong = RunMedledger("restore --from '" + out + "' --key-file '" + other_key.string() + "' --data '" +
                            refused.string() + "'");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("backup_key_wrong"), std::string::npos) << wrong.output;
  const fs::path damaged = root / "damaged";
  fs::copy(out, damaged, fs::copy_options::recursive);
  // The largest file of the incremental backup (the new blocks, packs or log), its name a hash of its path.
  fs::path chunk;
  for (const auto& e : fs::directory_iterator(damaged / "backup-000002/files")) {
    if (chunk.empty() || e.file_size() > fs::file_size(chunk)) chunk = e.path();
  }
  std::string bytes = ReadAll(chunk);
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  std::ofstream(chunk, std::ios::binary | std::ios::trunc) << bytes;
  auto flipped = RunMedledger("restore --from '" + damaged.string() + "' --key-file '" + key + "' --data '" +
                              refused.string() + "'");
  EXPECT_EQ(flipped.exit_code, 2) << flipped.output;
  EXPECT_NE(flipped.output.find("backup_corrupted"), std::string::npos) << flipped.output;
  EXPECT_NE(flipped.output.find(chunk.filename().string()), std::string::npos) << flipped.output;
  fs::remove(damaged / "backup-000002/manifest.json.enc");
  auto no_manifest = RunMedledger("restore --from '" + damaged.string() + "' --key-file '" + key + "' --data '" +
                                  refused.string() + "' --backup 2");
  EXPECT_EQ(no_manifest.exit_code, 2) << no_manifest.output;
  EXPECT_NE(no_manifest.output.find("backup_incomplete"), std::string::npos) << no_manifest.output;
  EXPECT_FALSE(fs::exists(refused));
  EXPECT_FALSE(fs::exists(root / "refused.restoring"));

  // Restore the newest (the chain of both) into a new directory: verify passes.
  const fs::path restored = root / "restored";
  auto restore = RunMedledger("restore --from '" + out + "' --key-file '" + key + "' --data '" + restored.string() +
                              "' --erasure-journal '" + journal.string() + "'");
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_NE(restore.output.find("chain of 2 backups"), std::string::npos) << restore.output;
  EXPECT_NE(restore.output.find("1 erased again on the restored ledger, 1 already erased in the backup"),
            std::string::npos)
      << restore.output;
  EXPECT_NE(restore.output.find("ledger OK"), std::string::npos) << restore.output;
  auto verify = RunMedledger("verify --data '" + restored.string() + "'");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_FALSE(fs::exists(restored / "server/refresh-tokens.json"));

  // A server on the restored directory serves the same reports, attachment and receipts; the erasure holds.
  {
    ServerProcess again(restored.string(), {});
    ASSERT_TRUE(again.ok()) << "the server did not start on the restored directory";
    UseDemoPasswords(again, restored);
    const std::string token = again.Login("dr.house");
    ASSERT_FALSE(token.empty());
    for (const auto& id : readable) {
      Seen now = Read(again, id, token, id == attached);
      EXPECT_EQ(now.cid, before[id].cid) << id;
      EXPECT_EQ(now.content, before[id].content) << id;
      EXPECT_EQ(now.receipt, before[id].receipt) << id;
      EXPECT_EQ(now.attachment, before[id].attachment) << id;
    }
    EXPECT_EQ(before[attached].attachment, pdf);
    for (const auto& id : {erased, erased_later}) {
      auto gone = again.Get("/api/v1/reports/" + id, token);
      EXPECT_EQ(gone.status, 410) << id << " " << gone.body;
      EXPECT_EQ(ProblemCode(gone), "content_erased") << id;
    }
  }

  // Backup 1 alone: the reports before it; of those submitted while it ran, each is wholly there or absent.
  const fs::path older = root / "older";
  auto restore1 =
      RunMedledger("restore --from '" + out + "' --key-file '" + key + "' --data '" + older.string() + "' --backup 1");
  ASSERT_EQ(restore1.exit_code, 0) << restore1.output;
  ServerProcess old_server(older.string(), {});
  ASSERT_TRUE(old_server.ok());
  UseDemoPasswords(old_server, older);
  const std::string token = old_server.Login("dr.house");
  for (const auto& id : ids) {
    if (id == erased) continue;
    EXPECT_EQ(Read(old_server, id, token, false).cid, before[id].cid) << id;
  }
  EXPECT_EQ(old_server.Get("/api/v1/reports/" + later[0], token).status, 404);
  size_t present = 0;
  for (const auto& id : concurrent) {
    auto r = old_server.Get("/api/v1/reports/" + id, token);
    ASSERT_TRUE(r.status == 200 || r.status == 404) << id << " " << r.status << " " << r.body;
    if (r.status == 200) {
      ++present;
      EXPECT_EQ(ParseBody(r).value("content", ""), before[id].content) << id;
    }
  }
  EXPECT_GT(present, 0u) << "no report submitted before the backup's ledger cut is in it";
}

// Spawns `medledger backup`, waits until it has created `dir` (its backup directory), then SIGKILLs it after
// `after`; true when it was still running when killed.
bool BackupKilledAfter(const std::vector<std::string>& args, const fs::path& dir, std::chrono::milliseconds after) {
  std::vector<std::string> full = {BinaryPath(), "backup"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) return false;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  for (int i = 0; i < 6000 && !fs::exists(dir); ++i) {
    if (::waitpid(pid, &status, WNOHANG) != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto deadline = std::chrono::steady_clock::now() + after;
  do {
    if (::waitpid(pid, &status, WNOHANG) != 0) return false;  // it finished first
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return true;
}

TEST(ServerBackupTest, KillNineDuringABackupLeavesABackupThatIsRefusedNeverPartial) {
  ServerProcess server;
  ASSERT_TRUE(server.ok());
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  Reports reports(server, doctor, alice);
  const std::string first_id = reports.Submit("Before any backup.");
  ASSERT_FALSE(first_id.empty());
  const fs::path root = server.data_dir();
  const fs::path data = root / "data";
  const std::string key = WriteKeyFile(root / "backup.key");
  const fs::path out = root / "backups";
  auto first =
      RunMedledger("backup --data '" + data.string() + "' --out '" + out.string() + "' --key-file '" + key + "'");
  ASSERT_EQ(first.exit_code, 0) << first.output;

  // Enough data that a backup takes a while (seconds here): 192 MiB the server does not read.
  {
    std::ofstream ballast(data / "server/ballast.bin", std::ios::binary);
    std::mt19937_64 rng(7);
    std::string block(1 << 20, '\0');
    for (int i = 0; i < 192; ++i) {
      for (auto& c : block) c = static_cast<char>(rng());
      ballast << block;
    }
  }
  reports.Submit("After the first backup.");
  int killed = 0;
  uint64_t number = 1;
  uint64_t last_complete = 1;
  for (int ms : {0, 300, 1000, 60000}) {
    ++number;
    char name[32];
    std::snprintf(name, sizeof name, "backup-%06llu", static_cast<unsigned long long>(number));
    bool mid = BackupKilledAfter({"--full", "--data", data.string(), "--out", out.string(), "--key-file", key},
                                 out / name, std::chrono::milliseconds(ms));
    const fs::path to = root / ("after-kill-" + std::to_string(ms));
    auto r = RunMedledger("restore --from '" + out.string() + "' --key-file '" + key + "' --data '" + to.string() +
                          "' --backup " + std::to_string(number));
    // A kill can land after the manifest's rename, while the process is still exiting: that backup is whole.
    if (mid && !fs::exists(out / name / "manifest.json.enc")) {
      ++killed;
      // Killed before its manifest: refused as incomplete, never restored partially.
      EXPECT_EQ(r.exit_code, 2) << ms << " ms: " << r.output;
      EXPECT_NE(r.output.find("backup_incomplete"), std::string::npos) << r.output;
      EXPECT_FALSE(fs::exists(to));
    } else {
      EXPECT_EQ(r.exit_code, 0) << ms << " ms: the backup has its manifest, so it restores whole: " << r.output;
      last_complete = number;
    }
  }
  EXPECT_GT(killed, 0) << "no kill landed while a backup was running; the ballast is too small for this machine";
  ASSERT_TRUE(fs::remove(data / "server/ballast.bin"));

  EXPECT_EQ(last_complete, number) << "the last backup, never killed, must have finished";
  // The complete backup before the kills still restores, and the next backup chains to the newest complete
  // one past the killed ones.
  const fs::path restored = root / "restored";
  auto r = RunMedledger("restore --from '" + out.string() + "' --key-file '" + key + "' --data '" + restored.string() +
                        "' --backup 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("report log OK"), std::string::npos) << r.output;
  auto next =
      RunMedledger("backup --data '" + data.string() + "' --out '" + out.string() + "' --key-file '" + key + "'");
  ASSERT_EQ(next.exit_code, 0) << next.output;
  char parent[64];
  std::snprintf(parent, sizeof parent, "incremental on backup-%06llu", static_cast<unsigned long long>(last_complete));
  EXPECT_NE(next.output.find(parent), std::string::npos) << next.output;
  EXPECT_NE(next.output.find("no manifest"), std::string::npos) << next.output;
}

}  // namespace
}  // namespace medledger::testing
