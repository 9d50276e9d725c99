// The FHIR R4 API (docs/FHIR.md) over real HTTP against the real binary: metadata, DiagnosticReport create,
// read, vread, history and search (paging, filters, _include, strict/lenient, form-body _search), Patient read
// and search, content negotiation, and errors as OperationOutcome with the JSON API's statuses (410 for an
// erased report). Every resource, Bundle and OperationOutcome received is validated against the official R4
// JSON schema by tests/peers/fhir_validate.js (skipped only when node is absent).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "server_harness.h"
#include "source_dir.h"
#include "verifier/provenance_verifier.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

bool HaveNode() {
  return RunCommand("command -v node").exit_code == 0;
}

// Runs the schema validator on `resources` (a JSON array); its exit code and output.
CommandResult Validate(const json& resources, const std::string& dir) {
  static std::atomic<int> n{0};
  const std::string file = dir + "/fhir_validate_" + std::to_string(n++) + ".json";
  std::ofstream(file) << resources.dump();
  return RunCommand(std::string("cd '") + MEDLEDGER_SOURCE_DIR + "/tests/peers' && node fhir_validate.js '" + file +
                    "'");
}

class FhirTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok());
    for (const char* u : {"admin", "dr.house", "dr.grey", "alice", "bob", "audrey"}) tokens_[u] = server_->Login(u);
    alice_ = ParseBody(server_->Get("/api/v1/me", tokens_["alice"])).value("patientId", "");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!HaveNode()) GTEST_SKIP() << "node is not installed: the R4 schema validator cannot run";
  }
  // Every FHIR answer goes through here: it must be FHIR JSON, and is kept for the schema check in TearDown.
  json Fhir(const HttpResult& r) {
    EXPECT_EQ(r.Header("content-type").rfind("application/fhir+json", 0), 0u) << r.status << " " << r.body;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("resourceType")) << r.body;
    if (body.is_object()) received_.push_back(body);
    return body;
  }
  json SendFhir(const std::string& method, const std::string& path, const json& body, const char* user,
                long want_status) {
    auto r = server_->Request(method, path, body.dump(),
                              {"Content-Type: application/fhir+json", "Authorization: Bearer " + tokens_[user]});
    EXPECT_EQ(r.status, want_status) << method << " " << path << ": " << r.body;
    return Fhir(r);
  }
  HttpResult Get(const std::string& path, const char* user, std::vector<std::string> headers = {}) {
    if (user != nullptr) headers.push_back("Authorization: Bearer " + tokens_[user]);
    return server_->Request("GET", path, "", headers);
  }
  json GetFhir(const std::string& path, const char* user, long want_status) {
    auto r = Get(path, user);
    EXPECT_EQ(r.status, want_status) << path << ": " << r.body;
    return Fhir(r);
  }
  void TearDown() override {
    if (received_.empty()) return;
    auto v = Validate(received_, server_->data_dir());
    EXPECT_EQ(v.exit_code, 0) << "R4 schema violations:\n" << v.output;
  }
  std::string SubmitFhir(const std::string& title, const std::string& text) {
    json dr = {{"resourceType", "DiagnosticReport"},
               {"status", "final"},
               {"subject", {{"reference", "Patient/" + alice_}}},
               {"code", {{"text", title}}},
               {"conclusion", "conclusion of " + title},
               {"presentedForm", json::array({{{"contentType", "text/plain"}, {"data", Base64(text)}}})}};
    auto r = server_->Request("POST", "/fhir/r4/DiagnosticReport", dr.dump(),
                              {"Content-Type: application/fhir+json", "Authorization: Bearer " + tokens_["dr.house"]});
    EXPECT_EQ(r.status, 201) << r.body;
    json created = Fhir(r);
    EXPECT_EQ(r.Header("location"), "/fhir/r4/DiagnosticReport/" + created.value("id", "") + "/_history/1");
    return created.value("id", "");
  }
  static std::string Base64(const std::string& s) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
      for (int sh : {18, 12, 6, 0}) out += k[(v >> sh) & 63];
    }
    if (i + 1 == s.size()) {
      uint32_t v = uint8_t(s[i]) << 16;
      out += k[(v >> 18) & 63];
      out += k[(v >> 12) & 63];
      out += "==";
    } else if (i + 2 == s.size()) {
      uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
      for (int sh : {18, 12, 6}) out += k[(v >> sh) & 63];
      out += '=';
    }
    return out;
  }
  // The entries' resource IDs of one search mode.
  static std::vector<std::string> Ids(const json& bundle, const std::string& mode = "match") {
    std::vector<std::string> ids;
    for (const auto& e : bundle.value("entry", json::array())) {
      if (e["search"].value("mode", "") == mode) ids.push_back(e["resource"].value("id", ""));
    }
    return ids;
  }
  static std::string Link(const json& bundle, const std::string& relation) {
    for (const auto& l : bundle.value("link", json::array())) {
      if (l.value("relation", "") == relation) return l.value("url", "");
    }
    return "";
  }
  // An absolute link of this server as a path.
  static std::string PathOf(const std::string& url) {
    auto at = url.find("/fhir/r4");
    return at == std::string::npos ? url : url.substr(at);
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
  static std::string alice_;
  json received_ = json::array();
};

ServerProcess* FhirTest::server_ = nullptr;
std::map<std::string, std::string> FhirTest::tokens_;
std::string FhirTest::alice_;

// The validator is not vacuous: it rejects a broken resource and a non-resource, and accepts a good one.
TEST_F(FhirTest, ValidatorRejectsInvalidResources) {
  json bad = json::array({{{"resourceType", "DiagnosticReport"}, {"status", "not-a-status"}, {"code", 5}}});
  auto v = Validate(bad, server_->data_dir());
  EXPECT_EQ(v.exit_code, 1) << v.output;
  EXPECT_NE(v.output.find("#0 DiagnosticReport"), std::string::npos) << v.output;
  EXPECT_EQ(Validate(json::array({{{"id", "x"}}}), server_->data_dir()).exit_code, 1);
  // Our own OperationOutcome shape with an invalid issue code must fail too.
  json outcome = {{"resourceType", "OperationOutcome"}, {"issue", json::array({{{"severity", "error"}, {"code", 7}}})}};
  EXPECT_EQ(Validate(json::array({outcome}), server_->data_dir()).exit_code, 1);
  EXPECT_EQ(Validate(json::array({{{"resourceType", "Patient"}, {"id", "p1"}}}), server_->data_dir()).exit_code, 0);
}

TEST_F(FhirTest, MetadataIsPublicAndListsWhatIsServed) {
  json cs = GetFhir("/fhir/r4/metadata", nullptr, 200);
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["format"], json::array({"json"}));
  std::set<std::string> types;
  for (const auto& r : cs["rest"][0]["resource"]) types.insert(r.value("type", ""));
  EXPECT_EQ(types,
            (std::set<std::string>{"DiagnosticReport", "Patient", "Provenance", "AuditEvent", "Consent", "Group"}));
  for (const auto& r : cs["rest"][0]["resource"]) {
    if (r["type"] == "DiagnosticReport") {
      EXPECT_EQ(r["searchRevInclude"], json::array({"Provenance:target"}));
    }
    if (r["type"] == "Consent") {
      EXPECT_EQ(r["interaction"].size(), 4u);  // read search-type create update
    }
  }
}

TEST_F(FhirTest, ReadVreadAndHistory) {
  std::string id = SubmitFhir("Lipid panel", "LDL 3.1 mmol/L");
  json read = GetFhir("/fhir/r4/DiagnosticReport/" + id, "alice", 200);
  EXPECT_EQ(read["status"], "final");
  EXPECT_EQ(read["code"]["text"], "Lipid panel");
  EXPECT_EQ(read["presentedForm"][0]["data"], Base64("LDL 3.1 mmol/L"));
  EXPECT_EQ(read["subject"]["reference"], "Patient/" + alice_);

  json amend = {{"content", "LDL 3.2 mmol/L"}, {"reason", "transcription corrected"}};
  ASSERT_EQ(server_->PostJson("/api/v1/reports/" + id + "/amendments", amend.dump(), tokens_["dr.house"]).status, 201);
  json v2 = GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/2", "dr.house", 200);
  EXPECT_EQ(v2["status"], "amended");
  EXPECT_EQ(v2["meta"]["versionId"], "2");
  EXPECT_EQ(v2["presentedForm"][0]["data"], Base64("LDL 3.2 mmol/L"));
  // An earlier version is metadata only: the contract records reads of the current version.
  json v1 = GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/1", "dr.house", 200);
  EXPECT_EQ(v1["meta"]["versionId"], "1");
  EXPECT_EQ(v1["meta"]["tag"][0]["code"], "SUBSETTED");
  EXPECT_FALSE(v1.contains("presentedForm"));
  json missing = GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/9", "dr.house", 404);
  EXPECT_EQ(missing["resourceType"], "OperationOutcome");
  GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/x", "dr.house", 404);

  json history = GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history", "audrey", 200);
  EXPECT_EQ(history["type"], "history");
  EXPECT_EQ(history["total"], 2);
  ASSERT_EQ(history["entry"].size(), 2u);
  EXPECT_EQ(history["entry"][0]["resource"]["meta"]["versionId"], "2");  // newest first
  EXPECT_EQ(history["entry"][1]["request"]["method"], "POST");

  // A vread of content is a recorded read, as a JSON read is: alice's access log grows by one.
  auto log_size = [&] {
    return ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/access-log?pageSize=100", tokens_["alice"]))["items"]
        .size();
  };
  size_t before = log_size();
  GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/2", "dr.house", 200);
  EXPECT_EQ(log_size(), before + 1);
  // A search is not a read: no access record.
  GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_, "dr.house", 200);
  EXPECT_EQ(log_size(), before + 1);
}

TEST_F(FhirTest, SearchPagesFiltersAndIncludes) {
  std::set<std::string> mine;
  for (int i = 0; i < 5; ++i) mine.insert(SubmitFhir("Panel " + std::to_string(i), "value " + std::to_string(i)));
  // Paging: every report of the patient exactly once, as the JSON API lists them.
  std::set<std::string> json_api;
  const json listed = ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["alice"]));
  for (const auto& item : listed["items"]) {
    json_api.insert(item.value("reportId", ""));
  }
  std::vector<std::string> seen;
  std::string path = "/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_count=2";
  int pages = 0;
  while (!path.empty()) {
    json page = GetFhir(path, "alice", 200);
    EXPECT_LE(Ids(page).size(), 2u);
    for (const auto& id : Ids(page)) seen.push_back(id);
    for (const auto& e : page.value("entry", json::array())) {
      EXPECT_EQ(e["resource"]["meta"]["tag"][0]["code"], "SUBSETTED");
      EXPECT_FALSE(e["resource"].contains("presentedForm"));
    }
    path = PathOf(Link(page, "next"));
    ASSERT_LT(++pages, 50);
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), json_api);
  EXPECT_EQ(seen.size(), json_api.size());
  for (const auto& id : mine) EXPECT_TRUE(json_api.count(id)) << id;

  // One walk covers it all: total is given.
  json all = GetFhir("/fhir/r4/DiagnosticReport?subject=Patient/" + alice_ + "&_count=100", "alice", 200);
  EXPECT_EQ(all["total"], json_api.size());
  json counted = GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_count=0", "alice", 200);
  EXPECT_EQ(counted["total"], json_api.size());
  EXPECT_FALSE(counted.contains("entry"));

  // Filters the index cannot apply.
  char year[8];
  std::time_t now = std::time(nullptr);
  std::strftime(year, sizeof(year), "%Y", std::gmtime(&now));
  EXPECT_EQ(GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&date=" + year + "&_count=100", "alice", 200)
                .value("total", -1),
            static_cast<int>(json_api.size()));
  EXPECT_EQ(GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&date=lt2000-01-01", "alice", 200)["total"], 0);
  EXPECT_EQ(GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_lastUpdated=gt2999", "alice", 200)["total"], 0);
  json finals = GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&status=final&_count=100", "alice", 200);
  for (const auto& e : finals.value("entry", json::array())) EXPECT_EQ(e["resource"]["status"], "final");
  const auto final_ids = Ids(finals);
  for (const auto& id : mine) {
    EXPECT_TRUE(std::find(final_ids.begin(), final_ids.end(), id) != final_ids.end()) << id;
  }

  // _id, _include.
  const std::string one = *mine.begin();
  json by_id = GetFhir("/fhir/r4/DiagnosticReport?_id=" + one + "&_include=DiagnosticReport:subject", "dr.house", 200);
  EXPECT_EQ(Ids(by_id), std::vector<std::string>{one});
  EXPECT_EQ(Ids(by_id, "include"), std::vector<std::string>{alice_});
  EXPECT_EQ(by_id["total"], 1);

  // The same search as a form body.
  auto form = server_->Request(
      "POST", "/fhir/r4/DiagnosticReport/_search", "patient=" + alice_ + "&_count=100",
      {"Content-Type: application/x-www-form-urlencoded", "Authorization: Bearer " + tokens_["alice"]});
  EXPECT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(Fhir(form)["total"], json_api.size());

  // Lenient ignores and leaves unknown parameters out of self; strict refuses them.
  json lenient = GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&color=blue", "alice", 200);
  EXPECT_EQ(Link(lenient, "self").find("color"), std::string::npos);
  auto strict =
      Get("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&color=blue", "alice", {"Prefer: handling=strict"});
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(Fhir(strict)["issue"][0]["code"], "not-supported");
  json required = GetFhir("/fhir/r4/DiagnosticReport?status=final", "dr.house", 400);
  EXPECT_EQ(required["issue"][0]["code"], "required");
  GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&date=ap2026", "alice", 400);
  GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_count=-3", "alice", 400);

  // A page token is bound to the caller and the query.
  json first = GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_count=1", "alice", 200);
  std::string next = PathOf(Link(first, "next"));
  ASSERT_FALSE(next.empty());
  json stolen = GetFhir(next, "dr.house", 400);
  EXPECT_EQ(stolen["issue"][0]["details"]["coding"][0]["code"], "invalid_bookmark");
  std::string token = next.substr(next.find("_page_token="));
  GetFhir("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_count=1&status=final&" + token, "alice", 400);
}

TEST_F(FhirTest, PatientReadAndSearch) {
  json p = GetFhir("/fhir/r4/Patient/" + alice_, "dr.house", 200);
  EXPECT_EQ(p["resourceType"], "Patient");
  EXPECT_EQ(p["id"], alice_);
  std::string name = p["name"][0].value("text", "");
  ASSERT_FALSE(name.empty());
  json found = GetFhir("/fhir/r4/Patient?name=" + UrlEncode(name.substr(0, 3)), "dr.house", 200);
  auto ids = Ids(found);
  EXPECT_NE(std::find(ids.begin(), ids.end(), alice_), ids.end());
  json by_id = GetFhir("/fhir/r4/Patient?_id=" + alice_, "dr.house", 200);
  EXPECT_EQ(Ids(by_id), std::vector<std::string>{alice_});
  json none = GetFhir("/fhir/r4/Patient?_id=" + alice_ + "&birthdate=1800", "dr.house", 200);
  EXPECT_EQ(none["total"], 0);
  // Paging through the directory with next links ends.
  std::string path = "/fhir/r4/Patient?_count=1";
  for (int pages = 0; !path.empty(); ++pages) {
    ASSERT_LT(pages, 100);
    path = PathOf(Link(GetFhir(path, "admin", 200), "next"));
  }
  // A patient may not search the directory, as in the JSON API; another patient's record is refused.
  EXPECT_EQ(server_->Get("/api/v1/patients", tokens_["alice"]).status, 403);
  GetFhir("/fhir/r4/Patient?name=a", "alice", 403);
  long json_status = server_->Get("/api/v1/patients/" + alice_, tokens_["bob"]).status;
  GetFhir("/fhir/r4/Patient/" + alice_, "bob", json_status);
}

TEST_F(FhirTest, NegotiationAndErrorsAreOperationOutcomes) {
  std::string id = SubmitFhir("Negotiation", "text");
  GetFhir("/fhir/r4/DiagnosticReport/" + id + "?_format=xml", "alice", 406);
  GetFhir("/fhir/r4/metadata?_format=application/fhir%2Bxml", nullptr, 406);
  auto xml = Get("/fhir/r4/DiagnosticReport/" + id, "alice", {"Accept: application/fhir+xml"});
  EXPECT_EQ(xml.status, 406);
  Fhir(xml);
  auto json_ok = Get("/fhir/r4/DiagnosticReport/" + id + "?_format=json", "alice", {"Accept: application/fhir+json"});
  EXPECT_EQ(json_ok.status, 200);
  Fhir(json_ok);
  auto pretty = Get("/fhir/r4/DiagnosticReport/" + id + "?_pretty=true", "alice");
  EXPECT_NE(pretty.body.find("\n  \"resourceType\""), std::string::npos);
  Fhir(pretty);

  // Statuses as the JSON API gives them, as OperationOutcomes.
  auto anonymous = Get("/fhir/r4/DiagnosticReport/" + id, nullptr);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(Fhir(anonymous)["issue"][0]["code"], "login");
  for (const char* user : {"bob", "audrey", "admin", "dr.grey"}) {
    long want = server_->Get("/api/v1/reports/" + id, tokens_[user]).status;
    EXPECT_EQ(want, 403) << user;
    EXPECT_EQ(GetFhir("/fhir/r4/DiagnosticReport/" + id, user, want)["issue"][0]["code"], "forbidden") << user;
  }
  GetFhir("/fhir/r4/DiagnosticReport/0123456789abcdef0123456789abcdef", "alice",
          server_->Get("/api/v1/reports/0123456789abcdef0123456789abcdef", tokens_["alice"]).status);
  GetFhir("/fhir/r4/Observation/1", "alice", 404);

  // Erased: 410 Gone, as the JSON API says; history says entered-in-error.
  ASSERT_EQ(server_
                ->PostJson("/api/v1/reports/" + id + "/erasure", json{{"reason", "entered_in_error"}}.dump(),
                           tokens_["admin"])
                .status,
            200);
  EXPECT_EQ(server_->Get("/api/v1/reports/" + id, tokens_["alice"]).status, 410);
  json gone = GetFhir("/fhir/r4/DiagnosticReport/" + id, "alice", 410);
  EXPECT_EQ(gone["issue"][0]["code"], "not-found");
  GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history/1", "alice", 410);
  json history = GetFhir("/fhir/r4/DiagnosticReport/" + id + "/_history", "alice", 200);
  EXPECT_EQ(history["entry"][0]["resource"]["status"], "entered-in-error");
  // The erasure is on the patient's BALP trail as a PatientDelete of the report, by the administrator.
  json erased = GetFhir("/fhir/r4/AuditEvent?subtype=delete&_count=100", "alice", 200);
  bool found = false;
  for (const auto& e : erased.value("entry", json::array())) {
    const json& ev = e["resource"];
    if (ev["entity"][1]["what"].value("reference", "") != "DiagnosticReport/" + id) continue;
    found = true;
    EXPECT_EQ(ev["meta"]["profile"][0],
              "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientDelete");
    EXPECT_EQ(ev["action"], "D");
    EXPECT_EQ(ev["agent"][2]["who"]["identifier"]["value"], "admin");
  }
  EXPECT_TRUE(found) << erased.dump();
}

// Provenance: one per version, found by target, by ID and by _revinclude; authorized as the report's history;
// its signature verifies offline with the organisation root that `medledger log export-trust` exports, and one
// changed byte of it does not.
TEST_F(FhirTest, ProvenancePerVersionAndItsSignatureVerifies) {
  std::string id = SubmitFhir("Provenance", "v1 text");
  json amend = {{"content", "v2 text"}, {"reason", "corrected"}};
  ASSERT_EQ(server_->PostJson("/api/v1/reports/" + id + "/amendments", amend.dump(), tokens_["dr.house"]).status, 201);

  json found = GetFhir("/fhir/r4/Provenance?target=DiagnosticReport/" + id, "alice", 200);
  EXPECT_EQ(found["type"], "searchset");
  EXPECT_EQ(found["total"], 2);
  EXPECT_EQ(Ids(found), (std::vector<std::string>{id + "-v2", id + "-v1"}));
  json v2 = GetFhir("/fhir/r4/Provenance/" + id + "-v2", "dr.house", 200);
  EXPECT_EQ(v2["target"][0]["reference"], "DiagnosticReport/" + id + "/_history/2");
  EXPECT_EQ(v2["agent"][0]["who"]["identifier"]["value"], "dr.house");
  EXPECT_EQ(v2["activity"]["coding"][0]["code"], "UPDATE");
  std::string receipt_url;
  for (const auto& e : v2["entity"]) {
    const std::string ref = e["what"].value("reference", "");
    if (ref.find("/receipt") != std::string::npos) receipt_url = ref;
  }
  EXPECT_NE(receipt_url.find("/api/v1/reports/" + id + "/receipt?version=2"), std::string::npos) << receipt_url;
  ASSERT_TRUE(v2.contains("signature")) << v2.dump();
  GetFhir("/fhir/r4/Provenance/" + id + "-v3", "alice", 404);
  GetFhir("/fhir/r4/Provenance/not-a-provenance", "alice", 404);
  GetFhir("/fhir/r4/Provenance", "alice", 400);  // target is required
  // The report's history rule: no consent, no Provenance; administrators never.
  for (const char* user : {"dr.grey", "bob", "admin"}) {
    long want = server_->Get("/api/v1/reports/" + id + "/history", tokens_[user]).status;
    EXPECT_EQ(want, 403) << user;
    GetFhir("/fhir/r4/Provenance/" + id + "-v1", user, want);
    GetFhir("/fhir/r4/Provenance?target=DiagnosticReport/" + id, user, want);
  }

  json with_rev = GetFhir("/fhir/r4/DiagnosticReport?_id=" + id + "&_revinclude=Provenance:target", "alice", 200);
  EXPECT_EQ(Ids(with_rev), std::vector<std::string>{id});
  EXPECT_EQ(Ids(with_rev, "include"), (std::vector<std::string>{id + "-v1", id + "-v2"}));
  EXPECT_NE(Link(with_rev, "self").find("_revinclude=Provenance:target"), std::string::npos);

  // Offline check with the organisation's root certificate only (what `log export-trust` puts in org-root.pem).
  verifier::TrustSet trust;
  {
    std::ifstream in(server_->data_dir() + "/data/ca/ca-cert.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    trust.org_roots_pem = pem.str();
  }
  ASSERT_NE(trust.org_roots_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  for (const auto& e : found["entry"]) {
    auto ok = verifier::VerifyProvenanceSignature(e["resource"].dump(), trust);
    EXPECT_TRUE(ok.ok()) << e["resource"]["id"] << ": " << ok.error().ToString();
  }
  // The same with the command a verifier runs: `medledger receipt verify-provenance`.
  const std::string root_file = server_->data_dir() + "/data/ca/ca-cert.pem";
  const std::string prov_file = server_->data_dir() + "/provenance-v2.json";
  std::ofstream(prov_file) << v2.dump();
  auto cli = RunMedledger("receipt verify-provenance '" + prov_file + "' --org-root '" + root_file + "'");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("Provenance signature verified"), std::string::npos) << cli.output;
  json tampered = v2;
  tampered["signature"][0]["who"]["identifier"]["value"] = "someone-else";
  std::ofstream(prov_file) << tampered.dump();
  cli = RunMedledger("receipt verify-provenance '" + prov_file + "' --org-root '" + root_file + "'");
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find("provenance_mismatch"), std::string::npos) << cli.output;
  EXPECT_EQ(RunMedledger("receipt verify-provenance '" + prov_file + "'").exit_code, 2);

  json v1 = found["entry"][1]["resource"];
  json swapped = v1;  // version 1's signature does not stand for version 2
  swapped["target"][0]["reference"] = "DiagnosticReport/" + id + "/_history/2";
  EXPECT_FALSE(verifier::VerifyProvenanceSignature(swapped.dump(), trust).ok());
  json other = v1;  // version 2's transaction under version 1's claims
  other["signature"][0]["data"] = v2["signature"][0]["data"];
  EXPECT_FALSE(verifier::VerifyProvenanceSignature(other.dump(), trust).ok());
}

// The Provenance bounds: a report of 101 versions gets at most 100 Provenances from a search (newest first, no
// total) and from _revinclude, which then says it stopped with an OperationOutcome entry.
TEST_F(FhirTest, ProvenanceAnswersAreBounded) {
  std::string id = SubmitFhir("Many versions", "v1");
  for (int v = 2; v <= 101; ++v) {
    json amend = {{"content", "v" + std::to_string(v)}, {"reason", "revision " + std::to_string(v)}};
    ASSERT_EQ(server_->PostJson("/api/v1/reports/" + id + "/amendments", amend.dump(), tokens_["dr.house"]).status, 201)
        << v;
  }
  json page = GetFhir("/fhir/r4/Provenance?target=DiagnosticReport/" + id + "&_count=100", "alice", 200);
  EXPECT_FALSE(page.contains("total"));
  ASSERT_EQ(page["entry"].size(), 100u);
  EXPECT_EQ(page["entry"][0]["resource"]["id"], id + "-v101");
  EXPECT_EQ(page["entry"][99]["resource"]["id"], id + "-v2");
  json with_rev = GetFhir("/fhir/r4/DiagnosticReport?_id=" + id + "&_revinclude=Provenance:target", "alice", 200);
  EXPECT_EQ(Ids(with_rev, "include").size(), 100u);
  ASSERT_EQ(Ids(with_rev, "outcome").size(), 1u);
  const json& outcome = with_rev["entry"].back()["resource"];
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_EQ(outcome["issue"][0]["code"], "too-costly");
  EXPECT_EQ(outcome["issue"][0]["severity"], "warning");
  // One version is still one read.
  EXPECT_EQ(GetFhir("/fhir/r4/Provenance/" + id + "-v1", "alice", 200)["id"], id + "-v1");
}

bool HasProfile(const json& ev, const std::string& name) {
  for (const auto& p : ev["meta"].value("profile", json::array())) {
    if (p == "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit." + name) return true;
  }
  return false;
}

// AuditEvent as BALP: the patient reads their own trail, the auditor anyone's; filters by agent, subtype, type,
// date; _count pages with next links; everyone else is refused as by the JSON API.
TEST_F(FhirTest, BalpAuditEventsForThePatientAndTheAuditor) {
  std::string id = SubmitFhir("Audited", "audited text");
  GetFhir("/fhir/r4/DiagnosticReport/" + id, "dr.house", 200);  // a recorded read by the author
  GetFhir("/fhir/r4/DiagnosticReport/" + id, "alice", 200);

  json mine =
      GetFhir("/fhir/r4/AuditEvent?patient=" + alice_ + "&subtype=read&agent=dr.house&_count=100", "alice", 200);
  ASSERT_FALSE(mine.value("entry", json::array()).empty()) << mine.dump();
  bool read_of_report = false;
  for (const auto& e : mine["entry"]) {
    const json& ev = e["resource"];
    EXPECT_EQ(ev["agent"][2]["who"]["identifier"]["value"], "dr.house");
    EXPECT_EQ(ev["subtype"][0]["code"], "read");
    for (const auto& ent : ev["entity"]) {
      read_of_report = read_of_report || (ent["what"].value("reference", "") == "DiagnosticReport/" + id &&
                                          HasProfile(ev, "PatientRead"));
    }
  }
  EXPECT_TRUE(read_of_report) << mine.dump();
  // The patient's own trail is the default for a patient; agent and date filter it.
  json none = GetFhir("/fhir/r4/AuditEvent?agent=nobody", "alice", 200);
  EXPECT_TRUE(none.value("entry", json::array()).empty());
  json future = GetFhir("/fhir/r4/AuditEvent?date=gt2100-01-01", "alice", 200);
  EXPECT_TRUE(future.value("entry", json::array()).empty());
  json today = GetFhir("/fhir/r4/AuditEvent?date=ge2026-01-01&type=rest&_count=100", "alice", 200);
  EXPECT_FALSE(today.value("entry", json::array()).empty());
  GetFhir("/fhir/r4/AuditEvent?date=ap2026", "alice", 400);
  // Paging: _count=1 gives one entry and a next link that gives another.
  json page1 = GetFhir("/fhir/r4/AuditEvent?patient=" + alice_ + "&_count=1", "audrey", 200);
  ASSERT_EQ(page1["entry"].size(), 1u);
  ASSERT_FALSE(Link(page1, "next").empty());
  json page2 = GetFhir(PathOf(Link(page1, "next")), "audrey", 200);
  ASSERT_EQ(page2["entry"].size(), 1u);
  EXPECT_NE(page1["entry"][0]["resource"]["id"], page2["entry"][0]["resource"]["id"]);
  // The auditor: every patient's, filtered by agent with the organisation.
  json audited = GetFhir("/fhir/r4/AuditEvent?agent=dr.house&subtype=urn:medledger:audit-kind|read", "audrey", 200);
  EXPECT_FALSE(audited.value("entry", json::array()).empty());
  // Break-glass by a doctor without consent: a PatientRead with purposeOfEvent ETREAT on the patient's trail.
  json reason = {{"reason", "Patient unconscious, allergy history needed"}};
  ASSERT_EQ(server_->PostJson("/api/v1/reports/" + id + "/emergency-access", reason.dump(), tokens_["dr.grey"]).status,
            201);
  json glass = GetFhir("/fhir/r4/AuditEvent?agent=dr.grey&subtype=urn:medledger:audit-kind|emergency", "alice", 200);
  ASSERT_FALSE(glass.value("entry", json::array()).empty()) << glass.dump();
  const json& emergency = glass["entry"][0]["resource"];
  EXPECT_TRUE(HasProfile(emergency, "PatientRead"));
  EXPECT_EQ(emergency["purposeOfEvent"][0]["coding"][0]["code"], "ETREAT");
  // Refused as by the JSON API: doctors, administrators, another patient's trail.
  for (const char* user : {"dr.house", "admin"}) {
    EXPECT_EQ(server_->Get("/api/v1/audit/events", tokens_[user]).status, 403);
    GetFhir("/fhir/r4/AuditEvent", user, 403);
  }
  GetFhir("/fhir/r4/AuditEvent?patient=" + alice_, "bob", 403);
}

// Consent: the patient grants (POST), reads, searches and revokes (PUT status inactive); the ledger records each,
// as the BALP trail shows; nobody else may, and a broken Consent is an OperationOutcome.
TEST_F(FhirTest, ConsentLifecycleByThePatient) {
  std::time_t t = std::time(nullptr) + 30 * 24 * 3600;
  char end[32];
  std::strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  json consent = {
      {"resourceType", "Consent"},
      {"status", "active"},
      {"scope",
       {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
                                 {"code", "patient-privacy"}}})}}},
      {"category", json::array({{{"coding", json::array({{{"system", "http://loinc.org"}, {"code", "59284-0"}}})}}})},
      {"patient", {{"reference", "Patient/" + alice_}}},
      {"provision",
       {{"type", "permit"},
        {"period", {{"end", end}}},
        {"actor",
         json::array(
             {{{"role",
                {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                                          {"code", "IRCP"}}})}}},
               {"reference", {{"reference", "Practitioner/dr.grey"}}}}})},
        {"purpose", json::array({{{"system", "urn:medledger:consent-purpose"}, {"code", "treatment"}}})}}}};
  received_.push_back(consent);  // what we send must be valid R4 too
  for (const char* user : {"dr.house", "bob", "admin", "audrey"})
    SendFhir("POST", "/fhir/r4/Consent", consent, user, 403);
  json created = SendFhir("POST", "/fhir/r4/Consent", consent, "alice", 201);
  const std::string cid = created.value("id", "");
  ASSERT_EQ(cid.size(), 64u) << created.dump();
  EXPECT_EQ(created["status"], "active");
  EXPECT_EQ(created["provision"]["actor"][0]["reference"]["identifier"]["value"], "dr.grey");
  // dr.grey may now read alice's reports, as with a JSON API grant.
  std::string id = SubmitFhir("Consented", "consented text");
  GetFhir("/fhir/r4/DiagnosticReport/" + id, "dr.grey", 200);

  json read = GetFhir("/fhir/r4/Consent/" + cid, "alice", 200);
  EXPECT_EQ(read["status"], "active");
  json active = GetFhir("/fhir/r4/Consent?patient=" + alice_ + "&status=active&actor=dr.grey", "alice", 200);
  bool listed = false;
  for (const auto& e : active["entry"]) listed = listed || e["resource"]["id"] == cid;
  EXPECT_TRUE(listed);
  GetFhir("/fhir/r4/Consent?patient=" + alice_, "admin", 200);  // as the JSON listing: administrators see codes
  GetFhir("/fhir/r4/Consent?patient=" + alice_, "dr.grey", 403);
  GetFhir("/fhir/r4/Consent?status=active", "alice", 400);

  json revoke = read;
  revoke["status"] = "inactive";
  SendFhir("PUT", "/fhir/r4/Consent/" + cid, revoke, "bob", 403);
  SendFhir("PUT", "/fhir/r4/Consent/" + cid, read, "alice", 422);  // only revocation is an update
  SendFhir("PUT", "/fhir/r4/Consent/" + cid, revoke, "alice", 200);
  EXPECT_EQ(GetFhir("/fhir/r4/Consent/" + cid, "alice", 200)["status"], "inactive");
  GetFhir("/fhir/r4/DiagnosticReport/" + id, "dr.grey", 403);

  // The grant and the revocation are on the patient's BALP trail.
  json granted =
      GetFhir("/fhir/r4/AuditEvent?subtype=urn:medledger:audit-kind|consent_granted&_count=100", "alice", 200);
  ASSERT_FALSE(granted.value("entry", json::array()).empty());
  EXPECT_TRUE(HasProfile(granted["entry"][0]["resource"], "PatientCreate"));
  json revoked = GetFhir("/fhir/r4/AuditEvent?subtype=update&_count=100", "alice", 200);
  ASSERT_FALSE(revoked.value("entry", json::array()).empty());
  EXPECT_TRUE(HasProfile(revoked["entry"][0]["resource"], "PatientUpdate"));

  // Broken resources: OperationOutcome naming the FHIRPath.
  json broken = consent;
  broken["provision"]["period"]["end"] = 5;
  json outcome = SendFhir("POST", "/fhir/r4/Consent", broken, "alice", 422);
  EXPECT_EQ(outcome["issue"][0]["expression"][0], "Consent.provision.period.end");
  json past = consent;
  past["provision"]["period"]["end"] = "2001-01-01T00:00:00Z";
  SendFhir("POST", "/fhir/r4/Consent", past, "alice", 422);
  auto not_json =
      server_->Request("POST", "/fhir/r4/Consent", "{",
                       {"Content-Type: application/fhir+json", "Authorization: Bearer " + tokens_["alice"]});
  EXPECT_EQ(not_json.status, 400);
  Fhir(not_json);
}

}  // namespace
}  // namespace medledger::testing
