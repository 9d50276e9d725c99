// The consortium directory and the doctor's "shared with me" routes over real HTTP against the real binary (one
// organisation, embedded ledger): an administrator publishes a new local doctor, who then appears in the
// directory; the patient's consent screen names a doctor by "<MSP>/<username>"; the doctor lists the consents that
// name them and reads the patient's reports by pseudonym, and is refused without an active consent.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const char* kPassword = "correct horse battery";

std::string InDays(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 24 * 3600;
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

json Directory(const ServerProcess& server, const std::string& token, const std::string& query = "") {
  auto r = server.Get("/api/v1/directory/clinicians" + query, token);
  EXPECT_EQ(r.status, 200) << r.body;
  return ParseBody(r);
}

const json* Find(const json& items, const std::string& username) {
  for (const auto& e : items) {
    if (e.value("username", "") == username) return &e;
  }
  return nullptr;
}

TEST(ServerDirectoryTest, PublishListConsentAndSharedReports) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string admin = server.Login("admin");
  const std::string alice = server.Login("alice");
  const std::string house = server.Login("dr.house");
  const std::string grey = server.Login("dr.grey");
  const std::string auditor = server.Login("audrey");

  // The demo's doctors are published; every signed-in role may read the directory.
  json initial = Directory(server, alice);
  const json* house_entry = Find(initial["items"], "dr.house");
  ASSERT_NE(house_entry, nullptr) << initial.dump();
  const std::string msp = house_entry->value("mspId", "");
  ASSERT_FALSE(msp.empty());
  EXPECT_EQ(house_entry->value("displayName", ""), "Dr. Gregory House");
  EXPECT_EQ(house_entry->value("role", ""), "doctor");
  EXPECT_EQ(house_entry->value("active", false), true);
  for (const std::string& token : {admin, house, auditor}) EXPECT_EQ(Directory(server, token)["items"].size(), 2u);
  // The hospital's own name for its MSP ID (alone: no other member).
  auto orgs = server.Get("/api/v1/directory/organizations", alice);
  ASSERT_EQ(orgs.status, 200) << orgs.body;
  json org_items = ParseBody(orgs)["items"];
  ASSERT_EQ(org_items.size(), 1u) << orgs.body;
  EXPECT_EQ(org_items[0].value("mspId", ""), msp);
  EXPECT_EQ(org_items[0].value("self", false), true);
  EXPECT_FALSE(org_items[0].value("displayName", "").empty());
  EXPECT_EQ(server.Get("/api/v1/directory/organizations").status, 401);
  EXPECT_EQ(server.Get("/api/v1/directory/clinicians").status, 401);

  // A second local doctor: enrolled, not yet listed; published by the administrator, then listed.
  auto created = server.PostJson(
      "/api/v1/users", json{{"username", "dr.new"}, {"role", "doctor"}, {"password", kPassword}}.dump(), admin);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Find(Directory(server, alice)["items"], "dr.new"), nullptr);
  auto publish = [&](const json& body, const std::string& token) {
    return server.PostJson("/api/v1/directory/clinicians", body.dump(), token);
  };
  auto published = publish({{"username", "dr.new"}, {"displayName", "  Dr. Nóra New  "}}, admin);
  ASSERT_EQ(published.status, 201) << published.body;
  EXPECT_EQ(ParseBody(published).value("displayName", ""), "Dr. Nóra New");
  EXPECT_EQ(ParseBody(published).value("publishedBy", ""), "admin");
  EXPECT_EQ(ParseBody(published).value("publishedByMsp", ""), msp);
  json by_org = Directory(server, alice, "?org=" + msp);
  const json* entry = Find(by_org["items"], "dr.new");
  ASSERT_NE(entry, nullptr) << by_org.dump();
  EXPECT_EQ(entry->value("mspId", ""), msp);
  EXPECT_EQ(entry->value("displayName", ""), "Dr. Nóra New");
  EXPECT_EQ(Directory(server, alice, "?org=NoSuchMSP")["items"].size(), 0u);
  EXPECT_EQ(ProblemCode(server.Get("/api/v1/directory/clinicians?org=a%2Fb", alice)), "invalid_org");
  EXPECT_EQ(ProblemCode(server.Get("/api/v1/directory/clinicians?pageSize=0", alice)), "invalid_page_size");
  // Paged with sealed bookmarks.
  auto first = server.Get("/api/v1/directory/clinicians?pageSize=2", alice);
  ASSERT_EQ(first.status, 200);
  const std::string bookmark = ParseBody(first).value("bookmark", "");
  ASSERT_FALSE(bookmark.empty());
  json rest = Directory(server, alice, "?pageSize=2&bookmark=" + UrlEncode(bookmark));
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest.value("bookmark", "x"), "");
  EXPECT_EQ(server.Get("/api/v1/directory/clinicians?pageSize=2&bookmark=" + UrlEncode(bookmark), house).status, 400)
      << "a bookmark is bound to its caller";

  // Who may publish what.
  EXPECT_EQ(publish({{"username", "dr.grey"}, {"displayName", "Dr. Grey"}}, house).status, 403);
  EXPECT_EQ(publish({{"username", "dr.grey"}, {"displayName", "Dr. Grey"}}, alice).status, 403);
  EXPECT_EQ(ProblemCode(publish({{"username", "alice"}, {"displayName", "Alice"}}, admin)), "unknown_doctor");
  EXPECT_EQ(ProblemCode(publish({{"username", "nobody"}, {"displayName", "Nobody"}}, admin)), "unknown_doctor");
  for (const char* bad : {"Dr.\nGrey", "Dr.\tGrey", "   ", "<b>Dr. Grey</b>", "Dr.\u202eGrey"}) {
    auto r = publish({{"username", "dr.grey"}, {"displayName", bad}}, admin);
    EXPECT_EQ(r.status, 422) << bad << " " << r.body;
    EXPECT_EQ(ProblemCode(r), "invalid_display_name") << bad;
  }
  EXPECT_EQ(ProblemCode(publish({{"username", "dr.grey"}, {"displayName", std::string(129, 'a')}}, admin)),
            "invalid_display_name");
  EXPECT_EQ(ProblemCode(publish({{"username", "dr.grey"}, {"displayName", "G"}, {"mspId", "Other"}}, admin)),
            "unknown_field");
  EXPECT_EQ(publish({{"username", "dr.grey"}, {"displayName", "G"}, {"active", "no"}}, admin).status, 400);
  EXPECT_EQ(Find(Directory(server, alice)["items"], "dr.grey")->value("displayName", ""), "Dr. Meredith Grey")
      << "a refused publication changed the directory";

  // The consent screen: the patient names the doctor by "<MSP>/<username>", as the directory lists them.
  const std::string alice_id = ParseBody(server.Get("/api/v1/me", alice)).value("patientId", "");
  ASSERT_EQ(alice_id.size(), 64u);
  auto consent = [&](const std::string& doctor) {
    return server.PostJson("/api/v1/patients/" + alice_id + "/consents",
                           json{{"doctor", doctor}, {"purpose", "second_opinion"}, {"expiresAt", InDays(30)}}.dump(),
                           alice);
  };
  EXPECT_EQ(ProblemCode(consent("OtherHospitalMSP/dr.who")), "unknown_doctor") << "not in the directory";
  EXPECT_EQ(ProblemCode(consent(msp + "/alice")), "unknown_doctor");
  EXPECT_EQ(ProblemCode(consent(msp + "/dr grey")), "unknown_doctor");
  auto granted = consent(msp + "/dr.grey");
  ASSERT_EQ(granted.status, 201) << granted.body;
  const std::string consent_id = ParseBody(granted).value("consentId", "");
  EXPECT_EQ(ParseBody(granted).value("doctor", ""), "dr.grey");
  EXPECT_EQ(ParseBody(granted).value("doctorMsp", ""), msp);

  // A report of dr.house's for alice; dr.grey finds alice through the consent and lists her reports by pseudonym.
  auto submitted = server.PostJson("/api/v1/reports",
                                   json{{"patientId", alice_id},
                                        {"title", "Cardiology"},
                                        {"diagnosis", "Palpitations"},
                                        {"content", "Holter monitor: no arrhythmia."}}
                                       .dump(),
                                   house);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const std::string report_id = ParseBody(submitted).value("reportId", "");

  auto shared = server.Get("/api/v1/shared/consents", grey);
  ASSERT_EQ(shared.status, 200) << shared.body;
  json shared_items = ParseBody(shared)["items"];
  ASSERT_EQ(shared_items.size(), 1u) << shared.body;
  EXPECT_EQ(shared_items[0].value("consentId", ""), consent_id);
  EXPECT_EQ(shared_items[0].value("patientRef", ""), alice_id);
  EXPECT_EQ(shared_items[0].value("patientMsp", ""), msp);
  EXPECT_EQ(shared_items[0].value("purposeCode", ""), "second_opinion");
  EXPECT_FALSE(shared_items[0].value("expiresAt", "").empty());
  EXPECT_EQ(shared_items[0].value("active", false), true);
  EXPECT_EQ(ParseBody(server.Get("/api/v1/shared/consents", house))["items"].size(), 0u);
  for (const std::string& token : {alice, admin, auditor}) {
    EXPECT_EQ(server.Get("/api/v1/shared/consents", token).status, 403);
  }

  const std::string route = "/api/v1/shared/patients/" + alice_id + "/reports";
  auto reports = server.Get(route, grey);
  ASSERT_EQ(reports.status, 200) << reports.body;
  json report_items = ParseBody(reports)["items"];
  ASSERT_GE(report_items.size(), 2u) << "the demo report and the new one";
  bool saw = false;
  for (const auto& r : report_items) {
    if (r.value("reportId", "") != report_id) continue;
    saw = true;
    EXPECT_EQ(r.value("author", ""), "dr.house");
    EXPECT_EQ(r.value("authorMsp", ""), msp);
    EXPECT_EQ(r.value("patientId", ""), alice_id);
  }
  EXPECT_TRUE(saw) << reports.body;
  // Same JSON as the patient's own listing.
  auto own = ParseBody(server.Get("/api/v1/patients/" + alice_id + "/reports", alice));
  EXPECT_EQ(own["items"].size(), report_items.size());
  // Pages: sealed bookmarks bound to this listing.
  auto page1 = server.Get(route + "?pageSize=1", grey);
  ASSERT_EQ(page1.status, 200);
  const std::string mark = ParseBody(page1).value("bookmark", "");
  ASSERT_FALSE(mark.empty());
  auto page2 = server.Get(route + "?pageSize=1&bookmark=" + UrlEncode(mark), grey);
  ASSERT_EQ(page2.status, 200) << page2.body;
  EXPECT_NE(ParseBody(page2)["items"][0].value("reportId", ""), ParseBody(page1)["items"][0].value("reportId", ""));
  EXPECT_EQ(server.Get("/api/v1/patients/" + alice_id + "/reports?pageSize=1&bookmark=" + UrlEncode(mark), grey).status,
            400)
      << "a shared-listing bookmark opened another listing";
  // The report opens through the normal route.
  auto read = server.Get("/api/v1/reports/" + report_id, grey);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(ParseBody(read).value("authorMsp", ""), msp);

  // Without consent: refused, even where the contract would list the doctor's own reports (dr.grey wrote bob's
  // demo report), and for other roles.
  const std::string bob_id = ParseBody(server.Get("/api/v1/me", server.Login("bob"))).value("patientId", "");
  auto no_consent = server.Get("/api/v1/shared/patients/" + bob_id + "/reports", grey);
  EXPECT_EQ(no_consent.status, 403) << no_consent.body;
  EXPECT_EQ(ProblemCode(no_consent), "no_consent");
  EXPECT_EQ(ProblemCode(server.Get(route, house)), "no_consent") << "the author has no consent either";
  EXPECT_EQ(server.Get(route, alice).status, 403);
  EXPECT_EQ(server.Get(route, auditor).status, 403);
  EXPECT_EQ(server.Get("/api/v1/shared/patients/not-a-pseudonym/reports", grey).status, 404);

  // Revoked: listed inactive, and the reports are refused again.
  auto revoke = server.Request("DELETE", "/api/v1/patients/" + alice_id + "/consents/" + consent_id, "",
                               {"Authorization: Bearer " + alice});
  ASSERT_EQ(revoke.status, 204) << revoke.body;
  json after = ParseBody(server.Get("/api/v1/shared/consents", grey))["items"];
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].value("active", true), false);
  EXPECT_EQ(ProblemCode(server.Get(route, grey)), "no_consent");

  // The patient's access log names each actor's hospital.
  json log = ParseBody(server.Get("/api/v1/patients/" + alice_id + "/access-log", alice));
  ASSERT_FALSE(log["items"].empty());
  for (const auto& e : log["items"]) EXPECT_EQ(e.value("actorMsp", ""), msp) << e.dump();
}

}  // namespace
}  // namespace medledger::testing
