// What stops an administrator from reaching report content (issue 15, item 6): every enrolment and user change
// is on the ledger signed by the acting administrator (over the API and from the CLI while the server runs); a
// break-glass by a recently enrolled account is flagged for the auditor; and with the two-person rule a doctor
// account works only after a second, different administrator approves it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const char* kPassword = "correct horse battery";

// The first report of alice's record, as its author dr.house lists it.
std::string AliceReport(const ServerProcess& server) {
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  json list = ParseBody(server.Get("/api/v1/patients/" + alice + "/reports", server.Login("dr.house")));
  if (!list.contains("items") || list["items"].empty()) return "";
  return list["items"][0].value("reportId", "");
}

// Events of `kind` in the global trail whose subject names `username`.
json UserEvents(const ServerProcess& server, const std::string& auditor, const std::string& kind,
                const std::string& username) {
  json out = json::array();
  json page = ParseBody(server.Get("/api/v1/audit/events?pageSize=100&kind=" + kind, auditor));
  if (!page.contains("items")) return out;
  for (const auto& e : page["items"]) {
    const std::string subject = e.value("subject", "");
    if (subject.size() > username.size() && subject.substr(subject.size() - username.size() - 1) == "/" + username) {
      out.push_back(e);
    }
  }
  return out;
}

TEST(ServerUserAdminTest, EnrolmentIsSignedByTheAdminAndBreakGlassByANewDoctorIsFlagged) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string admin = server.Login("admin");
  const std::string auditor = server.Login("audrey");
  const std::string report = AliceReport(server);
  ASSERT_FALSE(report.empty());

  auto created = server.PostJson(
      "/api/v1/users", json{{"username", "dr.mole"}, {"role", "doctor"}, {"password", kPassword}}.dump(), admin);
  ASSERT_EQ(created.status, 201) << created.body;
  json enrolled = UserEvents(server, auditor, "user_enrolled", "dr.mole");
  ASSERT_EQ(enrolled.size(), 1u) << "the enrolment is not on the ledger";
  EXPECT_EQ(enrolled[0].value("actor", ""), "admin") << "the trail must name the administrator";
  EXPECT_EQ(enrolled[0].value("role", ""), "doctor");
  EXPECT_EQ(enrolled[0].value("channel", ""), "api");

  server.SetPassword("dr.mole", kPassword);
  const std::string mole = server.Login("dr.mole");
  ASSERT_FALSE(mole.empty());
  auto glass = server.PostJson("/api/v1/reports/" + report + "/emergency-access",
                               json{{"reason", "Unconscious patient, allergy check"}}.dump(), mole);
  ASSERT_EQ(glass.status, 201) << glass.body;
  auto old_glass = server.PostJson("/api/v1/reports/" + report + "/emergency-access",
                                   json{{"reason", "Second opinion in the night"}}.dump(), server.Login("dr.grey"));
  ASSERT_EQ(old_glass.status, 201) << old_glass.body;

  json events = ParseBody(server.Get("/api/v1/audit/events?emergencyOnly=true&pageSize=100", auditor));
  bool saw_mole = false, saw_grey = false;
  for (const auto& e : events["items"]) {
    if (e.value("kind", "") != "emergency") continue;
    if (e.value("actor", "") == "dr.mole") {
      saw_mole = true;
      EXPECT_EQ(e.value("recentlyEnrolled", false), true) << e.dump();
      EXPECT_EQ(e.value("actorEnrolledBy", ""), "admin") << e.dump();
      EXPECT_FALSE(e.value("actorEnrolledAt", "").empty()) << e.dump();
    }
    if (e.value("actor", "") == "dr.grey") {
      saw_grey = true;
      // The demo's doctors were made before any server ran: no enrolment on the ledger, and that is shown.
      EXPECT_EQ(e.value("actorEnrollmentRecorded", true), false) << e.dump();
      EXPECT_FALSE(e.contains("recentlyEnrolled")) << e.dump();
    }
  }
  EXPECT_TRUE(saw_mole && saw_grey) << events.dump();
  // Only administrators record user changes; nobody else reads the records through the audit API's flags.
  EXPECT_EQ(server.PostJson("/api/v1/users/dr.mole/approve", "{}", mole).status, 403);
}

TEST(ServerUserAdminTest, CliUserChangesReachTheLedgerWhileTheServerRuns) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string data = server.data_dir() + "/data";
  const std::string pw_file = server.data_dir() + "/pw.txt";
  std::ofstream(pw_file) << kPassword << "\n";
  auto added = RunMedledger("user add --data '" + data + "' --name dr.cli --role doctor --password-file '" + pw_file +
                            "' --admin admin");
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_NE(added.output.find("Queued for the ledger"), std::string::npos) << added.output;
  auto disabled = RunMedledger("user disable --data '" + data + "' --name dr.cli");
  ASSERT_EQ(disabled.exit_code, 0) << disabled.output;
  auto reset = RunMedledger("user passwd --data '" + data + "' --name dr.cli --password-file '" + pw_file + "'");
  ASSERT_EQ(reset.exit_code, 0) << reset.output;
  // A non-administrator cannot be named as the actor, and the refused command changes nothing.
  auto bad = RunMedledger("user enable --data '" + data + "' --name dr.cli --admin dr.house");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("not_an_admin"), std::string::npos) << bad.output;

  const std::string auditor = server.Login("audrey");
  json enrolled, disabled_ev, reset_ev;
  for (int i = 0; i < 100 && (enrolled.empty() || disabled_ev.empty() || reset_ev.empty()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    enrolled = UserEvents(server, auditor, "user_enrolled", "dr.cli");
    disabled_ev = UserEvents(server, auditor, "user_disabled", "dr.cli");
    reset_ev = UserEvents(server, auditor, "user_password_reset", "dr.cli");
  }
  ASSERT_EQ(enrolled.size(), 1u) << "the CLI enrolment never reached the ledger";
  EXPECT_EQ(enrolled[0].value("actor", ""), "admin");
  EXPECT_EQ(enrolled[0].value("channel", ""), "cli");
  EXPECT_EQ(disabled_ev.size(), 1u);
  EXPECT_EQ(reset_ev.size(), 1u);
  EXPECT_TRUE(UserEvents(server, auditor, "user_enabled", "dr.cli").empty()) << "the refused enable was recorded";
}

TEST(ServerUserAdminTest, TwoPersonRuleHoldsADoctorUntilASecondAdministratorApproves) {
  ServerProcess server({"--two-person-enrollment"});
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string admin = server.Login("admin");
  auto second = server.PostJson("/api/v1/users",
                                json{{"username", "admin2"}, {"role", "admin"}, {"password", kPassword}}.dump(), admin);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_FALSE(ParseBody(second).contains("pendingApproval"));
  server.SetPassword("admin2", kPassword);
  const std::string admin2 = server.Login("admin2");
  ASSERT_FALSE(admin2.empty());

  auto doctor = server.PostJson(
      "/api/v1/users", json{{"username", "dr.pending"}, {"role", "doctor"}, {"password", kPassword}}.dump(), admin);
  ASSERT_EQ(doctor.status, 201) << doctor.body;
  EXPECT_EQ(ParseBody(doctor).value("pendingApproval", false), true);
  server.SetPassword("dr.pending", kPassword);
  EXPECT_TRUE(server.Login("dr.pending").empty()) << "a pending doctor signed in";

  // The enrolling administrator cannot approve their own doctor (the contract refuses it).
  auto self = server.PostJson("/api/v1/users/dr.pending/approve", "{}", admin);
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_TRUE(server.Login("dr.pending").empty());
  EXPECT_EQ(server.PostJson("/api/v1/users/nobody/approve", "{}", admin2).status, 404);

  auto approved = server.PostJson("/api/v1/users/dr.pending/approve", "{}", admin2);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(ParseBody(approved).value("approvedBy", ""), "admin2");
  const std::string token = server.Login("dr.pending");
  ASSERT_FALSE(token.empty());
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  json body = {{"patientId", alice}, {"title", "Check"}, {"diagnosis", "None"}, {"content", "Fine."}};
  EXPECT_EQ(server.PostJson("/api/v1/reports", body.dump(), token).status, 201);
  json approvals = UserEvents(server, server.Login("audrey"), "user_approved", "dr.pending");
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0].value("actor", ""), "admin2");
}

}  // namespace
}  // namespace medledger::testing
