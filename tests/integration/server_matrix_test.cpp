// The authorization matrix over real HTTP: every endpoint x every role x own/other patient, then the
// consent states (none, active, revoked) and break-glass for a second doctor. Deny by default: any cell
// not listed as allowed must be refused. SMART app tokens (patient/ and user/ scopes) get the rights of their user
// within their scopes and patient, and 403 outside them.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "jws_test_key.h"
#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const char* const kUsers[] = {"admin", "dr.house", "dr.grey", "alice", "bob", "audrey"};

class MatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok());
    for (const char* u : kUsers) tokens_[u] = server_->Login(u);
    alice_ = json::parse(server_->Get("/api/v1/me", tokens_["alice"]).body).value("patientId", "");
    json body = {{"patientId", alice_}, {"title", "Matrix"}, {"diagnosis", "d"}, {"content", "matrix report"}};
    auto r = server_->PostJson("/api/v1/reports", body.dump(), tokens_["dr.house"]);
    report_ = json::parse(r.body).value("reportId", "");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string Future(int days) {
    std::time_t t = std::time(nullptr) + days * 24 * 3600;
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
  }
  long Call(const std::string& user, const std::string& method, const std::string& path, const std::string& body) {
    std::vector<std::string> h = {"Authorization: Bearer " + tokens_[user]};
    if (method != "GET") h.push_back("Content-Type: application/json");
    return server_->Request(method, path, body, h).status;
  }
  // A FHIR Consent of alice for `doctor`, 30 days.
  static json FhirConsent(const std::string& doctor) {
    return {
        {"resourceType", "Consent"},
        {"status", "active"},
        {"patient", {{"reference", "Patient/" + alice_}}},
        {"provision",
         {{"type", "permit"},
          {"period", {{"end", Future(30)}}},
          {"actor",
           json::array(
               {{{"role",
                  {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                                            {"code", "IRCP"}}})}}},
                 {"reference", {{"reference", "Practitioner/" + doctor}}}}})}}}};
  }
  struct Row {
    std::string method, path, body;
    std::map<std::string, long> allowed;  // user -> success status; everyone else must get 403
  };
  void Check(const std::vector<Row>& rows, const std::string& state) {
    for (const auto& row : rows) {
      for (const char* u : kUsers) {
        auto it = row.allowed.find(u);
        long want = it == row.allowed.end() ? 403 : it->second;
        EXPECT_EQ(Call(u, row.method, row.path, row.body), want)
            << state << ": " << u << " " << row.method << " " << row.path;
      }
    }
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
  static std::string alice_, report_;
};

ServerProcess* MatrixTest::server_ = nullptr;
std::map<std::string, std::string> MatrixTest::tokens_;
std::string MatrixTest::alice_, MatrixTest::report_;

TEST_F(MatrixTest, EndpointsByRoleOwnAndOtherPatient) {
  ASSERT_EQ(report_.size(), 32u);
  std::string p = "/api/v1/patients/" + alice_;
  std::string r = "/api/v1/reports/" + report_;
  json report_body = {{"patientId", alice_}, {"title", "t"}, {"diagnosis", "d"}, {"content", "c"}};
  std::vector<Row> rows = {
      {"GET", r, "", {{"dr.house", 200}, {"alice", 200}}},
      {"GET", r + "/document", "", {{"dr.house", 200}, {"alice", 200}}},
      {"GET", r + "/ciphertext", "", {{"dr.house", 200}, {"alice", 200}}},
      {"GET", r + "/history", "", {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", r + "/proof", "", {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/DiagnosticReport/" + report_, "", {{"dr.house", 200}, {"alice", 200}}},
      // FHIR: each interaction answers as the JSON route it stands for (docs/FHIR.md).
      {"GET", "/fhir/r4/DiagnosticReport/" + report_ + "/_history/1", "", {{"dr.house", 200}, {"alice", 200}}},
      {"GET",
       "/fhir/r4/DiagnosticReport/" + report_ + "/_history",
       "",
       {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", p + "/reports", "", {{"dr.house", 200}, {"dr.grey", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET",
       "/fhir/r4/DiagnosticReport?patient=" + alice_,
       "",
       {{"dr.house", 200}, {"dr.grey", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/DiagnosticReport?_id=" + report_, "", {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      // Provenance: the report's history rule; AuditEvent: the access log's (patients their own, auditors
      // all); Consent: the consent listing's (the patient, administrators).
      {"GET",
       "/fhir/r4/Provenance?target=DiagnosticReport/" + report_,
       "",
       {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/Provenance/" + report_ + "-v1", "", {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET",
       "/fhir/r4/DiagnosticReport?_id=" + report_ + "&_revinclude=Provenance:target",
       "",
       {{"dr.house", 200}, {"alice", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/AuditEvent?patient=" + alice_, "", {{"alice", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/AuditEvent", "", {{"alice", 200}, {"bob", 200}, {"audrey", 200}}},
      {"GET", "/fhir/r4/Consent?patient=" + alice_, "", {{"admin", 200}, {"alice", 200}}},
      {"GET", "/fhir/r4/Patient/" + alice_, "", {{"admin", 200}, {"dr.house", 200}, {"dr.grey", 200}, {"alice", 200}}},
      {"GET", "/fhir/r4/Patient", "", {{"admin", 200}, {"dr.house", 200}, {"dr.grey", 200}}},
      {"GET", p, "", {{"admin", 200}, {"dr.house", 200}, {"dr.grey", 200}, {"alice", 200}}},
      {"GET", "/api/v1/patients", "", {{"admin", 200}, {"dr.house", 200}, {"dr.grey", 200}}},
      {"GET", p + "/consents", "", {{"admin", 200}, {"alice", 200}}},
      {"GET", p + "/access-log", "", {{"alice", 200}, {"audrey", 200}}},
      {"GET", "/api/v1/audit/events", "", {{"audrey", 200}}},
      {"GET", "/api/v1/ledger/status", "", {{"admin", 200}, {"audrey", 200}}},
      {"GET", "/api/v1/users", "", {{"admin", 200}}},
      {"GET", "/api/v1/erasures", "", {{"admin", 200}, {"audrey", 200}}},
      {"POST", "/api/v1/reports", report_body.dump(), {{"dr.house", 201}, {"dr.grey", 201}}},
  };
  Check(rows, "no consent");
  // Writes whose success changes state are checked for the refused roles only.
  json consent = {{"doctor", "dr.grey"}, {"purpose", "care"}, {"expiresAt", Future(30)}};
  for (const char* u : {"admin", "dr.house", "dr.grey", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "POST", p + "/consents", consent.dump()), 403) << u;
    EXPECT_EQ(Call(u, "POST", "/fhir/r4/Consent", FhirConsent("dr.grey").dump()), 403) << u;
  }
  json amend = {{"content", "amended text"}, {"reason", "typo fixed"}};
  for (const char* u : {"admin", "dr.grey", "alice", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "POST", r + "/amendments", amend.dump()), 403) << u;
  }
  json reason = {{"reason", "Patient unconscious, allergy history needed"}};
  for (const char* u : {"admin", "alice", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "POST", r + "/emergency-access", reason.dump()), 403) << u;
  }
  // Erasure: administrators only. The report stays (the next test reads it), so the administrator's call is one
  // the service refuses after authorization, for its reason code.
  json erasure = {{"reason", "patient_request"}};
  for (const char* u : {"dr.house", "dr.grey", "alice", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "POST", r + "/erasure", erasure.dump()), 403) << u;
  }
  EXPECT_EQ(Call("admin", "POST", r + "/erasure", json{{"reason", "no_such_reason"}}.dump()), 400);
  json patient = {{"mrn", "MRN-X1"}, {"name", "New Person"}, {"birthDate", "1990-01-01"}};
  for (const char* u : {"dr.house", "dr.grey", "alice", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "POST", "/api/v1/patients", patient.dump()), 403) << u;
  }
  EXPECT_EQ(Call("admin", "POST", "/api/v1/patients", patient.dump()), 201);
  EXPECT_EQ(Call("admin", "POST", "/api/v1/patients", patient.dump()), 409);  // same MRN

  // The author amends: a new version linked to the old one.
  auto amended = server_->PostJson(r + "/amendments", amend.dump(), tokens_["dr.house"]);
  ASSERT_EQ(amended.status, 201) << amended.body;
  EXPECT_EQ(json::parse(amended.body).value("version", 0), 2);
  auto now = json::parse(server_->Get(r, tokens_["alice"]).body);
  EXPECT_EQ(now.value("content", ""), "amended text");
  EXPECT_EQ(now.value("version", 0), 2);
  auto history = json::parse(server_->Get(r + "/history", tokens_["audrey"]).body);
  EXPECT_EQ(history["items"].size(), 2u) << history.dump();
}

TEST_F(MatrixTest, SecondDoctorAcrossConsentStatesAndBreakGlass) {
  std::string p = "/api/v1/patients/" + alice_;
  std::string r = "/api/v1/reports/" + report_;
  const std::string fr = "/fhir/r4/DiagnosticReport/" + report_;
  auto grey_reads = [&] {
    return std::vector<long>{Call("dr.grey", "GET", r, ""), Call("dr.grey", "GET", r + "/history", ""),
                             Call("dr.grey", "GET", r + "/proof", ""), Call("dr.grey", "GET", fr, ""),
                             Call("dr.grey", "GET", fr + "/_history", ""),
                             Call("dr.grey", "GET", "/fhir/r4/Provenance?target=DiagnosticReport/" + report_, ""),
                             Call("dr.grey", "GET", "/fhir/r4/Provenance/" + report_ + "-v1", ""),
                             // never the access trail, whatever the consent
                             Call("dr.grey", "GET", "/fhir/r4/AuditEvent?patient=" + alice_, "") == 403 ? 0 : 1};
  };
  const std::vector<long> refused = {403, 403, 403, 403, 403, 403, 403, 0};
  const std::vector<long> allowed = {200, 200, 200, 200, 200, 200, 200, 0};
  EXPECT_EQ(grey_reads(), refused) << "no consent";
  // Consent for another doctor does not help dr.grey.
  json for_house = {{"doctor", "dr.house"}, {"purpose", "care"}, {"expiresAt", Future(30)}};
  ASSERT_EQ(server_->PostJson(p + "/consents", for_house.dump(), tokens_["alice"]).status, 201);
  EXPECT_EQ(grey_reads(), refused) << "consent for someone else";
  json for_grey = {{"doctor", "dr.grey"}, {"purpose", "care"}, {"expiresAt", Future(30)}};
  auto granted = server_->PostJson(p + "/consents", for_grey.dump(), tokens_["alice"]);
  ASSERT_EQ(granted.status, 201);
  EXPECT_EQ(grey_reads(), allowed) << "active consent";
  // Bob cannot revoke Alice's consent; Alice can.
  std::string consent_id = json::parse(granted.body).value("consentId", "");
  EXPECT_EQ(Call("bob", "DELETE", p + "/consents/" + consent_id, ""), 403);
  EXPECT_EQ(Call("alice", "DELETE", p + "/consents/" + consent_id, ""), 204);
  EXPECT_EQ(grey_reads(), refused) << "revoked consent";
  // The same through FHIR: a Consent created by the patient opens, its revocation (PUT inactive) closes.
  auto fhir_granted =
      server_->Request("POST", "/fhir/r4/Consent", FhirConsent("dr.grey").dump(),
                       {"Content-Type: application/fhir+json", "Authorization: Bearer " + tokens_["alice"]});
  ASSERT_EQ(fhir_granted.status, 201) << fhir_granted.body;
  json fhir_consent = json::parse(fhir_granted.body);
  EXPECT_EQ(grey_reads(), allowed) << "active FHIR consent";
  // Read by ID: among the caller's own grants, so another patient finds nothing (404) and non-patients are refused.
  const std::map<std::string, long> read_by_id = {{"admin", 403}, {"dr.house", 403}, {"dr.grey", 403},
                                                  {"alice", 200}, {"bob", 404},      {"audrey", 403}};
  for (const auto& [u, want] : read_by_id) {
    EXPECT_EQ(Call(u, "GET", "/fhir/r4/Consent/" + fhir_consent.value("id", ""), ""), want) << u;
  }
  fhir_consent["status"] = "inactive";
  for (const char* u : {"admin", "dr.house", "dr.grey", "bob", "audrey"}) {
    EXPECT_EQ(Call(u, "PUT", "/fhir/r4/Consent/" + fhir_consent.value("id", ""), fhir_consent.dump()), 403) << u;
  }
  EXPECT_EQ(Call("alice", "PUT", "/fhir/r4/Consent/" + fhir_consent.value("id", ""), fhir_consent.dump()), 200);
  EXPECT_EQ(grey_reads(), refused) << "revoked FHIR consent";
  // A consent that is already expired cannot be created (so none can linger as valid).
  json expired = {{"doctor", "dr.grey"}, {"purpose", "care"}, {"expiresAt", "2001-01-01T00:00:00Z"}};
  EXPECT_EQ(server_->PostJson(p + "/consents", expired.dump(), tokens_["alice"]).status, 422);
  // Break-glass opens this report to dr.grey, and the patient sees it.
  json reason = {{"reason", "Patient unconscious, allergy history needed"}};
  ASSERT_EQ(server_->PostJson(r + "/emergency-access", reason.dump(), tokens_["dr.grey"]).status, 201);
  EXPECT_EQ(Call("dr.grey", "GET", r, ""), 200) << "break-glass";
  EXPECT_EQ(Call("dr.grey", "GET", fr, ""), 200) << "break-glass";
  // Bob's records stay closed to dr.grey whatever Alice granted.
  std::string bob = json::parse(server_->Get("/api/v1/me", tokens_["bob"]).body).value("patientId", "");
  EXPECT_EQ(Call("dr.grey", "GET", "/api/v1/patients/" + bob + "/access-log", ""), 403);
  EXPECT_EQ(Call("alice", "GET", "/api/v1/patients/" + bob + "/reports", ""), 403);
  EXPECT_EQ(Call("bob", "GET", "/api/v1/patients/" + bob + "/reports", ""), 200);
  EXPECT_EQ(Call("alice", "GET", "/fhir/r4/DiagnosticReport?patient=" + bob, ""), 403);
  EXPECT_EQ(Call("alice", "GET", "/fhir/r4/Patient/" + bob, ""), Call("alice", "GET", "/api/v1/patients/" + bob, ""));
  EXPECT_EQ(Call("bob", "GET", "/fhir/r4/DiagnosticReport?patient=" + bob, ""), 200);
}

// An app's access token for `user` with `scope`: authorize, approve through the consent API, redeem with PKCE.
std::string SmartToken(ServerProcess& server, const std::string& user_token, const std::string& client,
                       const std::string& scope) {
  const std::string redirect = "http://127.0.0.1:9/cb";
  const std::string verifier = "matrix-verifier-0123456789-0123456789-0123456789";
  auto r =
      server.Get("/oauth2/authorize?response_type=code&client_id=" + client + "&redirect_uri=" + UrlEncode(redirect) +
                 "&scope=" + UrlEncode(scope) + "&state=s&aud=" + UrlEncode(server.base_url() + "/fhir/r4") +
                 "&code_challenge=" + Base64UrlEncode(crypto::Sha256(verifier)) + "&code_challenge_method=S256");
  std::string location = r.Header("location");
  std::string request = location.substr(location.find("request=") + 8);
  auto decided = server.PostJson("/api/v1/oauth2/requests/" + request + "/decision", R"({"approve":true})", user_token);
  std::string to = ParseBody(decided).value("redirectUri", "");
  auto at = to.find("code=");
  if (at == std::string::npos) return "";
  std::string code = to.substr(at + 5, to.find('&', at) - at - 5);
  auto token = server.Request("POST", "/oauth2/token",
                              "grant_type=authorization_code&client_id=" + client + "&code=" + code +
                                  "&code_verifier=" + verifier + "&redirect_uri=" + UrlEncode(redirect),
                              {"Content-Type: application/x-www-form-urlencoded"});
  return ParseBody(token).value("access_token", "");
}

TEST_F(MatrixTest, SmartAppTokensWithinScopeAndPatient) {
  std::string bob = json::parse(server_->Get("/api/v1/me", tokens_["bob"]).body).value("patientId", "");
  json app = {{"name", "Matrix app"},
              {"redirectUris", {"http://127.0.0.1:9/cb"}},
              {"scope", "launch/patient patient/*.cruds user/*.cruds"}};
  const std::string client =
      ParseBody(server_->PostJson("/api/v1/apps", app.dump(), tokens_["admin"])).value("clientId", "");
  ASSERT_FALSE(client.empty());
  struct AppToken {
    std::string user, scope, type;  // type: the one resource type granted, or "*"
    bool patient_context;
    std::string token;
  };
  std::vector<AppToken> apps = {
      {"alice", "launch/patient patient/DiagnosticReport.rs", "DiagnosticReport", true, ""},
      {"alice", "launch/patient patient/*.rs", "*", true, ""},
      {"alice", "user/*.rs", "*", true, ""},  // a patient user's token always carries their patient
      {"dr.house", "user/DiagnosticReport.rs", "DiagnosticReport", false, ""},
      {"dr.house", "user/*.rs", "*", false, ""},
      {"audrey", "user/AuditEvent.rs", "AuditEvent", false, ""},
      {"admin", "user/*.rs", "*", false, ""},
  };
  for (auto& a : apps) {
    a.token = SmartToken(*server_, tokens_[a.user], client, a.scope);
    ASSERT_FALSE(a.token.empty()) << a.user << " " << a.scope;
  }
  struct Row {
    std::string path, type;
    bool other_patient;  // names a patient other than alice
  };
  const std::vector<Row> rows = {
      {"/fhir/r4/DiagnosticReport/" + report_, "DiagnosticReport", false},
      {"/fhir/r4/DiagnosticReport?patient=" + alice_, "DiagnosticReport", false},
      {"/fhir/r4/DiagnosticReport?patient=" + bob, "DiagnosticReport", true},
      {"/fhir/r4/DiagnosticReport/" + report_ + "/_history", "DiagnosticReport", false},
      {"/fhir/r4/Patient/" + alice_, "Patient", false},
      {"/fhir/r4/Patient/" + bob, "Patient", true},
      {"/fhir/r4/Provenance/" + report_ + "-v1", "Provenance", false},
      {"/fhir/r4/AuditEvent?patient=" + alice_, "AuditEvent", false},
      {"/fhir/r4/Consent?patient=" + alice_, "Consent", false},
  };
  for (const auto& a : apps) {
    for (const auto& row : rows) {
      const long as_user = server_->Request("GET", row.path, "", {"Authorization: Bearer " + tokens_[a.user]}).status;
      const bool in_scope = a.type == "*" || a.type == row.type;
      const long want = !in_scope || (a.patient_context && row.other_patient) ? 403 : as_user;
      EXPECT_EQ(server_->Request("GET", row.path, "", {"Authorization: Bearer " + a.token}).status, want)
          << a.user << " [" << a.scope << "] " << row.path << " (as the user: " << as_user << ")";
    }
    // Read scopes do not write, and the JSON API takes no app token.
    EXPECT_EQ(server_
                  ->Request("POST", "/fhir/r4/Consent", FhirConsent("dr.grey").dump(),
                            {"Authorization: Bearer " + a.token, "Content-Type: application/fhir+json"})
                  .status,
              403)
        << a.user;
    for (const std::string& path : {"/api/v1/patients/" + alice_, std::string("/api/v1/me")}) {
      EXPECT_EQ(server_->Request("GET", path, "", {"Authorization: Bearer " + a.token}).status, 403) << path;
    }
  }
  // A clinician asking for patient/ scopes gets none (no patient picker): the app is sent back with invalid_scope.
  EXPECT_TRUE(SmartToken(*server_, tokens_["dr.house"], client, "launch/patient patient/*.rs").empty());
}

// Bulk Data routes (docs/FHIR.md, Bulk Data) for every role, app scope and patient context, and a system client.
// Kick-off is open to any signed-in user (202); the job then ends exactly as that user's JSON listing of the
// patient's reports answers: refused (the listing's 403) or done with as many reports as the listing holds, so
// consent decides as in the JSON API. Status, files and DELETE answer only the job's owner (user and client):
// 404 to everyone else, 401 without a token. Group/$export is for system clients only.
TEST_F(MatrixTest, BulkRoutesByRoleScopeAndPatient) {
  const std::vector<std::string> async = {"Prefer: respond-async", "Accept: application/fhir+json"};
  const std::string bob = json::parse(server_->Get("/api/v1/me", tokens_["bob"]).body).value("patientId", "");
  auto req = [&](const std::string& method, const std::string& path, const std::string& token,
                 std::vector<std::string> h = {}) {
    if (!token.empty()) h.push_back("Authorization: Bearer " + token);
    return server_->Request(method, path, "", h);
  };
  auto path_of = [](const std::string& url) { return url.substr(url.find("/fhir/r4")); };
  auto await = [&](const std::string& status, const std::string& token) {
    HttpResult r;
    for (int i = 0; i < 600; ++i) {
      r = req("GET", status, token);
      if (r.status != 202) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  };
  // Every other principal is refused a job's status, files and DELETE with 404; no token 401.
  std::vector<std::pair<std::string, std::string>> principals;  // (name, token)
  for (const char* u : kUsers) principals.emplace_back(u, tokens_[u]);
  auto others_refused = [&](const std::string& owner, const std::string& status, const json& manifest) {
    std::vector<std::string> paths = {status};
    for (const auto& f : manifest.value("output", json::array())) paths.push_back(path_of(f["url"]));
    for (const auto& [name, token] : principals) {
      if (name == owner) continue;
      for (const auto& path : paths) EXPECT_EQ(req("GET", path, token).status, 404) << name << " " << path;
      EXPECT_EQ(req("DELETE", status, token).status, 404) << name;
    }
    for (const auto& path : paths) EXPECT_EQ(req("GET", path, "").status, 401) << path;
  };
  // One user's export of alice: the job's end against the JSON listing, the owner's files, then DELETE.
  auto export_as = [&](const std::string& name, const std::string& token, const std::string& state) {
    auto kick = req("GET", "/fhir/r4/Patient/" + alice_ + "/$export?_type=DiagnosticReport", token, async);
    ASSERT_EQ(kick.status, 202) << state << " " << name << " " << kick.body;
    const std::string status = path_of(kick.Header("content-location"));
    auto done = await(status, token);
    auto listing = req("GET", "/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_[name]);
    if (listing.status != 200) {
      EXPECT_EQ(done.status, listing.status) << state << " " << name << " " << done.body;
      return;
    }
    ASSERT_EQ(done.status, 200) << state << " " << name << " " << done.body;
    json manifest = json::parse(done.body);
    size_t exported = 0, refused = 0;
    for (const char* list : {"output", "error"}) {
      for (const auto& f : manifest[list]) {
        auto file = req("GET", path_of(f["url"]), token);
        EXPECT_EQ(file.status, 200) << name;
        (std::string(list) == "output" ? exported : refused) += f.value("count", size_t{0});
      }
    }
    // Each listed report is exported if this user may read it (the JSON read says so) and an error line if not.
    size_t readable = 0, listed = 0;
    const json items = ParseBody(listing)["items"];
    for (const auto& item : items) {
      ++listed;
      readable += Call(name, "GET", "/api/v1/reports/" + item.value("reportId", ""), "") == 200 ? 1 : 0;
    }
    EXPECT_EQ(exported, readable) << state << " " << name;
    EXPECT_EQ(refused, listed - readable) << state << " " << name;
    others_refused(name, status, manifest);
    EXPECT_EQ(req("DELETE", status, token).status, 202) << name;
    EXPECT_EQ(req("GET", status, token).status, 404) << name;
  };
  for (const char* u : kUsers) export_as(u, tokens_[u], "no consent for dr.grey");
  EXPECT_EQ(req("GET", "/fhir/r4/Patient/" + alice_ + "/$export", "", async).status, 401);

  // dr.grey with alice's consent exports her reports; revoked, nothing again (checked against his listing).
  json for_grey = {{"doctor", "dr.grey"}, {"purpose", "care"}, {"expiresAt", Future(30)}};
  auto granted = server_->PostJson("/api/v1/patients/" + alice_ + "/consents", for_grey.dump(), tokens_["alice"]);
  ASSERT_EQ(granted.status, 201);
  ASSERT_GT(
      ParseBody(req("GET", "/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["dr.grey"]))["items"].size(),
      0u);
  export_as("dr.grey", tokens_["dr.grey"], "consent");
  ASSERT_EQ(Call("alice", "DELETE",
                 "/api/v1/patients/" + alice_ + "/consents/" + ParseBody(granted).value("consentId", ""), ""),
            204);
  export_as("dr.grey", tokens_["dr.grey"], "revoked");

  // SMART app tokens: the kick-off needs a read scope on Patient and the patient in context.
  json app = {{"name", "Bulk matrix app"},
              {"redirectUris", {"http://127.0.0.1:9/cb"}},
              {"scope", "launch/patient patient/*.rs user/*.rs"}};
  const std::string client =
      ParseBody(server_->PostJson("/api/v1/apps", app.dump(), tokens_["admin"])).value("clientId", "");
  struct AppCase {
    std::string user, scope, patient;
    long want;
  };
  const std::vector<AppCase> cases = {
      {"alice", "launch/patient patient/*.rs", alice_, 202},
      {"alice", "launch/patient patient/*.rs", bob, 403},                    // not the patient in context
      {"alice", "launch/patient patient/DiagnosticReport.rs", alice_, 403},  // no Patient scope
      {"dr.house", "user/*.rs", alice_, 202},
      {"dr.house", "user/DiagnosticReport.rs", alice_, 403},
      {"bob", "launch/patient patient/*.rs", alice_, 403},
  };
  for (const auto& c : cases) {
    const std::string token = SmartToken(*server_, tokens_[c.user], client, c.scope);
    ASSERT_FALSE(token.empty()) << c.user << " " << c.scope;
    auto kick = req("GET", "/fhir/r4/Patient/" + c.patient + "/$export?_type=DiagnosticReport", token, async);
    EXPECT_EQ(kick.status, c.want) << c.user << " [" << c.scope << "] " << c.patient << " " << kick.body;
    if (kick.status != 202) continue;
    const std::string status = path_of(kick.Header("content-location"));
    auto done = await(status, token);
    EXPECT_EQ(done.status, 200) << done.body;
    // The same user without the app (their web token) is another owner.
    principals.emplace_back(c.user + " (web)", tokens_[c.user]);
    others_refused("", status, json::parse(done.body));
    principals.pop_back();
    EXPECT_EQ(req("DELETE", status, token).status, 202);
  }
  // Group/$export: never for a user's or an app's token.
  for (const char* u : kUsers) {
    EXPECT_EQ(req("GET", "/fhir/r4/Group/x/$export", tokens_[u], async).status, 403) << u;
  }

  // A system client: only its own Group's export and its own jobs; Patient/$export refused.
  TestKey key = TestKey::Ec();
  json sys = {{"name", "Bulk matrix system"},
              {"scope", "system/*.rs"},
              {"actsAs", "dr.house"},
              {"jwks", {{"keys", json::array({key.Jwk("k")})}}}};
  const std::string sys_client =
      ParseBody(server_->PostJson("/api/v1/apps", sys.dump(), tokens_["admin"])).value("clientId", "");
  ASSERT_FALSE(sys_client.empty());
  const std::string token_endpoint =
      ParseBody(server_->Get("/.well-known/smart-configuration")).value("token_endpoint", "");
  const int64_t now = std::time(nullptr);
  json claims = {{"iss", sys_client}, {"sub", sys_client}, {"aud", token_endpoint},
                 {"exp", now + 240},  {"iat", now},        {"jti", crypto::RandomHex(16)}};
  auto tok = server_->Request("POST", "/oauth2/token",
                              "grant_type=client_credentials&client_assertion_type=" +
                                  UrlEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                                  "&client_assertion=" + key.Sign({}, claims) + "&scope=" + UrlEncode("system/*.rs"),
                              {"Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(tok.status, 200) << tok.body;
  const std::string sys_token = ParseBody(tok).value("access_token", "");
  json group = {{"name", "Matrix group"}, {"clientId", sys_client}, {"members", {alice_}}};
  const std::string group_id =
      ParseBody(server_->PostJson("/api/v1/bulk-groups", group.dump(), tokens_["admin"])).value("id", "");
  ASSERT_FALSE(group_id.empty());
  for (const char* u : {"dr.house", "dr.grey", "alice", "bob", "audrey"}) {
    EXPECT_EQ(server_->PostJson("/api/v1/bulk-groups", group.dump(), tokens_[u]).status, 403) << u;
    EXPECT_EQ(req("GET", "/api/v1/bulk-groups", tokens_[u]).status, 403) << u;
    EXPECT_EQ(req("GET", "/fhir/r4/Group/" + group_id, tokens_[u]).status, 404) << u;
  }
  EXPECT_EQ(req("GET", "/fhir/r4/Group/" + group_id, tokens_["admin"]).status, 200);
  EXPECT_EQ(req("GET", "/fhir/r4/Group/" + group_id, sys_token).status, 200);
  EXPECT_EQ(req("GET", "/fhir/r4/Patient/" + alice_ + "/$export", sys_token, async).status, 403);
  EXPECT_EQ(req("GET", "/api/v1/patients/" + alice_ + "/reports", sys_token).status, 403);
  auto kick = req("GET", "/fhir/r4/Group/" + group_id + "/$export?_type=DiagnosticReport", sys_token, async);
  ASSERT_EQ(kick.status, 202) << kick.body;
  const std::string status = path_of(kick.Header("content-location"));
  auto done = await(status, sys_token);
  ASSERT_EQ(done.status, 200) << done.body;
  size_t exported = 0;
  json manifest = json::parse(done.body);
  for (const auto& f : manifest["output"]) exported += f.value("count", size_t{0});
  // dr.house's account reads as dr.house: as many reports as his listing of alice.
  EXPECT_EQ(exported,
            ParseBody(req("GET", "/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["dr.house"]))["items"]
                .size());
  others_refused("", status, manifest);  // every user, dr.house's own web token included
  EXPECT_EQ(req("DELETE", status, sys_token).status, 202);
}

}  // namespace
}  // namespace medledger::testing
