// No free text from a user on the immutable ledger (issue 15, item 4): amendment reasons, break-glass reasons and
// consent purposes are sealed, erasable content; the ledger keeps codes and CIDs. Allowed readers still see the
// words (the auditor the break-glass reason, the patient the consent purpose); after the erasure of the
// report, its markers are nowhere under the data directory, byte for byte, in any file (ledger blocks, state
// database, content packs, key log). Patient login names stay off the ledger too.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Every regular file under `dir` that holds `needle` byte-wise (relative paths).
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) hits.push_back(fs::relative(entry.path(), dir).string());
  }
  return hits;
}

// Every value of a "username" field in the files under `dir` (JSON as stored: "username":"<value>").
std::set<std::string> UsernameValues(const std::string& dir) {
  static const std::string kField = "\"username\":\"";
  std::set<std::string> values;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t at = bytes.find(kField); at != std::string::npos; at = bytes.find(kField, at + 1)) {
      const size_t start = at + kField.size();
      values.insert(bytes.substr(start, bytes.find('"', start) - start));
    }
  }
  return values;
}

std::string InDays(int days) {
  std::time_t t = std::time(nullptr) + days * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + " ";
  return out;
}

TEST(ServerPrivacyTest, FreeTextIsSealedOffTheLedgerAndGoneAfterErasure) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string house = server.Login("dr.house");
  const std::string grey = server.Login("dr.grey");
  const std::string patient = server.Login("alice");
  const std::string auditor = server.Login("audrey");
  const std::string alice = ParseBody(server.Get("/api/v1/me", patient)).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string data = server.data_dir() + "/data";

  const std::string amend_marker = "AMENDMARKER7f3a9c";
  const std::string glass_marker = "GLASSMARKER51e2d0";
  const std::string purpose_marker = "PURPOSEMARKER0b9e44";

  json body = {
      {"patientId", alice}, {"title", "Cardiology"}, {"diagnosis", "Atrial fibrillation"}, {"content", "ECG."}};
  auto submitted = server.PostJson("/api/v1/reports", body.dump(), house);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const std::string id = ParseBody(submitted).value("reportId", "");
  auto amended =
      server.PostJson("/api/v1/reports/" + id + "/amendments",
                      json{{"content", "ECG repeated."}, {"reason", "corrected lead " + amend_marker}}.dump(), house);
  ASSERT_EQ(amended.status, 201) << amended.body;
  auto glass = server.PostJson("/api/v1/reports/" + id + "/emergency-access",
                               json{{"reason", "collapsed in the ward " + glass_marker}}.dump(), grey);
  ASSERT_EQ(glass.status, 201) << glass.body;
  EXPECT_NE(glass.body.find(glass_marker), std::string::npos) << "the grant answers with the stated reason";
  auto consent = server.PostJson(
      "/api/v1/patients/" + alice + "/consents",
      json{{"doctor", "dr.grey"}, {"purpose", "my heart " + purpose_marker}, {"expiresAt", InDays(30)}}.dump(),
      patient);
  ASSERT_EQ(consent.status, 201) << consent.body;
  EXPECT_EQ(ParseBody(consent).value("purposeCode", ""), "other");

  // A free-text purpose on a read is refused: the ledger records only codes.
  auto free_purpose = server.Get("/api/v1/reports/" + id + "?purpose=" + UrlEncode("chat with " + glass_marker), grey);
  EXPECT_EQ(free_purpose.status, 400) << free_purpose.body;
  EXPECT_EQ(ProblemCode(free_purpose), "invalid_purpose_code");
  EXPECT_EQ(server.Get("/api/v1/reports/" + id + "?purpose=emergency", grey).status, 200);

  // Allowed readers see the words, decrypted by the server.
  auto read = server.Get("/api/v1/reports/" + id, house);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(ParseBody(read).value("amendmentReason", "").find(amend_marker), std::string::npos) << read.body;
  auto audit = server.Get("/api/v1/audit/events?emergencyOnly=true&pageSize=100", auditor);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find(glass_marker), std::string::npos) << audit.body;
  auto consents = server.Get("/api/v1/patients/" + alice + "/consents", patient);
  ASSERT_EQ(consents.status, 200) << consents.body;
  EXPECT_NE(consents.body.find(purpose_marker), std::string::npos) << consents.body;
  auto admin_view = server.Get("/api/v1/patients/" + alice + "/consents", server.Login("admin"));
  ASSERT_EQ(admin_view.status, 200) << admin_view.body;
  EXPECT_EQ(admin_view.body.find(purpose_marker), std::string::npos) << "the administrator sees only the code";

  // Nothing is in clear on disk, even before erasure; the ledger holds no patient login name.
  for (const std::string& marker : {amend_marker, glass_marker, purpose_marker}) {
    EXPECT_EQ(Join(FilesContaining(data, marker)), "") << marker << " is in clear on disk";
  }
  EXPECT_EQ(Join(FilesContaining(data + "/ledger", "alice")), "") << "a patient's login name is on the ledger";
  // The only usernames on the ledger are the clinicians the consortium directory publishes (the demo's doctors).
  for (const std::string& name : UsernameValues(data + "/ledger")) {
    EXPECT_TRUE(name == "dr.house" || name == "dr.grey") << name << " is named on the ledger";
  }

  auto erased =
      server.PostJson("/api/v1/reports/" + id + "/erasure", R"({"reason":"patient_request"})", server.Login("admin"));
  ASSERT_EQ(erased.status, 200) << erased.body;
  // Two versions and the break-glass reason: every key under the report is gone.
  EXPECT_EQ(ParseBody(erased).value("keysDestroyed", 0), 3) << erased.body;

  // After erasure: the reason can no longer be opened by anyone; the trail says it was erased.
  auto after = server.Get("/api/v1/audit/events?emergencyOnly=true&pageSize=100", auditor);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body.find(glass_marker), std::string::npos) << after.body;
  EXPECT_NE(after.body.find("\"reasonErased\":true"), std::string::npos) << after.body;
  ASSERT_EQ(server.Stop(), 0);
  for (const std::string& marker :
       std::vector<std::string>{amend_marker, glass_marker, "corrected lead", "collapsed in the ward"}) {
    EXPECT_EQ(Join(FilesContaining(data, marker)), "") << marker << " survived erasure";
  }
}

}  // namespace
}  // namespace medledger::testing
