// Erasure on the ledger end to end (docs/OPERATIONS.md). Over the API while the server runs: an administrator
// records EraseReport, the keys of every version are destroyed and the journal gets its line; content is then
// refused with 410 content_erased for every reader and every version, while the ledger record, history (which
// names the erasure), proof and the chain's verification remain. With the server stopped, `medledger erase`
// runs the same steps (and refuses while a server holds the ledger). A crash between the ledger and the keys is
// repaired by the next start before it serves; an exported journal replayed onto an older copy of the data
// directory erases there too.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

std::vector<json> JournalLines(const std::string& file) {
  std::vector<json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::string Submit(const ServerProcess& server, const std::string& doctor, const std::string& patient_id,
                   const std::string& content) {
  json body = {
      {"patientId", patient_id}, {"title", "Dermatology"}, {"diagnosis", "Benign naevus"}, {"content", content}};
  auto r = server.PostJson("/api/v1/reports", body.dump(), doctor);
  EXPECT_EQ(r.status, 201) << r.body;
  return ParseBody(r).value("reportId", "");
}

TEST(ServerEraseTest, EraseOverTheApiRecordsOnTheLedgerShredsEveryVersionAndKeepsTheProof) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string patient = server.Login("alice");
  const std::string admin = server.Login("admin");
  const std::string auditor = server.Login("audrey");
  const std::string alice = ParseBody(server.Get("/api/v1/me", patient)).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string data = server.data_dir() + "/data";

  const std::string id = Submit(server, doctor, alice, "Right shoulder lesion, symmetric, 4 mm. Erase me.");
  const std::string cid = ParseBody(server.Get("/api/v1/reports/" + id, doctor)).value("cid", "");
  auto amended =
      server.PostJson("/api/v1/reports/" + id + "/amendments",
                      json{{"content", "Lesion re-measured: 5 mm."}, {"reason", "new measurement"}}.dump(), doctor);
  ASSERT_EQ(amended.status, 201) << amended.body;
  const std::string other = Submit(server, doctor, alice, "Another report, kept.");
  const std::string latest_cid = ParseBody(server.Get("/api/v1/reports/" + id, doctor)).value("cid", "");
  auto cipher = server.Get("/api/v1/reports/" + id + "/ciphertext", doctor);
  ASSERT_EQ(cipher.status, 200);
  const std::string envelope_file = server.data_dir() + "/envelope.bin";
  std::ofstream(envelope_file, std::ios::binary) << cipher.body;

  // The CLI refuses while the server holds the ledger, and says what to do instead.
  auto busy = RunMedledger("erase --data '" + data + "' --report " + id + " --reason patient_request --yes");
  EXPECT_NE(busy.exit_code, 0) << busy.output;
  EXPECT_NE(busy.output.find("server_running"), std::string::npos) << busy.output;
  EXPECT_NE(busy.output.find("/erasure"), std::string::npos) << busy.output;

  // Refusals over the API change nothing.
  const std::string erase = "/api/v1/reports/" + id + "/erasure";
  const std::string reason = json{{"reason", "patient_request"}}.dump();
  for (const std::string& token : {doctor, patient, auditor}) {
    EXPECT_EQ(server.PostJson(erase, reason, token).status, 403);
  }
  auto bad_reason = server.PostJson(erase, json{{"reason", "patient asked"}}.dump(), admin);
  EXPECT_EQ(bad_reason.status, 400) << bad_reason.body;
  EXPECT_EQ(ProblemCode(bad_reason), "invalid_reason");
  auto no_reason = server.PostJson(erase, json{{"note", "x"}}.dump(), admin);
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(ProblemCode(no_reason), "missing_field");
  auto extra = server.PostJson(erase, json{{"reason", "patient_request"}, {"reasonText", "x"}}.dump(), admin);
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(ProblemCode(extra), "unknown_field");
  auto long_note =
      server.PostJson(erase, json{{"reason", "patient_request"}, {"note", std::string(1001, 'n')}}.dump(), admin);
  EXPECT_EQ(long_note.status, 400);
  EXPECT_EQ(ProblemCode(long_note), "note_too_long");
  auto unknown = server.PostJson("/api/v1/reports/0123456789abcdef0123456789abcdef/erasure", reason, admin);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(ProblemCode(unknown), "report_not_found");
  EXPECT_EQ(server.Get("/api/v1/reports/" + id, doctor).status, 200) << "a refused erase must change nothing";

  const std::string note = "Request of 3 June, letter filed as ER-7 (Zürich office)";
  auto erased = server.PostJson(erase, json{{"reason", "patient_request"}, {"note", note}}.dump(), admin);
  ASSERT_EQ(erased.status, 200) << erased.body;
  json receipt = ParseBody(erased);
  EXPECT_EQ(receipt.value("reportId", ""), id);
  EXPECT_EQ(receipt.value("reasonCode", ""), "patient_request");
  EXPECT_EQ(receipt.value("keysDestroyed", 0), 2) << "one per version (the amendment reason is inside its version)";
  EXPECT_EQ(receipt.value("erasedBy", ""), "admin");
  EXPECT_EQ(receipt.value("txId", "").size(), 64u);
  EXPECT_GT(receipt.value("blockNumber", 0), 0);
  EXPECT_FALSE(receipt.value("erasedAt", "").empty());
  auto twice = server.PostJson(erase, json{{"reason", "legal_order"}}.dump(), admin);
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_EQ(ProblemCode(twice), "already_erased");

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
  // The ledger still answers: history (both versions, and the erasure), proof with the recorded CID.
  auto history = server.Get("/api/v1/reports/" + id + "/history", doctor);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find(cid), std::string::npos);
  EXPECT_NE(history.body.find(latest_cid), std::string::npos);
  EXPECT_EQ(ParseBody(history)["erasure"].value("txId", ""), receipt.value("txId", "")) << history.body;
  auto proof = server.Get("/api/v1/reports/" + id + "/proof", doctor);
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(ParseBody(proof).value("validationCode", ""), "VALID");
  EXPECT_EQ(server.Get("/api/v1/reports/" + other, doctor).status, 200);

  // The erasures listing: administrators and auditors, from the ledger; the note is not there.
  for (const std::string& token : {admin, auditor}) {
    auto list = server.Get("/api/v1/erasures", token);
    ASSERT_EQ(list.status, 200) << list.body;
    json items = ParseBody(list)["items"];
    ASSERT_EQ(items.size(), 1u) << list.body;
    EXPECT_EQ(items[0].value("reportId", ""), id);
    EXPECT_EQ(items[0].value("reasonCode", ""), "patient_request");
    EXPECT_EQ(list.body.find("ER-7"), std::string::npos);
  }
  EXPECT_EQ(server.Get("/api/v1/erasures", doctor).status, 403);

  // The journal: one line with the note, the code and the transaction.
  auto lines = JournalLines(data + "/server/erasures.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].value("reportId", ""), id);
  EXPECT_EQ(lines[0].value("reasonCode", ""), "patient_request");
  EXPECT_EQ(lines[0].value("note", ""), note);
  EXPECT_EQ(lines[0].value("txId", ""), receipt.value("txId", ""));

  // The ciphertext kept before still hashes to the recorded CID: the proof outlives the content.
  auto computed = RunMedledger("cid '" + envelope_file + "' --cid-version 1");
  ASSERT_EQ(computed.exit_code, 0) << computed.output;
  EXPECT_EQ(computed.output.substr(0, computed.output.find('\n')), latest_cid);

  // The chain, re-walked from the blocks with every signature, still verifies.
  const std::string doctor_password = server.Password("dr.house");
  ASSERT_EQ(server.Stop(), 0);
  auto verified = RunMedledger("verify --data '" + data + "'");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // Erasure is permanent across a restart.
  ServerProcess restarted(data, {});
  ASSERT_TRUE(restarted.ok()) << "the server did not restart";
  restarted.SetPassword("dr.house", doctor_password);
  const std::string again = restarted.Login("dr.house");
  ASSERT_FALSE(again.empty());
  auto gone = restarted.Get("/api/v1/reports/" + id, again);
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_EQ(ProblemCode(gone), "content_erased");
  EXPECT_EQ(restarted.Get("/api/v1/reports/" + other, again).status, 200);
}

TEST(ServerEraseTest, CliEraseWithTheServerStoppedAndTheStartUpPassRepairsTheCrashWindow) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  const std::string data = server.data_dir() + "/data";
  const std::string by_cli = Submit(server, doctor, alice, "Erased with the CLI.");
  const std::string crashed = Submit(server, doctor, alice, "Erased on the ledger, then the process died.");
  const std::string kept = Submit(server, doctor, alice, "Kept.");
  const std::string doctor_password = server.Password("dr.house");
  ASSERT_EQ(server.Stop(), 0);

  const std::string erase = "erase --data '" + data + "' --report " + by_cli;
  auto no_reason = RunMedledger(erase + " --yes");
  EXPECT_EQ(no_reason.exit_code, 2) << no_reason.output;
  auto bad_reason = RunMedledger(erase + " --reason 'patient request' --yes");
  EXPECT_EQ(bad_reason.exit_code, 2) << bad_reason.output;
  EXPECT_NE(bad_reason.output.find("invalid_reason"), std::string::npos) << bad_reason.output;
  EXPECT_EQ(RunMedledger("erase --data '" + data + "' --report 'a;b' --reason legal_order --yes").exit_code, 2);
  auto unknown =
      RunMedledger("erase --data '" + data + "' --report 0123456789abcdef0123456789abcdef --reason legal_order --yes");
  EXPECT_EQ(unknown.exit_code, 4) << unknown.output;
  EXPECT_NE(unknown.output.find("report_not_found"), std::string::npos) << unknown.output;
  auto unconfirmed = RunMedledger(erase + " --reason legal_order");
  EXPECT_EQ(unconfirmed.exit_code, 2);
  EXPECT_NE(unconfirmed.output.find("confirmation_required"), std::string::npos) << unconfirmed.output;

  auto done = RunMedledger(erase + " --reason legal_order --note 'court order 17' --yes");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("1 data key destroyed"), std::string::npos) << done.output;
  auto twice = RunMedledger(erase + " --reason legal_order --yes");
  EXPECT_EQ(twice.exit_code, 3) << twice.output;
  EXPECT_NE(twice.output.find("already_erased"), std::string::npos) << twice.output;
  auto lines = JournalLines(data + "/server/erasures.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].value("reportId", ""), by_cli);
  EXPECT_EQ(lines[0].value("reasonCode", ""), "legal_order");
  EXPECT_EQ(lines[0].value("note", ""), "court order 17");
  const std::string erased_by = lines[0].value("erasedBy", "");
  EXPECT_EQ(erased_by.substr(erased_by.find('/') + 1), "admin") << erased_by;

  // The crash window: the ledger records the erasure, then the process dies before the keys are destroyed.
  // `ledger submit` is exactly that first step alone.
  auto ledger_only = RunMedledger("ledger submit --data '" + data + "' --as admin --fn EraseReport --args '" +
                                  json{{"reportId", crashed}, {"reasonCode", "entered_in_error"}}.dump() + "'");
  ASSERT_EQ(ledger_only.exit_code, 0) << ledger_only.output;
  // The next start destroys the keys before it serves anyone.
  ServerProcess restarted(data, {});
  ASSERT_TRUE(restarted.ok()) << "the server did not restart";
  restarted.SetPassword("dr.house", doctor_password);
  const std::string token = restarted.Login("dr.house");
  ASSERT_FALSE(token.empty());
  for (const std::string& gone_id : {crashed, by_cli}) {
    auto gone = restarted.Get("/api/v1/reports/" + gone_id, token);
    EXPECT_EQ(gone.status, 410) << gone.body;
    EXPECT_EQ(ProblemCode(gone), "content_erased");
  }
  EXPECT_EQ(restarted.Get("/api/v1/reports/" + kept, token).status, 200);
}

// An embedded data directory restored from a backup older than an erasure: the exported journal re-applies it.
TEST(ServerEraseTest, ReplayingTheJournalErasesOnAnOlderCopyOfTheDataDirectory) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  const std::string data = server.data_dir() + "/data";
  const std::string erased = Submit(server, doctor, alice, "Erased after the backup.");
  const std::string kept = Submit(server, doctor, alice, "Kept.");
  const std::string doctor_password = server.Password("dr.house");
  ASSERT_EQ(server.Stop(), 0);

  // The "old backup": a copy of the stopped data directory, taken before the erasure.
  const std::string copy = server.data_dir() + "/restored";
  ASSERT_EQ(RunCommand("cp -a '" + data + "' '" + copy + "'").exit_code, 0);
  auto done = RunMedledger("erase --data '" + data + "' --report " + erased +
                           " --reason patient_request --note 'letter of 3 June' --yes");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  // The operator ships the journal out of the data directory after each erasure.
  const std::string shipped = server.data_dir() + "/erasures-archive.jsonl";
  ASSERT_EQ(RunCommand("cp '" + data + "/server/erasures.jsonl' '" + shipped + "'").exit_code, 0);

  auto replayed = RunMedledger("erase --replay-journal '" + shipped + "' --data '" + copy + "'");
  ASSERT_EQ(replayed.exit_code, 0) << replayed.output;
  EXPECT_NE(replayed.output.find("1 erased and recorded on the ledger"), std::string::npos) << replayed.output;
  EXPECT_NE(replayed.output.find("1 data key destroyed"), std::string::npos) << replayed.output;
  // Replaying again finds it done.
  auto again = RunMedledger("erase --replay-journal '" + shipped + "' --data '" + copy + "'");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 erased and recorded on the ledger, 1 already erased"), std::string::npos)
      << again.output;
  // A journal that is not one is refused before anything changes.
  const std::string broken = server.data_dir() + "/broken.jsonl";
  std::ofstream(broken) << "{\"reportId\":\"" << kept << "\",\"reasonCode\":\"legal_order\"}\nnot json\n";
  auto refused = RunMedledger("erase --replay-journal '" + broken + "' --data '" + copy + "'");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("journal_corrupt"), std::string::npos) << refused.output;

  // On the copy's own ledger: the erasure record, and the copy's journal has the line with its note.
  auto listed = RunMedledger("ledger query --data '" + copy + "' --as admin --fn ListErasures --args '{}'");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find(erased), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find(kept), std::string::npos) << listed.output;
  auto verified = RunMedledger("verify --data '" + copy + "'");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  auto copy_lines = JournalLines(copy + "/server/erasures.jsonl");
  ASSERT_EQ(copy_lines.size(), 1u);
  EXPECT_EQ(copy_lines[0].value("note", ""), "letter of 3 June");

  ServerProcess restored(copy, {});
  ASSERT_TRUE(restored.ok()) << "the restored copy did not start";
  restored.SetPassword("dr.house", doctor_password);
  const std::string token = restored.Login("dr.house");
  ASSERT_FALSE(token.empty());
  auto gone = restored.Get("/api/v1/reports/" + erased, token);
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_EQ(ProblemCode(gone), "content_erased");
  EXPECT_EQ(restored.Get("/api/v1/reports/" + kept, token).status, 200);
}

}  // namespace
}  // namespace medledger::testing
