// SMART App Launch 2.x over real HTTP against the real binary (docs/FHIR.md, SMART on FHIR): discovery, the
// administrator's app registry, the authorization code flow with PKCE as a test client runs it (authorize,
// the web app's consent API, token), and what the app's token can and cannot do: its scopes, its patient,
// FHIR only. Failure paths: wrong verifier, reused code, wrong or unregistered redirect, plain PKCE, a removed app.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

const std::string kRedirect = "http://127.0.0.1:9/callback";
const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-smart-test";

std::string Challenge(const std::string& verifier) {
  return Base64UrlEncode(crypto::Sha256(verifier));
}

// The value of `name` in a URL's query ("" when absent); values here are unreserved characters only.
std::string QueryValue(const std::string& url, const std::string& name) {
  auto q = url.find('?');
  if (q == std::string::npos) return "";
  for (auto part : SplitOn(std::string_view(url).substr(q + 1), '&')) {
    if (part.rfind(name + "=", 0) == 0) return std::string(part.substr(name.size() + 1));
  }
  return "";
}

class SmartTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok());
    for (const char* u : {"admin", "dr.house", "alice", "bob"}) tokens_[u] = server_->Login(u);
    alice_ = ParseBody(server_->Get("/api/v1/me", tokens_["alice"])).value("patientId", "");
    bob_ = ParseBody(server_->Get("/api/v1/me", tokens_["bob"])).value("patientId", "");
    ASSERT_FALSE(alice_.empty());
    ASSERT_FALSE(bob_.empty());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::string Fhir() const { return server_->base_url() + "/fhir/r4"; }

  static json RegisterApp(const json& body, long want = 201) {
    auto r = server_->PostJson("/api/v1/apps", body.dump(), tokens_["admin"]);
    EXPECT_EQ(r.status, want) << r.body;
    return ParseBody(r);
  }

  std::string AuthorizeQuery(const std::string& client, const std::string& scope,
                             const std::string& redirect = kRedirect, const std::string& method = "S256") {
    return "/oauth2/authorize?response_type=code&client_id=" + client + "&redirect_uri=" + UrlEncode(redirect) +
           "&scope=" + UrlEncode(scope) + "&state=xyz123&aud=" + UrlEncode(Fhir()) +
           "&code_challenge=" + Challenge(kVerifier) + "&code_challenge_method=" + method;
  }

  // authorize -> consent screen API -> approve: the redirect the browser would follow.
  std::string Approve(const std::string& client, const std::string& scope, const char* user) {
    auto r = server_->Get(AuthorizeQuery(client, scope));
    EXPECT_EQ(r.status, 302) << r.body;
    std::string location = r.Header("location");
    EXPECT_EQ(location.rfind("/smart/authorize?request=", 0), 0u) << location;
    std::string request = QueryValue(location, "request");
    auto view = server_->Get("/api/v1/oauth2/requests/" + request, tokens_[user]);
    EXPECT_EQ(view.status, 200) << view.body;
    auto decided =
        server_->PostJson("/api/v1/oauth2/requests/" + request + "/decision", R"({"approve":true})", tokens_[user]);
    EXPECT_EQ(decided.status, 200) << decided.body;
    return ParseBody(decided).value("redirectUri", "");
  }

  HttpResult Token(const std::string& form, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> headers = {"Content-Type: application/x-www-form-urlencoded"};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return server_->Request("POST", "/oauth2/token", form, headers);
  }

  std::string CodeForm(const std::string& client, const std::string& code, const std::string& verifier = kVerifier,
                       const std::string& redirect = kRedirect) {
    return "grant_type=authorization_code&client_id=" + client + "&code=" + code + "&code_verifier=" + verifier +
           "&redirect_uri=" + UrlEncode(redirect);
  }

  json AppToken(const std::string& client, const std::string& scope, const char* user) {
    std::string to = Approve(client, scope, user);
    EXPECT_EQ(QueryValue(to, "state"), "xyz123");
    auto r = Token(CodeForm(client, QueryValue(to, "code")));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    return ParseBody(r);
  }

  HttpResult GetWith(const std::string& path, const std::string& token) {
    return server_->Request("GET", path, "", {"Authorization: Bearer " + token});
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
  static std::string alice_, bob_;
};

ServerProcess* SmartTest::server_ = nullptr;
std::map<std::string, std::string> SmartTest::tokens_;
std::string SmartTest::alice_, SmartTest::bob_;

TEST_F(SmartTest, DiscoveryAndCapabilityStatementAdvertiseTheEndpoints) {
  for (const char* path : {"/.well-known/smart-configuration", "/fhir/r4/.well-known/smart-configuration"}) {
    auto r = server_->Get(path);
    ASSERT_EQ(r.status, 200) << path;
    json c = ParseBody(r);
    EXPECT_EQ(c["authorization_endpoint"], server_->base_url() + "/oauth2/authorize");
    EXPECT_EQ(c["token_endpoint"], server_->base_url() + "/oauth2/token");
    EXPECT_EQ(c["code_challenge_methods_supported"], json::array({"S256"}));
    auto caps = c["capabilities"];
    for (const char* cap : {"launch-standalone", "client-public", "client-confidential-symmetric",
                            "context-standalone-patient", "permission-v2", "permission-patient", "permission-user"}) {
      EXPECT_NE(std::find(caps.begin(), caps.end(), cap), caps.end()) << cap;
    }
    // No id_token is issued, so OpenID Connect is not claimed.
    EXPECT_EQ(std::find(caps.begin(), caps.end(), "sso-openid-connect"), caps.end());
  }
  json meta = ParseBody(server_->Get("/fhir/r4/metadata"));
  const json& security = meta["rest"][0]["security"];
  ASSERT_TRUE(security.contains("extension")) << security.dump();
  EXPECT_EQ(security["extension"][0]["url"], "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
  EXPECT_EQ(security["extension"][0]["extension"][0]["valueUri"], server_->base_url() + "/oauth2/authorize");
  EXPECT_EQ(security["cors"], true);
  // Browser apps of another origin: a preflight, then answers they may read (errors included).
  auto preflight = server_->Request("OPTIONS", "/fhir/r4/DiagnosticReport", "",
                                    {"Origin: https://app.example", "Access-Control-Request-Method: GET",
                                     "Access-Control-Request-Headers: authorization"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_NE(preflight.Header("access-control-allow-headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(server_->Get("/fhir/r4/metadata").Header("access-control-allow-origin"), "*");
  EXPECT_EQ(server_->Get("/fhir/r4/DiagnosticReport").Header("access-control-allow-origin"), "*");  // the 401
  // Not the JSON API: it is the web app's, same origin.
  EXPECT_TRUE(server_->Get("/api/v1/me").Header("access-control-allow-origin").empty());
  EXPECT_NE(server_->Request("OPTIONS", "/api/v1/me", "", {"Access-Control-Request-Method: GET"}).status, 204);
}

TEST_F(SmartTest, OnlyAnAdministratorManagesApps) {
  json body = {{"name", "Viewer"}, {"redirectUris", {kRedirect}}, {"scope", "patient/*.rs"}};
  EXPECT_EQ(server_->PostJson("/api/v1/apps", body.dump(), tokens_["dr.house"]).status, 403);
  EXPECT_EQ(server_->PostJson("/api/v1/apps", body.dump(), tokens_["alice"]).status, 403);
  EXPECT_EQ(server_->PostJson("/api/v1/apps", body.dump()).status, 401);
  EXPECT_EQ(server_->Get("/api/v1/apps", tokens_["alice"]).status, 403);
  json bad = body;
  bad["redirectUris"] = {"http://evil.example/cb"};
  RegisterApp(bad, 422);  // validation_failed, as every semantic validation failure
  json created = RegisterApp(body);
  EXPECT_FALSE(created.contains("clientSecret"));
  auto listed = ParseBody(server_->Get("/api/v1/apps", tokens_["admin"]));
  bool found = false;
  for (const auto& a : listed["items"]) found = found || a["clientId"] == created["clientId"];
  EXPECT_TRUE(found);
  EXPECT_EQ(server_
                ->Request("DELETE", "/api/v1/apps/" + created["clientId"].get<std::string>(), "",
                          {"Authorization: Bearer " + tokens_["alice"]})
                .status,
            403);
}

TEST_F(SmartTest, PatientAppSeesOnlyItsPatientAndItsScopes) {
  json app = RegisterApp({{"name", "My reports"},
                          {"redirectUris", {kRedirect}},
                          {"scope", "launch/patient patient/DiagnosticReport.rs patient/Patient.rs offline_access"}});
  const std::string client = app["clientId"];
  json token = AppToken(client, "launch/patient patient/DiagnosticReport.rs openid fhirUser offline_access", "alice");
  EXPECT_EQ(token["patient"], alice_);
  EXPECT_EQ(token["token_type"], "Bearer");
  EXPECT_EQ(token["scope"], "launch/patient patient/DiagnosticReport.rs offline_access");  // openid not granted
  EXPECT_FALSE(token.contains("id_token"));
  const std::string access = token["access_token"];

  EXPECT_EQ(GetWith("/fhir/r4/DiagnosticReport?patient=" + alice_, access).status, 200);
  EXPECT_EQ(GetWith("/fhir/r4/DiagnosticReport?patient=Patient/" + alice_, access).status, 200);
  // Another patient: refused by the scope gate, as an OperationOutcome with insufficient_scope.
  auto other = GetWith("/fhir/r4/DiagnosticReport?patient=" + bob_, access);
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.Header("www-authenticate").find("insufficient_scope"), std::string::npos);
  EXPECT_EQ(ParseBody(other)["resourceType"], "OperationOutcome");
  EXPECT_EQ(GetWith("/fhir/r4/DiagnosticReport?subject=Patient/" + bob_, access).status, 403);
  // Patient.rs was registered but not asked for: not granted.
  EXPECT_EQ(GetWith("/fhir/r4/Patient/" + alice_, access).status, 403);
  EXPECT_EQ(GetWith("/fhir/r4/Consent?patient=" + alice_, access).status, 403);
  EXPECT_EQ(
      GetWith("/fhir/r4/DiagnosticReport?patient=" + alice_ + "&_include=DiagnosticReport:subject", access).status,
      403);
  // Read, not create.
  auto create = server_->Request("POST", "/fhir/r4/DiagnosticReport", "{}",
                                 {"Authorization: Bearer " + access, "Content-Type: application/fhir+json"});
  EXPECT_EQ(create.status, 403);
  // The JSON API does not take an app's token at all.
  for (const char* path : {"/api/v1/me", "/api/v1/apps", "/metrics"}) {
    auto r = GetWith(path, access);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(ProblemCode(r), "insufficient_scope") << path;
  }
  // offline_access: a refresh token that rotates.
  const std::string refresh = token["refresh_token"];
  auto next = Token("grant_type=refresh_token&client_id=" + client + "&refresh_token=" + refresh);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(ParseBody(Token("grant_type=refresh_token&client_id=" + client + "&refresh_token=" + refresh))["error"],
            "invalid_grant");

  // Removing the app ends its tokens.
  ASSERT_EQ(
      server_->Request("DELETE", "/api/v1/apps/" + client, "", {"Authorization: Bearer " + tokens_["admin"]}).status,
      204);
  auto gone = GetWith("/fhir/r4/DiagnosticReport?patient=" + alice_, access);
  EXPECT_EQ(gone.status, 401);
}

TEST_F(SmartTest, ClinicianUserScopesMatchTheirOwnRightsNarrowedToTheGrantedTypes) {
  json app =
      RegisterApp({{"name", "Clinic viewer"}, {"redirectUris", {kRedirect}}, {"scope", "user/*.rs patient/*.rs"}});
  json token = AppToken(app["clientId"], "user/DiagnosticReport.rs patient/Patient.rs", "dr.house");
  EXPECT_EQ(token["scope"], "user/DiagnosticReport.rs");  // no patient in context for a clinician
  EXPECT_FALSE(token.contains("patient"));
  const std::string access = token["access_token"];
  for (const std::string& patient : {alice_, bob_}) {
    const std::string path = "/fhir/r4/DiagnosticReport?patient=" + patient;
    EXPECT_EQ(GetWith(path, access).status, GetWith(path, tokens_["dr.house"]).status) << path;
  }
  EXPECT_EQ(GetWith("/fhir/r4/Patient/" + alice_, access).status, 403);
  EXPECT_EQ(GetWith("/api/v1/patients", access).status, 403);
}

TEST_F(SmartTest, FlowFailuresAnswerPerRfc6749) {
  json app = RegisterApp({{"name", "Strict"}, {"redirectUris", {kRedirect}}, {"scope", "patient/*.rs"}});
  const std::string client = app["clientId"];
  // An unregistered redirect URI or client: shown, never redirected.
  auto r = server_->Get(AuthorizeQuery(client, "patient/*.rs", "http://127.0.0.1:9/elsewhere"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.Header("location").empty());
  r = server_->Get(AuthorizeQuery("nosuchclient", "patient/*.rs"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ParseBody(r)["error"], "invalid_client");
  // plain PKCE: back to the app with error=invalid_request and the state.
  r = server_->Get(AuthorizeQuery(client, "patient/*.rs", kRedirect, "plain"));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("location").rfind(kRedirect + "?error=invalid_request", 0), 0u) << r.Header("location");
  EXPECT_NE(r.Header("location").find("state=xyz123"), std::string::npos);

  // Wrong verifier: invalid_grant, and the code is spent.
  std::string code = QueryValue(Approve(client, "patient/*.rs", "alice"), "code");
  auto bad = Token(CodeForm(client, code, kVerifier + "-wrong"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ParseBody(bad)["error"], "invalid_grant");
  EXPECT_EQ(ParseBody(Token(CodeForm(client, code)))["error"], "invalid_grant");
  // Reused code.
  code = QueryValue(Approve(client, "patient/*.rs", "alice"), "code");
  EXPECT_EQ(Token(CodeForm(client, code)).status, 200);
  EXPECT_EQ(ParseBody(Token(CodeForm(client, code)))["error"], "invalid_grant");
  // Another redirect_uri at the token endpoint than at authorize.
  code = QueryValue(Approve(client, "patient/*.rs", "alice"), "code");
  EXPECT_EQ(ParseBody(Token(CodeForm(client, code, kVerifier, kRedirect + "x")))["error"], "invalid_grant");
  // Not form-encoded; unknown grant; an unknown client.
  EXPECT_EQ(ParseBody(server_->PostJson("/oauth2/token", "{}"))["error"], "invalid_request");
  EXPECT_EQ(ParseBody(Token("grant_type=password&client_id=" + client))["error"], "unsupported_grant_type");
  auto unknown = Token(CodeForm("nosuchclient", "x"));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(ParseBody(unknown)["error"], "invalid_client");
  // Denied: access_denied back to the app.
  r = server_->Get(AuthorizeQuery(client, "patient/*.rs"));
  std::string request = QueryValue(r.Header("location"), "request");
  auto denied =
      server_->PostJson("/api/v1/oauth2/requests/" + request + "/decision", R"({"approve":false})", tokens_["alice"]);
  EXPECT_EQ(QueryValue(ParseBody(denied).value("redirectUri", ""), "error"), "access_denied");
}

TEST_F(SmartTest, ConfidentialClientUsesClientSecretBasic) {
  json app = RegisterApp(
      {{"name", "Portal"}, {"redirectUris", {kRedirect}}, {"confidential", true}, {"scope", "patient/*.rs"}});
  const std::string client = app["clientId"];
  const std::string secret = app.value("clientSecret", "");
  ASSERT_FALSE(secret.empty());
  std::string code = QueryValue(Approve(client, "patient/DiagnosticReport.rs", "alice"), "code");
  auto without = Token(CodeForm(client, code));
  EXPECT_EQ(without.status, 401);
  auto wrong = Token(CodeForm(client, code), {"Authorization: Basic " + Base64Encode(client + ":nope")});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_FALSE(wrong.Header("www-authenticate").empty());
  auto ok = Token(CodeForm(client, code), {"Authorization: Basic " + Base64Encode(client + ":" + secret)});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ParseBody(ok)["patient"], alice_);
}

}  // namespace
}  // namespace medledger::testing
