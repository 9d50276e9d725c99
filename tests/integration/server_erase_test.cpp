// Crypto-shredding end to end: a report submitted over HTTP is erased with `medledger erase` (while the server
// runs); its content is then refused with 410 content_erased for every reader and every version, while its
// ledger record, history and proof remain, the chain still verifies, and the ciphertext's CID still holds.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

TEST(ServerEraseTest, EraseShredsContentOfEveryVersionAndKeepsTheLedgerVerifiable) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string patient = server.Login("alice");
  const std::string alice = ParseBody(server.Get("/api/v1/me", patient)).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string data = server.data_dir() + "/data";

  json body = {{"patientId", alice},
               {"title", "Dermatology"},
               {"diagnosis", "Benign naevus"},
               {"content", "Right shoulder lesion, symmetric, 4 mm. Erase me."}};
  auto submitted = server.PostJson("/api/v1/reports", body.dump(), doctor);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const std::string id = ParseBody(submitted).value("reportId", "");
  const std::string cid = ParseBody(submitted).value("cid", "");
  auto amended =
      server.PostJson("/api/v1/reports/" + id + "/amendments",
                      json{{"content", "Lesion re-measured: 5 mm."}, {"reason", "new measurement"}}.dump(), doctor);
  ASSERT_EQ(amended.status, 201) << amended.body;
  const std::string other = ParseBody(server.PostJson("/api/v1/reports", body.dump(), doctor)).value("reportId", "");
  ASSERT_FALSE(other.empty());

  // Before: readable, and the ciphertext hashes to the recorded CID.
  ASSERT_EQ(server.Get("/api/v1/reports/" + id, doctor).status, 200);
  auto cipher = server.Get("/api/v1/reports/" + id + "/ciphertext", doctor);
  ASSERT_EQ(cipher.status, 200);
  // /ciphertext serves the latest version, the amendment.
  const std::string latest_cid = ParseBody(server.Get("/api/v1/reports/" + id, doctor)).value("cid", "");
  const std::string envelope_file = server.data_dir() + "/envelope.bin";
  std::ofstream(envelope_file, std::ios::binary) << cipher.body;

  // Refusals: unknown report, bad id, no confirmation when not at a terminal.
  auto unknown = RunMedledger("erase --data '" + data + "' --report 0123456789abcdef0123456789abcdef --yes");
  EXPECT_EQ(unknown.exit_code, 4) << unknown.output;
  EXPECT_NE(unknown.output.find("report_not_in_keystore"), std::string::npos) << unknown.output;
  EXPECT_EQ(RunMedledger("erase --data '" + data + "' --report 'a;b' --yes").exit_code, 2);
  auto unconfirmed = RunMedledger("erase --data '" + data + "' --report " + id);
  EXPECT_EQ(unconfirmed.exit_code, 2);
  EXPECT_NE(unconfirmed.output.find("confirmation_required"), std::string::npos) << unconfirmed.output;
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, doctor).status, 200) << "a refused erase must change nothing";

  auto erased = RunMedledger("erase --data '" + data + "' --report " + id + " --reason 'patient request' --yes");
  ASSERT_EQ(erased.exit_code, 0) << erased.output;
  EXPECT_NE(erased.output.find("2 data keys destroyed"), std::string::npos) << erased.output;

  // After: content is gone for the doctor and the patient, for every content route.
  for (const std::string& token : {doctor, patient}) {
    for (const char* route : {"", "/document", "/ciphertext"}) {
      auto r = server.Get("/api/v1/reports/" + id + std::string(route), token);
      EXPECT_EQ(r.status, 410) << route << " " << r.body;
      EXPECT_EQ(ProblemCode(r), "content_erased") << route;
      EXPECT_EQ(r.body.find("Erase me"), std::string::npos);
      EXPECT_EQ(r.body.find("5 mm"), std::string::npos);
    }
  }
  // The ledger still answers: history (both versions), proof with the recorded CID; other reports unaffected.
  auto history = server.Get("/api/v1/reports/" + id + "/history", doctor);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find(cid), std::string::npos);
  EXPECT_NE(history.body.find(latest_cid), std::string::npos);
  auto proof = server.Get("/api/v1/reports/" + id + "/proof", doctor);
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(ParseBody(proof).value("validationCode", ""), "VALID");
  EXPECT_EQ(server.Get("/api/v1/reports/" + other, doctor).status, 200);
  // A second erase of the same report is "not found", not a silent success.
  EXPECT_EQ(RunMedledger("erase --data '" + data + "' --report " + id + " --yes").exit_code, 4);

  // The erasure is logged without content, and the ciphertext kept before still hashes to the recorded CID.
  std::ifstream log(data + "/server/erasures.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  EXPECT_EQ(json::parse(line).value("reportId", ""), id);
  EXPECT_EQ(json::parse(line).value("reason", ""), "patient request");
  auto computed = RunMedledger("cid '" + envelope_file + "' --cid-version 1");
  ASSERT_EQ(computed.exit_code, 0) << computed.output;
  EXPECT_EQ(computed.output.substr(0, computed.output.find('\n')), latest_cid);

  // The chain, re-walked from the blocks with every signature, still verifies.
  const std::string doctor_password = server.Password("dr.house");
  ASSERT_EQ(server.Stop(), 0);
  auto verified = RunMedledger("verify --data '" + data + "'");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // Erasure is permanent: after a restart (keystore, content store and ledger reopened from disk) the content
  // stays refused while the other report and the erased report's record still read.
  ServerProcess restarted(data, {});
  ASSERT_TRUE(restarted.ok()) << "the server did not restart";
  restarted.SetPassword("dr.house", doctor_password);
  const std::string again = restarted.Login("dr.house");
  ASSERT_FALSE(again.empty());
  auto gone = restarted.Get("/api/v1/reports/" + id, again);
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_EQ(ProblemCode(gone), "content_erased");
  EXPECT_EQ(restarted.Get("/api/v1/reports/" + other, again).status, 200);
  EXPECT_EQ(restarted.Get("/api/v1/reports/" + id + "/history", again).status, 200);
}

}  // namespace
}  // namespace medledger::testing
