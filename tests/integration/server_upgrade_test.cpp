// Upgrades (docs/OPERATIONS.md, "Upgrades: format versions"): a data directory written by the release before
// format versions (tests/fixtures/datadir-v1) is upgraded, verified and served by this build, and every
// report reads back as that release recorded it; a directory from a newer release is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "server_harness.h"
#include "source_dir.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path kFixture = fs::path(MEDLEDGER_SOURCE_DIR) / "tests/fixtures/datadir-v1";

class FixtureCopy {
 public:
  FixtureCopy() {
    char tmpl[] = "/tmp/medledger-upgrade-test-XXXXXX";
    root_ = mkdtemp(tmpl);
    fs::copy(kFixture / "data", data(), fs::copy_options::recursive);
    // Git keeps no modes (a checkout makes 0644/0755, which the master key refuses): narrow them to what the
    // release that wrote the directory left, 0600 files in 0700 directories.
    fs::permissions(data(), fs::perms::owner_all, fs::perm_options::replace);
    for (const auto& entry : fs::recursive_directory_iterator(data())) {
      fs::permissions(entry.path(),
                      entry.is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::replace);
    }
  }
  ~FixtureCopy() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  FixtureCopy(const FixtureCopy&) = delete;
  FixtureCopy& operator=(const FixtureCopy&) = delete;
  fs::path data() const { return root_ / "data"; }

 private:
  fs::path root_;
};

json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// 409 receipt_not_ready until the log's next checkpoint covers the entry: ask again, a bounded number of times.
HttpResult GetReceipt(const ServerProcess& server, const std::string& path, const std::string& token) {
  HttpResult r;
  for (int i = 0; i < 100; ++i) {
    r = server.Get(path, token);
    if (r.status != 409) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return r;
}

TEST(ServerUpgradeTest, DataDirectoryOfThePreviousReleaseUpgradesVerifiesAndReadsBackUnchanged) {
  ASSERT_TRUE(fs::exists(kFixture / "expected.json")) << kFixture;
  const json expected = ReadJson(kFixture / "expected.json");
  FixtureCopy copy;
  const std::string data = copy.data().string();
  ASSERT_FALSE(fs::exists(copy.data() / "FORMAT")) << "the fixture predates format versions";

  // verify is a read-only open: it passes and writes no FORMAT file.
  auto before = RunMedledger("verify --data '" + data + "'");
  ASSERT_EQ(before.exit_code, 0) << before.output;
  EXPECT_FALSE(fs::exists(copy.data() / "FORMAT")) << "a read-only open must not write FORMAT";

  auto upgraded = RunMedledger("upgrade --data '" + data + "'");
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.output;
  EXPECT_NE(upgraded.output.find("from before format versions"), std::string::npos) << upgraded.output;
  ASSERT_TRUE(fs::exists(copy.data() / "FORMAT"));
  const json format = ReadJson(copy.data() / "FORMAT");
  for (const char* store :
       {"ledger.blocks", "ledger.state", "content", "keystore", "reportlog", "identity", "patients"}) {
    EXPECT_EQ(format["formats"].value(store, 0), 1) << store;
  }
  auto again = RunMedledger("upgrade --data '" + data + "'");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to do"), std::string::npos) << again.output;

  auto verified = RunMedledger("verify --data '" + data + "'");
  ASSERT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("ledger OK"), std::string::npos) << verified.output;

  ServerProcess server(data, {"--insecure-fast-passwords"});
  ASSERT_TRUE(server.ok()) << "the server did not start on the upgraded directory";
  std::ifstream creds(copy.data() / "demo-credentials.txt");
  for (std::string line; std::getline(creds, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string user, role, password;
    ss >> user >> role >> password;
    server.SetPassword(user, password);
  }
  const std::string doctor = server.Login("dr.house");
  ASSERT_FALSE(doctor.empty());

  ASSERT_EQ(expected["reports"].size(), 3u);
  for (const auto& report : expected["reports"]) {
    const std::string id = report["reportId"];
    SCOPED_TRACE(id);
    auto history = server.Get("/api/v1/reports/" + id + "/history", doctor);
    ASSERT_EQ(history.status, 200) << history.body;
    const json items = ParseBody(history)["items"];
    ASSERT_EQ(items.size(), report["versionCount"].get<size_t>());
    for (const auto& want : report["versions"]) {
      bool found = false;
      for (const auto& got : items) {
        if (got["version"] != want["version"]) continue;
        found = true;
        EXPECT_EQ(got["cid"], want["cid"]);
        EXPECT_EQ(got["contentHash"], want["contentHash"]);
        EXPECT_EQ(got["txId"], want["txId"]);
      }
      EXPECT_TRUE(found) << "version " << want["version"];
      auto receipt = GetReceipt(server, "/api/v1/reports/" + id + "/receipt?version=" + want["version"].dump(), doctor);
      EXPECT_EQ(receipt.status, 200) << receipt.body;
      EXPECT_NE(receipt.body.find(want["cid"].get<std::string>()), std::string::npos) << receipt.body;
    }
    auto read = server.Get("/api/v1/reports/" + id, doctor);
    if (report["erased"].get<bool>()) {
      EXPECT_EQ(read.status, 410) << read.body;
      EXPECT_EQ(ProblemCode(read), "content_erased");
      continue;
    }
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(ParseBody(read)["cid"], report["cid"]);
    EXPECT_EQ(ParseBody(read)["contentHash"], report["contentHash"]);
    EXPECT_EQ(ParseBody(read)["version"], report["versionCount"]);
  }
}

TEST(ServerUpgradeTest, ServeRefusesADirectoryWrittenByANewerRelease) {
  FixtureCopy copy;
  std::ofstream(copy.data() / "FORMAT")
      << R"({"formats": {"ledger.blocks": 1, "ledger.state": 2, "content": 1}, "writtenBy": "medledger 3.1.0"})";
  const char* bin_dir = std::getenv("MEDLEDGER_BIN_DIR");
  const std::string bin = std::string(bin_dir ? bin_dir : ".") + "/src/app/medledger";
  // `timeout`: a build without the check would serve until killed (exit 124).
  auto served = RunCommand("timeout 60 '" + bin + "' serve --data '" + copy.data().string() +
                           "' --listen 127.0.0.1:0 --insecure-fast-passwords");
  EXPECT_EQ(served.exit_code, 1) << served.output;
  EXPECT_NE(served.output.find("format_too_new"), std::string::npos) << served.output;
  EXPECT_NE(served.output.find("medledger 3.1.0"), std::string::npos) << served.output;
  for (const char* command : {"verify", "upgrade", "ledger info"}) {
    auto refused = RunMedledger(std::string(command) + " --data '" + copy.data().string() + "'");
    EXPECT_NE(refused.exit_code, 0) << command;
    EXPECT_NE(refused.output.find("[format_too_new]"), std::string::npos) << command << ": " << refused.output;
  }
}

}  // namespace
}  // namespace medledger::testing
