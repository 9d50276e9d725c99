// `medledger keys rotate` end to end: refused while the server owns the keystore; with the server stopped, every
// data key is re-wrapped under a new KEK and the old one is destroyed (the KEK file changes); the chain still
// verifies, and after a restart the report reads back byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ServerKeysTest, RotationReWrapsEveryKeyAndEveryReportStillReads) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string data = server.data_dir() + "/data";
  json body = {{"patientId", alice}, {"title", "Cardiology"}, {"diagnosis", "Angina"}, {"content", "Version one."}};
  auto created = server.PostJson("/api/v1/reports", body.dump(), doctor);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = ParseBody(created).value("reportId", "");
  auto amended = server.PostJson("/api/v1/reports/" + id + "/amendments",
                                 json{{"content", "Version two."}, {"reason", "correction"}}.dump(), doctor);
  ASSERT_EQ(amended.status, 201) << amended.body;
  const std::string before = server.Get("/api/v1/reports/" + id + "/document", doctor).body;
  ASSERT_NE(before.find("Version two."), std::string::npos);

  auto busy = RunMedledger("keys rotate --data '" + data + "'");
  EXPECT_NE(busy.exit_code, 0) << busy.output;
  EXPECT_NE(busy.output.find("keystore_busy"), std::string::npos) << busy.output;

  const std::string password = server.Password("dr.house");
  ASSERT_EQ(server.Stop(), 0);
  const std::string kek_file = data + "/server/keystore/keks";
  const std::string old_keks = FileBytes(kek_file);
  ASSERT_FALSE(old_keks.empty()) << "no KEK file at " << kek_file;
  auto rotated = RunMedledger("keys rotate --data '" + data + "'");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_NE(rotated.output.find("Rotated"), std::string::npos) << rotated.output;
  EXPECT_NE(FileBytes(kek_file), old_keks);
  auto verified = RunMedledger("verify --data '" + data + "'");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  ServerProcess restarted(data, {});
  ASSERT_TRUE(restarted.ok()) << "the server did not restart";
  restarted.SetPassword("dr.house", password);
  const std::string again = restarted.Login("dr.house");
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(restarted.Get("/api/v1/reports/" + id + "/document", again).body, before);
}

}  // namespace
}  // namespace medledger::testing
