// SMART Backend Services and Group/{id}/$export over real HTTP against the real binary (docs/FHIR.md, Backend
// services): discovery, system-client registration, client_credentials with ES384 and RS384 assertions and every
// OAuth refusal, the token's confinement, the admin Group API and FHIR Group read, and a Group export whose
// every exported report is a recorded read by the client's account, decided by each member's consent.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "crypto/random.h"
#include "jws_test_key.h"
#include "server_harness.h"
#include "source_dir.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kAsync = {"Prefer: respond-async", "Accept: application/fhir+json"};
const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

class BackendServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>();
    ASSERT_TRUE(server_->ok());
    for (const char* u : {"admin", "dr.house", "dr.grey", "alice", "bob"}) tokens_[u] = server_->Login(u);
    alice_ = ParseBody(server_->Get("/api/v1/me", tokens_["alice"])).value("patientId", "");
    bob_ = ParseBody(server_->Get("/api/v1/me", tokens_["bob"])).value("patientId", "");
    ASSERT_FALSE(alice_.empty());
    ASSERT_FALSE(bob_.empty());
    json config = ParseBody(server_->Get("/.well-known/smart-configuration"));
    token_endpoint_ = config.value("token_endpoint", "");
    ASSERT_FALSE(token_endpoint_.empty());
  }

  // Registers a system client acting as `acts_as` with `ec_` and `rsa_`'s public keys; its client ID.
  std::string RegisterClient(const std::string& acts_as = "dr.grey", const std::string& scope = "system/*.rs") {
    json body = {{"name", "Registry"},
                 {"scope", scope},
                 {"actsAs", acts_as},
                 {"jwks", {{"keys", json::array({ec_.Jwk("ec-1"), rsa_.Jwk("rsa-1")})}}}};
    auto r = server_->PostJson("/api/v1/apps", body.dump(), tokens_["admin"]);
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseBody(r).value("clientId", "");
  }
  json Claims(const std::string& client, int64_t ttl = 240) {
    const int64_t now = std::time(nullptr);
    return {
        {"iss", client}, {"sub", client}, {"aud", token_endpoint_}, {"exp", now + ttl}, {"jti", crypto::RandomHex(16)},
        {"iat", now}};
  }
  HttpResult Token(const std::string& assertion, const std::string& scope = "system/*.rs",
                   const std::string& type = kAssertionType) {
    std::string form = "grant_type=client_credentials&client_assertion_type=" + UrlEncode(type) +
                       "&client_assertion=" + UrlEncode(assertion) + "&scope=" + UrlEncode(scope);
    return server_->Request("POST", "/oauth2/token", form, {"Content-Type: application/x-www-form-urlencoded"});
  }
  std::string SystemToken(const std::string& client) {
    auto r = Token(ec_.Sign({{"kid", "ec-1"}}, Claims(client)));
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseBody(r).value("access_token", "");
  }
  HttpResult As(const std::string& method, const std::string& path, const std::string& token,
                std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + token);
    return server_->Request(method, path, "", headers);
  }
  std::string CreateGroup(const std::string& client, const std::vector<std::string>& members) {
    json body = {{"name", "Registry cohort"}, {"clientId", client}, {"members", members}};
    auto r = server_->PostJson("/api/v1/bulk-groups", body.dump(), tokens_["admin"]);
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseBody(r).value("id", "");
  }
  static std::string PathOf(const std::string& url) {
    auto at = url.find("/fhir/r4");
    return at == std::string::npos ? url : url.substr(at);
  }
  size_t AccessLogSize() {
    return ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/access-log?pageSize=100", tokens_["alice"]))["items"]
        .size();
  }

  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> tokens_;
  std::string alice_, bob_, token_endpoint_;
  TestKey ec_ = TestKey::Ec();
  TestKey rsa_ = TestKey::Rsa();
};

TEST_F(BackendServicesTest, DiscoveryAdvertisesPrivateKeyJwt) {
  json c = ParseBody(server_->Get("/.well-known/smart-configuration"));
  auto has = [&c](const char* list, const char* value) {
    const json& l = c[list];
    return std::find(l.begin(), l.end(), value) != l.end();
  };
  EXPECT_TRUE(has("token_endpoint_auth_methods_supported", "private_key_jwt")) << c.dump();
  EXPECT_TRUE(has("token_endpoint_auth_signing_alg_values_supported", "ES384"));
  EXPECT_TRUE(has("token_endpoint_auth_signing_alg_values_supported", "RS384"));
  EXPECT_TRUE(has("grant_types_supported", "client_credentials"));
  EXPECT_TRUE(has("capabilities", "client-confidential-asymmetric"));
  EXPECT_TRUE(has("scopes_supported", "system/*.rs"));
  EXPECT_EQ(c.value("token_endpoint", ""), server_->base_url() + "/oauth2/token");
}

TEST_F(BackendServicesTest, RegistrationIsValidated) {
  json body = {{"name", "X"},
               {"scope", "system/*.rs"},
               {"actsAs", "dr.grey"},
               {"jwks", {{"keys", json::array({ec_.Jwk("a")})}}}};
  EXPECT_EQ(server_->PostJson("/api/v1/apps", body.dump(), tokens_["dr.house"]).status, 403);
  json private_jwks = {{"keys", json::array({ec_.Jwk("a")})}};
  private_jwks["keys"][0]["d"] = "AAAA";
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"actsAs", "alice", "actsAs: alice is not an active doctor account"},
      {"actsAs", "nobody", "actsAs: nobody is not an active doctor account"},
      {"scope", "user/*.rs", "scope: a system client has system/ scopes only"},
      {"jwks", private_jwks, "jwks: key 1 contains private key material"}};
  for (const auto& [field, value, message] : cases) {
    json bad = body;
    bad[field] = value;
    auto r = server_->PostJson("/api/v1/apps", bad.dump(), tokens_["admin"]);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  }
  auto ok = server_->PostJson("/api/v1/apps", body.dump(), tokens_["admin"]);
  ASSERT_EQ(ok.status, 201) << ok.body;
  json app = ParseBody(ok);
  EXPECT_EQ(app.value("actsAs", ""), "dr.grey");
  EXPECT_EQ(app["jwks"]["keys"][0].value("alg", ""), "ES384");
  EXPECT_FALSE(app["jwks"]["keys"][0].contains("d"));
}

TEST_F(BackendServicesTest, ClientCredentialsAndItsRefusals) {
  const std::string client = RegisterClient("dr.grey", "system/Patient.rs system/DiagnosticReport.rs system/Group.r");
  // ES384 and RS384 both work; the token is short-lived and carries only the granted system scopes.
  for (auto* key : {&ec_, &rsa_}) {
    auto r = Token(key->Sign({}, Claims(client)), "system/*.rs");
    ASSERT_EQ(r.status, 200) << r.body;
    json t = ParseBody(r);
    EXPECT_EQ(t.value("token_type", ""), "Bearer");
    EXPECT_EQ(t.value("expires_in", 0), 300);
    EXPECT_EQ(t.value("scope", ""), "system/DiagnosticReport.rs system/Group.r system/Patient.rs");
    EXPECT_FALSE(t.contains("refresh_token"));
    EXPECT_EQ(r.Header("cache-control"), "no-store");
  }
  auto refused = [&](const HttpResult& r, long status, const std::string& error, const std::string& description) {
    EXPECT_EQ(r.status, status) << r.body;
    json e = ParseBody(r);
    EXPECT_EQ(e.value("error", ""), error) << r.body;
    EXPECT_NE(e.value("error_description", "").find(description), std::string::npos) << r.body;
  };
  const std::string once = ec_.Sign({{"kid", "ec-1"}}, Claims(client));
  ASSERT_EQ(Token(once).status, 200);
  refused(Token(once), 401, "invalid_client", "jti was already used");
  refused(Token(ec_.Sign({},
                         [&] {
                           json c = Claims(client);
                           c["aud"] = "https://elsewhere/token";
                           return c;
                         }())),
          401, "invalid_client", "aud must be the token endpoint");
  refused(Token(ec_.Sign({}, Claims(client, 600))), 401, "invalid_client", "more than 5 minutes ahead");
  refused(Token(ec_.Sign({}, Claims(client, -10))), 401, "invalid_client", "has expired");
  refused(Token(TestKey::Ec().Sign({}, Claims(client))), 401, "invalid_client", "signature does not verify");
  refused(Token(ec_.Sign({{"alg", "ES256"}}, Claims(client))), 401, "invalid_client", "alg must be ES384 or RS384");
  refused(Token(ec_.Sign({}, Claims("no-such-client"))), 401, "invalid_client", "no system client");
  refused(Token(ec_.Sign({}, Claims(client)), "user/*.rs patient/*.rs"), 400, "invalid_scope", "system/");
  refused(Token(ec_.Sign({}, Claims(client)), "system/*.rs", "urn:other"), 400, "invalid_request",
          "client_assertion_type");
  refused(server_->Request("POST", "/oauth2/token", "grant_type=client_credentials",
                           {"Content-Type: application/x-www-form-urlencoded"}),
          400, "invalid_request", "private_key_jwt");
}

TEST_F(BackendServicesTest, SystemTokenIsConfinedToBulkRoutes) {
  const std::string client = RegisterClient();
  const std::string token = SystemToken(client);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(As("GET", "/api/v1/me", token).status, 403);
  EXPECT_EQ(As("GET", "/api/v1/patients/" + alice_ + "/reports", token).status, 403);
  EXPECT_EQ(As("GET", "/fhir/r4/Patient/" + alice_, token).status, 403);
  EXPECT_EQ(As("GET", "/fhir/r4/DiagnosticReport?patient=" + alice_, token).status, 403);
  auto patient_export = As("GET", "/fhir/r4/Patient/" + alice_ + "/$export", token, kAsync);
  EXPECT_EQ(patient_export.status, 403) << patient_export.body;
  EXPECT_NE(patient_export.Header("www-authenticate").find("insufficient_scope"), std::string::npos);
}

TEST_F(BackendServicesTest, GroupExportReadsEachMemberAsTheClient) {
  const std::string client = RegisterClient();
  // Groups: administrators only, bound to a system client, validated.
  json bad = {{"name", "G"}, {"clientId", "not-a-client"}, {"members", {alice_}}};
  EXPECT_EQ(server_->PostJson("/api/v1/bulk-groups", bad.dump(), tokens_["admin"]).status, 422);
  bad["clientId"] = client;
  EXPECT_EQ(server_->PostJson("/api/v1/bulk-groups", bad.dump(), tokens_["dr.house"]).status, 403);
  bad["members"] = json::array({alice_, alice_});
  EXPECT_EQ(server_->PostJson("/api/v1/bulk-groups", bad.dump(), tokens_["admin"]).status, 422);
  const std::string group = CreateGroup(client, {alice_, bob_, "no-such-patient"});
  ASSERT_FALSE(group.empty());
  json listed = ParseBody(server_->Get("/api/v1/bulk-groups", tokens_["admin"]));
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["members"], json::array({alice_, bob_, "no-such-patient"}));

  const std::string token = SystemToken(client);
  auto read = As("GET", "/fhir/r4/Group/" + group, token);
  ASSERT_EQ(read.status, 200) << read.body;
  json g = ParseBody(read);
  EXPECT_EQ(g.value("resourceType", ""), "Group");
  EXPECT_EQ(g.value("quantity", 0), 3);
  EXPECT_EQ(g["member"][0]["entity"]["reference"], "Patient/" + alice_);
  // The Group is a valid R4 resource by the official schema (tests/peers/fhir_validate.js, where node is).
  if (RunCommand("command -v node").exit_code == 0) {
    const std::string file = server_->data_dir() + "/group_validate.json";
    std::ofstream(file) << json::array({g}).dump();
    auto v = RunCommand(std::string("cd '") + MEDLEDGER_SOURCE_DIR + "/tests/peers' && node fhir_validate.js '" + file +
                        "'");
    EXPECT_EQ(v.exit_code, 0) << v.output;
  }
  EXPECT_EQ(As("GET", "/fhir/r4/Group/" + group, tokens_["admin"]).status, 200);
  EXPECT_EQ(As("GET", "/fhir/r4/Group/" + group, tokens_["dr.grey"]).status, 404);
  // Only a system client, and only the one the Group is bound to.
  EXPECT_EQ(As("GET", "/fhir/r4/Group/" + group + "/$export", tokens_["dr.grey"], kAsync).status, 403);
  ec_ = TestKey::Ec();
  const std::string other = RegisterClient();
  EXPECT_EQ(As("GET", "/fhir/r4/Group/" + group + "/$export", SystemToken(other), kAsync).status, 404);
  EXPECT_EQ(As("GET", "/fhir/r4/Group/" + group, SystemToken(other)).status, 404);

  // alice consents to dr.grey (the account the client acts as); bob does not.
  std::time_t in_30_days = std::time(nullptr) + 30 * 24 * 3600;
  char expires[32];
  std::strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&in_30_days));
  json consent = {{"doctor", "dr.grey"}, {"purpose", "registry"}, {"expiresAt", expires}};
  ASSERT_EQ(server_->PostJson("/api/v1/patients/" + alice_ + "/consents", consent.dump(), tokens_["alice"]).status,
            201);
  std::set<std::string> alice_reports;
  json listing = ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/reports?pageSize=100", tokens_["alice"]));
  for (const auto& item : listing["items"]) {
    alice_reports.insert(item.value("reportId", ""));
  }
  ASSERT_FALSE(alice_reports.empty());
  const size_t log_before = AccessLogSize();

  auto kick = As("GET", "/fhir/r4/Group/" + group + "/$export?_type=Patient,DiagnosticReport", token, kAsync);
  ASSERT_EQ(kick.status, 202) << kick.body;
  const std::string status = PathOf(kick.Header("content-location"));
  HttpResult done;
  for (int i = 0; i < 600; ++i) {
    done = As("GET", status, token);
    if (done.status != 202) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(done.status, 200) << done.body;
  json manifest = ParseBody(done);
  EXPECT_NE(manifest.value("request", "").find("/Group/" + group + "/$export"), std::string::npos);
  std::set<std::string> reports, patients;
  std::string errors;
  for (const char* list : {"output", "error"}) {
    for (const auto& f : manifest[list]) {
      auto file = As("GET", PathOf(f["url"]), token);
      ASSERT_EQ(file.status, 200) << file.body;
      // The same user without the client's token is not the job's owner.
      EXPECT_EQ(As("GET", PathOf(f["url"]), tokens_["dr.grey"]).status, 404);
      std::istringstream lines(file.body);
      std::string line;
      while (std::getline(lines, line)) {
        json j = json::parse(line);
        if (f["type"] == "DiagnosticReport") reports.insert(j.value("id", ""));
        if (f["type"] == "Patient") patients.insert(j.value("id", ""));
        if (f["type"] == "OperationOutcome") errors += line;
      }
    }
  }
  // Every member as dr.grey's own JSON listing shows them: alice's reports (her consent), of bob only what dr.grey
  // wrote himself (no consent); the unknown member is a line in error[], not a failed job.
  std::set<std::string> expected = alice_reports;
  json bob_listing = ParseBody(server_->Get("/api/v1/patients/" + bob_ + "/reports?pageSize=100", tokens_["dr.grey"]));
  for (const auto& item : bob_listing["items"]) expected.insert(item.value("reportId", ""));
  EXPECT_EQ(reports, expected);
  EXPECT_EQ(patients, (std::set<std::string>{alice_, bob_}));
  EXPECT_NE(errors.find("Patient/no-such-patient"), std::string::npos) << errors;
  // Each of alice's exported reports is a recorded read by the client's account.
  json log = ParseBody(server_->Get("/api/v1/patients/" + alice_ + "/access-log?pageSize=100", tokens_["alice"]));
  EXPECT_GE(log["items"].size(), log_before + alice_reports.size());
  for (const auto& id : alice_reports) {
    bool read_by_grey = false;
    for (const auto& e : log["items"]) {
      const std::string text = e.dump();
      read_by_grey |= text.find(id) != std::string::npos && text.find("dr.grey") != std::string::npos;
    }
    EXPECT_TRUE(read_by_grey) << id << " in " << log.dump();
  }

  EXPECT_EQ(As("DELETE", status, tokens_["dr.grey"]).status, 404);
  EXPECT_EQ(As("DELETE", status, token).status, 202);
  EXPECT_EQ(As("GET", status, token).status, 404);
}

}  // namespace
}  // namespace medledger::testing
