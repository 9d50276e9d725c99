// Listings over real HTTP against the real binary (issue 15 items 3, 5, 9, 14): the patient's access log is
// newest first and pages reach every event; bookmarks are opaque and bound to the caller, the listing and its
// filters; paging runs over what the caller may see; lookups and searches are on the trail; pageSize is
// validated against the contract's range.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

// The bytes a hex string stands for (the old bookmarks were the hex of a ledger key); stops at a non-hex digit.
std::string HexDecoded(const std::string& text) {
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  std::string out;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

class ServerPagingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok()) << "the server did not start";
    for (const char* u : {"admin", "dr.house", "dr.grey", "alice", "bob", "audrey"}) tokens_[u] = server_->Login(u);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  const std::string& Token(const char* user) { return tokens_[user]; }
  std::string PatientIdOf(const char* user) {
    return ParseBody(server_->Get("/api/v1/me", Token(user))).value("patientId", "");
  }
  std::string Submit(const std::string& patient_id, const char* doctor) {
    json body = {{"patientId", patient_id},
                 {"title", "Follow-up"},
                 {"diagnosis", "Stable"},
                 {"content", "Blood pressure 120/80. Continue treatment."}};
    auto r = server_->PostJson("/api/v1/reports", body.dump(), Token(doctor));
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseBody(r).value("reportId", "");
  }
  // Every page of `path` (which has a query string) as `user`; fails the test on a non-200 or endless paging.
  std::vector<json> AllPages(const std::string& path, const char* user) {
    std::vector<json> pages;
    std::string bookmark;
    do {
      auto r = server_->Get(path + (bookmark.empty() ? "" : "&bookmark=" + UrlEncode(bookmark)), Token(user));
      EXPECT_EQ(r.status, 200) << path << ": " << r.body;
      if (r.status != 200) break;
      pages.push_back(ParseBody(r));
      bookmark = pages.back().value("bookmark", "");
      if (pages.size() > 200) {
        ADD_FAILURE() << "paging does not end: " << path;
        break;
      }
    } while (!bookmark.empty());
    return pages;
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
};

ServerProcess* ServerPagingTest::server_ = nullptr;
std::map<std::string, std::string> ServerPagingTest::tokens_;

// Item 3: 45 reads and a late break-glass read; the patient sees every one, newest first, in pages of 20.
TEST_F(ServerPagingTest, PatientSeesEveryAccessNewestFirst) {
  const std::string alice = PatientIdOf("alice");
  ASSERT_FALSE(alice.empty());
  const std::string id = Submit(alice, "dr.house");
  ASSERT_FALSE(id.empty());
  for (int i = 0; i < 45; ++i) ASSERT_EQ(server_->Get("/api/v1/reports/" + id, Token("dr.house")).status, 200);
  ASSERT_EQ(server_
                ->PostJson("/api/v1/reports/" + id + "/emergency-access",
                           R"({"reason":"Collapsed in the waiting room"})", Token("dr.grey"))
                .status,
            201);
  ASSERT_EQ(server_->Get("/api/v1/reports/" + id, Token("dr.grey")).status, 200);

  auto pages = AllPages("/api/v1/patients/" + alice + "/access-log?pageSize=20", "alice");
  ASSERT_GE(pages.size(), 3u);
  std::vector<std::string> ids, times;
  int reads_by_house = 0;
  for (size_t p = 0; p < pages.size(); ++p) {
    const json& items = pages[p]["items"];
    if (p + 1 < pages.size()) {
      EXPECT_EQ(items.size(), 20u) << "page " << p << " is not full";
    }
    for (const auto& e : items) {
      ids.push_back(e.value("eventId", ""));
      times.push_back(e.value("timestamp", ""));
      if (e.value("kind", "") == "read" && e.value("actor", "") == "dr.house" && e.value("reportId", "") == id) {
        ++reads_by_house;
      }
    }
  }
  // The late break-glass read is the first thing the patient sees.
  const json& newest = pages[0]["items"][0];
  EXPECT_EQ(newest.value("kind", ""), "read");
  EXPECT_EQ(newest.value("actor", ""), "dr.grey");
  EXPECT_TRUE(newest.value("emergency", false));
  EXPECT_EQ(reads_by_house, 45);
  EXPECT_TRUE(std::is_sorted(times.rbegin(), times.rend())) << "not newest first";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "an event was listed twice";
  EXPECT_GE(ids.size(), 47u);

  // The auditor's trail is newest first too.
  auto audit = ParseBody(server_->Get("/api/v1/audit/events?emergencyOnly=true&pageSize=1", Token("audrey")));
  ASSERT_EQ(audit["items"].size(), 1u);
  EXPECT_EQ(audit["items"][0].value("eventId", ""), newest.value("eventId", ""));
}

// Item 5, the attack: a doctor without consent pages through another patient's reports. Before, each page was
// empty and its bookmark was the hex of the next ledger key, naming another doctor's report.
TEST_F(ServerPagingTest, BookmarksRevealNoReportIds) {
  const std::string bob = PatientIdOf("bob");
  ASSERT_FALSE(bob.empty());
  std::vector<std::string> hidden;
  for (int i = 0; i < 12; ++i) hidden.push_back(Submit(bob, "dr.grey"));
  // dr.house holds no consent from bob and wrote none of his reports: he may see none of them.
  auto pages = AllPages("/api/v1/patients/" + bob + "/reports?pageSize=1", "dr.house");
  std::string disclosed;  // everything the doctor received, with every bookmark decoded every way we know
  for (const auto& page : pages) {
    disclosed += page.dump();
    for (const auto& item : page["items"]) ADD_FAILURE() << "a report the doctor may not see: " << item.dump();
    std::string b = page.value("bookmark", "");
    disclosed += HexDecoded(b);
  }
  EXPECT_LE(pages.size(), 1u) << "empty pages were handed out with bookmarks";
  for (const auto& id : hidden) EXPECT_EQ(disclosed.find(id), std::string::npos) << "leaked " << id;
}

// Item 5: a bookmark opens only the listing, caller and filters it was issued for.
TEST_F(ServerPagingTest, BookmarksAreBoundToListingCallerAndFilters) {
  const std::string alice = PatientIdOf("alice");
  for (int i = 0; i < 3; ++i) Submit(alice, "dr.house");
  auto first = ParseBody(server_->Get("/api/v1/patients/" + alice + "/access-log?pageSize=1", Token("alice")));
  const std::string bm = first.value("bookmark", "");
  ASSERT_FALSE(bm.empty());
  EXPECT_EQ(bm.find(alice), std::string::npos);
  auto ok = server_->Get("/api/v1/patients/" + alice + "/access-log?pageSize=1&bookmark=" + bm, Token("alice"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto check_refused = [&](const std::string& path, const char* user) {
    auto r = server_->Get(path, Token(user));
    EXPECT_EQ(r.status, 400) << path << " as " << user << ": " << r.body;
    EXPECT_EQ(ProblemCode(r), "invalid_bookmark") << path;
  };
  check_refused("/api/v1/patients/" + alice + "/access-log?pageSize=1&bookmark=" + bm, "audrey");  // another caller
  check_refused("/api/v1/patients/" + alice + "/reports?pageSize=1&bookmark=" + bm, "alice");      // another listing
  auto audit = ParseBody(server_->Get("/api/v1/audit/events?kind=report_created&pageSize=1", Token("audrey")));
  const std::string audit_bm = audit.value("bookmark", "");
  ASSERT_FALSE(audit_bm.empty());
  check_refused("/api/v1/audit/events?kind=emergency&pageSize=1&bookmark=" + audit_bm, "audrey");  // other filters
  std::string tampered = audit_bm;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  check_refused("/api/v1/audit/events?kind=report_created&pageSize=1&bookmark=" + tampered, "audrey");
  check_refused("/api/v1/audit/events?kind=read&pageSize=1&bookmark=" + std::string(3000, 'A'), "audrey");
  auto search = ParseBody(server_->Get("/api/v1/patients?query=&pageSize=1", Token("dr.house")));
  const std::string search_bm = search.value("bookmark", "");
  ASSERT_FALSE(search_bm.empty());
  check_refused("/api/v1/patients?query=a&pageSize=1&bookmark=" + search_bm, "dr.house");  // another query
  check_refused("/api/v1/patients?query=&pageSize=1&bookmark=" + search_bm, "dr.grey");    // another doctor
}

// Item 9: a doctor's lookup and search are on the ledger; the patient sees them; the query text is not stored.
TEST_F(ServerPagingTest, LookupsAndSearchesAreAudited) {
  const std::string alice = PatientIdOf("alice");
  const std::string bob = PatientIdOf("bob");
  auto latest = [&](const char* patient_user, const std::string& pid) {
    auto log = ParseBody(server_->Get("/api/v1/patients/" + pid + "/access-log?pageSize=1", Token(patient_user)));
    return log["items"].empty() ? json() : log["items"][0];
  };
  ASSERT_EQ(server_->Get("/api/v1/patients/" + alice, Token("dr.grey")).status, 200);
  json lookup = latest("alice", alice);
  EXPECT_EQ(lookup.value("kind", ""), "lookup");
  EXPECT_EQ(lookup.value("actor", ""), "dr.grey");
  EXPECT_EQ(lookup.value("patientId", ""), alice);

  // The patient's own look is not an access by someone else.
  ASSERT_EQ(server_->Get("/api/v1/patients/" + alice, Token("alice")).status, 200);
  EXPECT_EQ(latest("alice", alice).value("eventId", ""), lookup.value("eventId", ""));

  // One search returning both patients is one event, copied to each patient's log without the other.
  const std::string marker = "QzxMarkerVwq9";  // matches no one; must not reach the ledger
  auto all = server_->Get("/api/v1/patients?query=&pageSize=100", Token("dr.house"));
  ASSERT_EQ(all.status, 200);
  size_t shown = ParseBody(all)["items"].size();
  ASSERT_GE(shown, 2u);
  json a = latest("alice", alice), b = latest("bob", bob);
  EXPECT_EQ(a.value("kind", ""), "search");
  EXPECT_EQ(a.value("actor", ""), "dr.house");
  EXPECT_EQ(a.value("eventId", ""), b.value("eventId", "")) << "one transaction for the whole search";
  EXPECT_FALSE(a.contains("patientIds"));
  auto searches = ParseBody(server_->Get("/api/v1/audit/events?kind=search&pageSize=1", Token("audrey")));
  ASSERT_EQ(searches["items"].size(), 1u);
  EXPECT_EQ(searches["items"][0]["patientIds"].size(), shown);
  EXPECT_EQ(searches["items"][0].value("resultCount", 0u), shown);

  ASSERT_EQ(server_->Get("/api/v1/patients?query=" + marker, Token("dr.house")).status, 200);
  auto empty_search = ParseBody(server_->Get("/api/v1/audit/events?kind=search&pageSize=1", Token("audrey")));
  ASSERT_EQ(empty_search["items"].size(), 1u);
  EXPECT_EQ(empty_search["items"][0].value("resultCount", 1), 0);
  EXPECT_EQ(empty_search.dump().find(marker), std::string::npos);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server_->data_dir() + "/data")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(marker), std::string::npos) << "the query text is in " << entry.path();
  }
}

// Item 14: the API's range is the contract's; out-of-range sizes are refused, never clamped.
TEST_F(ServerPagingTest, PageSizeIsValidatedAgainstTheContractRange) {
  const std::string alice = PatientIdOf("alice");
  const std::vector<std::string> paths = {"/api/v1/patients/" + alice + "/access-log?",
                                          "/api/v1/patients/" + alice + "/reports?", "/api/v1/audit/events?",
                                          "/api/v1/patients?query=&"};
  const std::vector<const char*> users = {"alice", "alice", "audrey", "dr.house"};
  for (size_t i = 0; i < paths.size(); ++i) {
    for (const char* ok : {"1", "100"}) {
      auto r = server_->Get(paths[i] + "pageSize=" + ok, Token(users[i]));
      EXPECT_EQ(r.status, 200) << paths[i] << ok << ": " << r.body;
    }
    for (const char* bad : {"0", "101", "150", "200", "201", "-1", "abc", "", "1e2", "4294967297"}) {
      auto r = server_->Get(paths[i] + "pageSize=" + bad, Token(users[i]));
      EXPECT_EQ(r.status, 400) << paths[i] << bad << ": " << r.body;
      EXPECT_EQ(ProblemCode(r), "invalid_page_size") << paths[i] << bad;
    }
  }
}

}  // namespace
}  // namespace medledger::testing
