// FHIR Bulk Data $export (docs/FHIR.md, Bulk Data) over real HTTP against the real binary: kick-off, status
// polling, manifest, NDJSON download, delete; each exported report a recorded read (the patient's access log);
// consent honoured exactly as for a read; other callers 401/404; parameter errors 400. Every NDJSON line and
// every OperationOutcome is validated against the official R4 JSON schema (tests/peers/fhir_validate.js).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "server_harness.h"
#include "source_dir.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kAsync = {"Prefer: respond-async", "Accept: application/fhir+json"};

class BulkExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok());
    for (const char* u : {"admin", "dr.house", "dr.grey", "alice", "bob"}) tokens_[u] = server_->Login(u);
    alice_ = ParseBody(server_->Get("/api/v1/me", tokens_["alice"])).value("patientId", "");
    ASSERT_FALSE(alice_.empty());
    for (int i = 0; i < 3; ++i) Submit("Bulk report " + std::to_string(i));
    // Every report of hers, the demo's included: what a complete export must contain.
    json list = ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["alice"]));
    for (const auto& item : list["items"]) reports_.push_back(item.value("reportId", ""));
    ASSERT_GE(reports_.size(), 3u) << list.dump();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (RunCommand("command -v node").exit_code != 0) GTEST_SKIP() << "node is not installed: no R4 validator";
  }
  void TearDown() override {
    if (received_.empty()) return;
    static std::atomic<int> n{0};
    const std::string file = server_->data_dir() + "/bulk_validate_" + std::to_string(n++) + ".json";
    std::ofstream(file) << received_.dump();
    auto v = RunCommand(std::string("cd '") + MEDLEDGER_SOURCE_DIR + "/tests/peers' && node fhir_validate.js '" + file +
                        "'");
    EXPECT_EQ(v.exit_code, 0) << "R4 schema violations:\n" << v.output;
  }

  static std::string Submit(const std::string& title) {
    json dr = {{"resourceType", "DiagnosticReport"},
               {"status", "final"},
               {"subject", {{"reference", "Patient/" + alice_}}},
               {"code", {{"text", title}}},
               {"conclusion", "conclusion of " + title},
               {"presentedForm", json::array({{{"contentType", "text/plain"}, {"data", "aGVsbG8="}}})}};
    auto r = server_->Request("POST", "/fhir/r4/DiagnosticReport", dr.dump(),
                              {"Content-Type: application/fhir+json", "Authorization: Bearer " + tokens_["dr.house"]});
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseBody(r).value("id", "");
  }
  HttpResult As(const std::string& method, const std::string& path, const char* user,
                std::vector<std::string> headers = {}) {
    if (user != nullptr) headers.push_back("Authorization: Bearer " + tokens_[user]);
    return server_->Request(method, path, "", headers);
  }
  // An OperationOutcome answer: kept for the schema check.
  void Outcome(const HttpResult& r, long status, const std::string& code = "") {
    EXPECT_EQ(r.status, status) << r.body;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body.value("resourceType", ""), "OperationOutcome") << r.body;
    if (!code.empty()) {
      EXPECT_NE(r.body.find(code), std::string::npos) << r.body;
    }
    received_.push_back(body);
  }
  static std::string PathOf(const std::string& url) {
    auto at = url.find("/fhir/r4");
    return at == std::string::npos ? url : url.substr(at);
  }
  // Kicks off as `user`; the status path.
  std::string Kickoff(const char* user, const std::string& query = "") {
    auto r = As("GET", "/fhir/r4/Patient/" + alice_ + "/$export" + query, user, kAsync);
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string location = r.Header("content-location");
    EXPECT_EQ(location.rfind(server_->base_url() + "/fhir/r4/bulk-status/", 0), 0u) << location;
    return PathOf(location);
  }
  // Polls until the job leaves 202 (each 202 carries Retry-After and X-Progress). `forget`: then deletes the
  // job, so the tests stay within the per-caller bound of kept jobs.
  HttpResult Await(const std::string& status_path, const char* user, bool forget = false) {
    for (int i = 0; i < 600; ++i) {
      auto r = As("GET", status_path, user);
      if (r.status != 202) {
        if (forget) {
          EXPECT_EQ(As("DELETE", status_path, user).status, 202);
        }
        return r;
      }
      EXPECT_FALSE(r.Header("retry-after").empty());
      EXPECT_FALSE(r.Header("x-progress").empty());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the export did not finish";
    return {};
  }
  // Downloads every output file of a manifest as `user`; resources by type (each line validated).
  std::map<std::string, std::vector<json>> Download(const json& manifest, const char* user) {
    std::map<std::string, std::vector<json>> out;
    for (const char* list : {"output", "error"}) {
      for (const auto& f : manifest[list]) {
        auto r = As("GET", PathOf(f["url"]), user, {"Accept: application/fhir+ndjson"});
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.Header("content-type"), "application/fhir+ndjson");
        std::istringstream lines(r.body);
        std::string line;
        size_t n = 0;
        while (std::getline(lines, line)) {
          json j = json::parse(line, nullptr, false);
          EXPECT_TRUE(j.is_object()) << line;
          EXPECT_EQ(j.value("resourceType", ""), f.value("type", "")) << line;
          out[f.value("type", "")].push_back(j);
          received_.push_back(j);
          ++n;
        }
        EXPECT_EQ(n, f.value("count", size_t{0}));
      }
    }
    return out;
  }
  size_t AccessLogSize() {
    return ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/access-log?pageSize=100", tokens_["alice"]))["items"]
        .size();
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
  static std::string alice_;
  static std::vector<std::string> reports_;
  json received_ = json::array();
};

ServerProcess* BulkExportTest::server_ = nullptr;
std::map<std::string, std::string> BulkExportTest::tokens_;
std::string BulkExportTest::alice_;
std::vector<std::string> BulkExportTest::reports_;

// The patient exports her record: manifest, NDJSON per type, every report a recorded read; only she can poll,
// download and delete, and after DELETE the status and files are gone.
TEST_F(BulkExportTest, PatientExportsHerOwnRecordEndToEnd) {
  const size_t log_before = AccessLogSize();
  const std::string status = Kickoff("alice", "?_outputFormat=application%2Ffhir%2Bndjson");
  auto done = Await(status, "alice");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.Header("content-type").rfind("application/json", 0), 0u);
  json manifest = json::parse(done.body);
  EXPECT_TRUE(manifest["requiresAccessToken"].get<bool>());
  EXPECT_FALSE(manifest.value("transactionTime", "").empty());
  EXPECT_NE(manifest.value("request", "").find("/fhir/r4/Patient/" + alice_ + "/$export"), std::string::npos);
  EXPECT_TRUE(manifest["error"].empty()) << manifest.dump();

  auto files = Download(manifest, "alice");
  ASSERT_EQ(files["Patient"].size(), 1u);
  EXPECT_EQ(files["Patient"][0]["id"], alice_);
  std::set<std::string> exported;
  for (const auto& dr : files["DiagnosticReport"]) {
    exported.insert(dr.value("id", ""));
    EXPECT_FALSE(dr.value("presentedForm", json::array()).empty()) << "a full read, with content";
  }
  EXPECT_EQ(exported, std::set<std::string>(reports_.begin(), reports_.end()));
  EXPECT_EQ(files["Provenance"].size(), reports_.size());  // one version each
  // Every exported report was a recorded read: one access record per report.
  EXPECT_EQ(AccessLogSize(), log_before + reports_.size());

  // Nobody else sees the job (404, not 403: the ID is not confirmed); no token is a 401.
  const std::string file = PathOf(manifest["output"][1]["url"]);
  for (const char* other : {"bob", "dr.house", "admin"}) {
    Outcome(As("GET", status, other), 404, "export_not_found");
    Outcome(As("GET", file, other), 404, "export_not_found");
    Outcome(As("DELETE", status, other), 404, "export_not_found");
  }
  Outcome(As("GET", status, nullptr), 401);
  Outcome(As("GET", file, nullptr), 401);

  auto del = As("DELETE", status, "alice");
  EXPECT_EQ(del.status, 202) << del.body;
  Outcome(As("GET", status, "alice"), 404, "export_not_found");
  Outcome(As("GET", file, "alice"), 404, "export_not_found");
  Outcome(As("DELETE", status, "alice"), 404, "export_not_found");
}

// _type narrows what is read: a Patient-only export reads no report (the access log does not grow); _since
// after every report exports none of them.
TEST_F(BulkExportTest, TypeAndSinceNarrowTheExport) {
  const size_t log_before = AccessLogSize();
  const std::string only_patient_status = Kickoff("alice", "?_type=Patient");
  auto only_patient = Await(only_patient_status, "alice");
  ASSERT_EQ(only_patient.status, 200) << only_patient.body;
  json m = json::parse(only_patient.body);
  ASSERT_EQ(m["output"].size(), 1u);
  EXPECT_EQ(m["output"][0]["type"], "Patient");
  Download(m, "alice");
  EXPECT_EQ(As("DELETE", only_patient_status, "alice").status, 202);
  EXPECT_EQ(AccessLogSize(), log_before);

  auto later = Await(Kickoff("alice", "?_type=DiagnosticReport,Patient&_since=2100-01-01T00:00:00Z"), "alice", true);
  ASSERT_EQ(later.status, 200) << later.body;
  m = json::parse(later.body);
  ASSERT_EQ(m["output"].size(), 1u) << m.dump();
  EXPECT_EQ(m["output"][0]["type"], "Patient");
  EXPECT_EQ(AccessLogSize(), log_before);

  auto since_past = Await(Kickoff("alice", "?_type=DiagnosticReport&_since=2000-01-01T00:00:00Z"), "alice", true);
  ASSERT_EQ(since_past.status, 200);
  m = json::parse(since_past.body);
  ASSERT_EQ(m["output"].size(), 1u);
  EXPECT_EQ(m["output"][0]["count"], reports_.size());
}

// Consent decides exactly as in the JSON API: without alice's consent dr.grey's listing of her reports is
// empty (the contract lists a doctor without consent only what he wrote himself), so his export completes with no
// DiagnosticReport and reads nothing; with consent it has her reports; revoked, empty again.
TEST_F(BulkExportTest, ConsentIsHonouredAsForReads) {
  const size_t log_before = AccessLogSize();
  auto without_consent = [&] {
    auto listing = server_->Get("/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["dr.grey"]);
    EXPECT_EQ(listing.status, 200) << listing.body;
    EXPECT_TRUE(ParseBody(listing)["items"].empty()) << listing.body;
    auto done = Await(Kickoff("dr.grey", "?_type=DiagnosticReport"), "dr.grey", true);
    ASSERT_EQ(done.status, 200) << done.body;
    json m = json::parse(done.body);
    EXPECT_TRUE(m["output"].empty()) << m.dump();
    EXPECT_TRUE(m["error"].empty()) << m.dump();
    EXPECT_EQ(AccessLogSize(), log_before);
  };
  without_consent();
  // The same as his plain read of one of the reports.
  EXPECT_EQ(As("GET", "/fhir/r4/DiagnosticReport/" + reports_[0], "dr.grey").status, 403);

  std::time_t in_30_days = std::time(nullptr) + 30 * 24 * 3600;
  char expires[32];
  std::strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&in_30_days));
  json consent = {{"doctor", "dr.grey"}, {"purpose", "treatment"}, {"expiresAt", expires}};
  auto granted = server_->PostJson("/api/v1/patients/" + alice_ + "/consents", consent.dump(), tokens_["alice"]);
  ASSERT_EQ(granted.status, 201) << granted.body;
  const std::string consent_id = ParseBody(granted).value("consentId", "");

  const std::string ok_status = Kickoff("dr.grey", "?_type=DiagnosticReport");
  auto ok = Await(ok_status, "dr.grey");
  ASSERT_EQ(ok.status, 200) << ok.body;
  json m = json::parse(ok.body);
  auto files = Download(m, "dr.grey");
  EXPECT_EQ(files["DiagnosticReport"].size(), reports_.size());
  // The access log names dr.grey as the reader of each exported report.
  json log = ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/access-log?pageSize=100", tokens_["alice"]));
  size_t by_grey = 0;
  for (const auto& e : log["items"]) by_grey += e.dump().find("dr.grey") != std::string::npos ? 1 : 0;
  EXPECT_GE(by_grey, reports_.size());
  EXPECT_EQ(As("DELETE", ok_status, "dr.grey").status, 202);

  auto revoke = server_->Request("DELETE", "/api/v1/patients/" + alice_ + "/consents/" + consent_id, "",
                                 {"Authorization: Bearer " + tokens_["alice"]});
  ASSERT_LT(revoke.status, 300) << revoke.body;
  const size_t log_with_grey = AccessLogSize();
  auto after = Await(Kickoff("dr.grey", "?_type=DiagnosticReport"), "dr.grey", true);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(json::parse(after.body)["output"].empty()) << after.body;
  EXPECT_EQ(AccessLogSize(), log_with_grey);
}

// Deny by default: no token 401; another patient's record fails as their reads would (403).
TEST_F(BulkExportTest, UnauthorizedCallers) {
  Outcome(As("GET", "/fhir/r4/Patient/" + alice_ + "/$export", nullptr, kAsync), 401);
  Outcome(Await(Kickoff("bob"), "bob", true), 403);
  Outcome(Await(Kickoff("admin", "?_type=DiagnosticReport"), "admin", true), 403);
}

// Kick-off errors are 400 OperationOutcomes before any job exists; a percent-encoded $ reaches the route.
TEST_F(BulkExportTest, KickoffRequiresAsyncAndValidParameters) {
  const std::string path = "/fhir/r4/Patient/" + alice_ + "/$export";
  Outcome(As("GET", path, "alice", {"Accept: application/fhir+json"}), 400, "respond_async_required");
  Outcome(As("GET", path, "alice", {"Prefer: respond-async"}), 400, "accept_required");
  Outcome(As("GET", path + "?_type=Observation", "alice", kAsync), 400, "unsupported_type");
  Outcome(As("GET", path + "?_outputFormat=text%2Fcsv", "alice", kAsync), 400, "unsupported_output_format");
  Outcome(As("GET", path + "?_since=yesterday", "alice", kAsync), 400, "invalid_since");
  Outcome(As("GET", path + "?_typeFilter=DiagnosticReport%3Fstatus%3Dfinal", "alice", kAsync), 400,
          "unsupported_parameter");
  auto encoded = As("GET", "/fhir/r4/Patient/" + alice_ + "/%24export?_type=Patient", "alice", kAsync);
  EXPECT_EQ(encoded.status, 202) << encoded.body;
  Await(PathOf(encoded.Header("content-location")), "alice", true);
}

}  // namespace
}  // namespace medledger::testing
