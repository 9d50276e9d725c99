// RecordsService::WalkPatientReports (the FHIR search's walk, docs/FHIR.md "Paging") against a ledger that
// stands in for the contract's ListReportsByPatient: pages never skip or repeat an entry, the walk stops at
// `want` kept entries or at kMaxWalkEntries examined (then a page may be short or empty and still go on), `total`
// is known only for a walk from the start to the end, and the page token is bound to the caller and the query.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "identity/organization.h"
#include "service/records_service.h"
#include "temp_dir.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

const std::string kPatient(64, 'a');

// ListReportsByPatient over `reports` in order; the bookmark is the index of the next entry.
class IndexLedger : public ledger::Ledger {
 public:
  Result<std::string> Evaluate(const identity::SigningIdentity&, const ledger::Invocation& call) override {
    if (call.function != "ListReportsByPatient") return MakeError(ErrorKind::kInternal, "unexpected", call.function);
    json arg = json::parse(call.args.at(0));
    const size_t size = arg.value("pageSize", 0);
    EXPECT_GE(size, contract::kMinPageSize);
    EXPECT_LE(size, contract::kMaxPageSize);
    const std::string from = arg.value("bookmark", "");
    size_t start = from.empty() ? 0 : std::stoul(from);
    json items = json::array();
    size_t i = start;
    for (; i < reports.size() && items.size() < size; ++i) items.push_back(reports[i]);
    ++pages;
    return json{{"bookmark", i < reports.size() ? std::to_string(i) : ""}, {"items", items}}.dump();
  }
  void SubmitAsync(const identity::SigningIdentity&, ledger::Invocation call, SubmitCallback done) override {
    done(MakeError(ErrorKind::kInternal, "unexpected", call.function));
  }
  Result<ledger::ChainInfo> GetChainInfo() override { return ledger::ChainInfo{}; }
  Result<std::string> GetBlock(uint64_t) override { return MakeError(ErrorKind::kNotFound, "block_not_found", ""); }
  Result<ledger::TransactionProof> GetTransactionProof(const std::string&) override {
    return MakeError(ErrorKind::kNotFound, "tx_not_found", "");
  }

  std::vector<json> reports;
  int pages = 0;
};

class ReportWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    identity::CreateOrganizationOptions create;
    create.password_cost = identity::PasswordCost::Minimal();
    auto org = identity::Organization::Create(std::filesystem::path(dir_.path()) / "org", "Walk Hospital", create);
    ASSERT_TRUE(org.ok()) << org.error().ToString();
    org_ = std::move(*org);
    for (const char* u : {"dr.a", "dr.b"}) ASSERT_TRUE(org_->AddUser({u, identity::Role::kDoctor, u, {}}).ok());
    auto sealer = BookmarkSealer::Create(org_->master_key());
    ASSERT_TRUE(sealer.ok());
    sealer_ = std::make_unique<BookmarkSealer>(std::move(*sealer));
    ServiceParts parts;
    parts.ledger = &ledger_;
    parts.org = org_.get();
    parts.bookmarks = sealer_.get();
    svc_ = std::make_unique<RecordsService>(std::move(parts));
  }
  void Fill(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      ledger_.reports.push_back({{"reportId", "r" + std::to_string(i)},
                                 {"patientRef", kPatient},
                                 {"version", i % 3 == 0 ? 2 : 1},
                                 {"author", "dr.a"}});
    }
  }
  static Principal Doctor(const char* name) { return Principal{name, identity::Role::kDoctor}; }
  static bool Amended(const std::string& item) { return json::parse(item).value("version", 0) > 1; }

  testing::TempDir dir_;
  std::unique_ptr<identity::Organization> org_;
  std::unique_ptr<BookmarkSealer> sealer_;
  IndexLedger ledger_;
  std::unique_ptr<RecordsService> svc_;
};

TEST_F(ReportWalkTest, PagesCoverEveryMatchOnceAndTotalOnlyFromStartToEnd) {
  Fill(250);
  std::vector<std::string> seen;
  std::string token;
  int calls = 0;
  do {
    auto walk = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "status=amended", Amended, 7, token);
    ASSERT_TRUE(walk.ok()) << walk.error().ToString();
    EXPECT_LE(walk->items.size(), 7u);
    for (const auto& item : walk->items) seen.push_back(json::parse(item).value("reportId", ""));
    EXPECT_FALSE(walk->complete && !token.empty()) << "a later page cannot know the total";
    token = walk->page_token;
    ASSERT_LT(++calls, 100);
  } while (!token.empty());
  std::vector<std::string> want;
  for (size_t i = 0; i < 250; i += 3) want.push_back("r" + std::to_string(i));
  EXPECT_EQ(seen, want);

  auto all = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "status=amended", Amended, 100, "");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->complete);
  EXPECT_EQ(all->matched, want.size());
  EXPECT_TRUE(all->page_token.empty());
  auto count_only = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "q", Amended, 0, "");
  ASSERT_TRUE(count_only.ok());
  EXPECT_TRUE(count_only->items.empty());
  EXPECT_TRUE(count_only->complete);
  EXPECT_EQ(count_only->matched, want.size());
}

TEST_F(ReportWalkTest, AWalkExaminesAtMostTheBoundAndGoesOn) {
  Fill(2500);
  auto nothing = [](const std::string&) { return false; };
  int before = ledger_.pages;
  auto walk = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "none", nothing, 20, "");
  ASSERT_TRUE(walk.ok());
  EXPECT_TRUE(walk->items.empty());
  EXPECT_FALSE(walk->complete);
  EXPECT_FALSE(walk->page_token.empty()) << "an empty page that is not the end still has a next";
  EXPECT_EQ(ledger_.pages - before, static_cast<int>(RecordsService::kMaxWalkEntries / contract::kMaxPageSize));
  // Three walks reach the end of 2,500 entries.
  auto second = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "none", nothing, 20, walk->page_token);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->page_token.empty());
  auto third = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "none", nothing, 20, second->page_token);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->page_token.empty());
  EXPECT_FALSE(third->complete);
}

TEST_F(ReportWalkTest, TheTokenIsBoundToCallerQueryAndPatient) {
  Fill(50);
  auto keep = [](const std::string&) { return true; };
  auto first = svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "q1", keep, 10, "");
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->page_token.empty());
  EXPECT_EQ(svc_->WalkPatientReports(Doctor("dr.b"), kPatient, "q1", keep, 10, first->page_token).error().code,
            "invalid_bookmark");
  EXPECT_EQ(svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "q2", keep, 10, first->page_token).error().code,
            "invalid_bookmark");
  EXPECT_EQ(
      svc_->WalkPatientReports(Doctor("dr.a"), std::string(64, 'b'), "q1", keep, 10, first->page_token).error().code,
      "invalid_bookmark");
  EXPECT_TRUE(svc_->WalkPatientReports(Doctor("dr.a"), kPatient, "q1", keep, 10, first->page_token).ok());
  // Roles and IDs as the JSON listing: administrators are refused, a malformed patient ID is not found.
  EXPECT_EQ(
      svc_->WalkPatientReports(Principal{"admin", identity::Role::kAdmin}, kPatient, "q", keep, 10, "").error().kind,
      ErrorKind::kPermissionDenied);
  EXPECT_EQ(svc_->WalkPatientReports(Doctor("dr.a"), "xyz", "q", keep, 10, "").error().code, "patient_not_found");
}

}  // namespace
}  // namespace medledger::service
