// SMART App Launch 2.x over real HTTP against the real binary (docs/FHIR.md, SMART on FHIR): discovery, the
// administrator's app registry, the authorization code flow with PKCE as a test client runs it (authorize,
// the web app's consent API, token), and what the app's token can and cannot do: its scopes, its patient,
// FHIR only; the OpenID Connect ID token (openid fhirUser) verified against the served JWKS. Failure paths: wrong
// verifier, reused code, wrong or unregistered redirect, plain PKCE, a removed app, a flood of authorizations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/jwt.h"
#include "common/encoding.h"
#include "common/time.h"
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
                             const std::string& redirect = kRedirect, const std::string& method = "S256",
                             const std::string& nonce = "") {
    return "/oauth2/authorize?response_type=code&client_id=" + client + "&redirect_uri=" + UrlEncode(redirect) +
           "&scope=" + UrlEncode(scope) + "&state=xyz123&aud=" + UrlEncode(Fhir()) +
           "&code_challenge=" + Challenge(kVerifier) + "&code_challenge_method=" + method +
           (nonce.empty() ? "" : "&nonce=" + UrlEncode(nonce));
  }

  // authorize -> consent screen API -> approve: the redirect the browser would follow.
  std::string Approve(const std::string& client, const std::string& scope, const char* user,
                      const std::string& nonce = "") {
    auto r = server_->Get(AuthorizeQuery(client, scope, kRedirect, "S256", nonce));
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

  json AppToken(const std::string& client, const std::string& scope, const char* user, const std::string& nonce = "") {
    std::string to = Approve(client, scope, user, nonce);
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
    // ID tokens are issued for openid (with fhirUser for a patient).
    EXPECT_NE(std::find(caps.begin(), caps.end(), "sso-openid-connect"), caps.end());
    auto scopes = c["scopes_supported"];
    for (const char* s : {"openid", "fhirUser"}) EXPECT_NE(std::find(scopes.begin(), scopes.end(), s), scopes.end());
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
  // openid/fhirUser were asked for, not registered: not granted.
  EXPECT_EQ(token["scope"], "launch/patient patient/DiagnosticReport.rs offline_access");
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

// The verifier a relying party builds from the server's discovery: issuer from openid-configuration, keys from
// jwks.json, the app's client_id as audience.
auth::JwtVerifier JwksVerifier(ServerProcess& server, const std::string& client_id) {
  json oidc = ParseBody(server.Get("/.well-known/openid-configuration"));
  EXPECT_EQ(oidc.value("issuer", ""), server.base_url());
  auth::JwtVerifier v(auth::JwtVerifyOptions{oidc.value("issuer", ""), client_id});
  auto jwks = server.Get("/.well-known/jwks.json");
  EXPECT_EQ(jwks.status, 200);
  auto keys = auth::ParseJwks(jwks.body);
  EXPECT_TRUE(keys.ok() && !keys->empty());
  if (keys.ok()) {
    for (auto& [kid, key] : *keys) v.AddKey(kid, key);
  }
  return v;
}

TEST_F(SmartTest, OpenidFhirUserGivesAPatientAnIdTokenThatVerifiesAgainstTheJwks) {
  json app = RegisterApp({{"name", "Who am I"},
                          {"redirectUris", {kRedirect}},
                          {"scope", "launch/patient patient/*.rs user/*.rs openid fhirUser offline_access"}});
  const std::string client = app["clientId"];
  json token =
      AppToken(client, "launch/patient patient/Patient.rs openid fhirUser offline_access", "alice", "nonce-4f1c2a");
  EXPECT_EQ(token["scope"], "launch/patient patient/Patient.rs openid fhirUser offline_access");
  ASSERT_TRUE(token.contains("id_token")) << token.dump();
  const std::string id_token = token["id_token"];
  const int64_t now = Timestamp::Now().seconds;
  auto claims = JwksVerifier(*server_, client).Verify(id_token, now);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "alice");
  EXPECT_EQ(claims->nonce, "nonce-4f1c2a");
  const std::string fhir_user = Fhir() + "/Patient/" + alice_;
  EXPECT_EQ(claims->fhir_user, fhir_user);
  EXPECT_LE(claims->exp - claims->iat, token["expires_in"].get<int64_t>());
  // fhirUser resolves, with the app's access token, to the patient's own resource.
  auto me = GetWith(fhir_user.substr(server_->base_url().size()), token["access_token"].get<std::string>());
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(ParseBody(me)["id"], alice_);
  // The ID token is not a bearer token for the API.
  EXPECT_EQ(GetWith("/fhir/r4/Patient/" + alice_, id_token).status, 401);
  // A refresh answers a fresh ID token (no nonce: OpenID Connect Core 12.2).
  auto refreshed = Token("grant_type=refresh_token&client_id=" + client +
                         "&refresh_token=" + token["refresh_token"].get<std::string>());
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  auto again = JwksVerifier(*server_, client).Verify(ParseBody(refreshed).value("id_token", ""), now);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->fhir_user, fhir_user);
  EXPECT_TRUE(again->nonce.empty());

  // A clinician: openid, but no fhirUser (this server has no Practitioner resource to point at).
  json doctor = AppToken(client, "user/DiagnosticReport.rs openid fhirUser", "dr.house");
  EXPECT_EQ(doctor["scope"], "user/DiagnosticReport.rs openid");
  auto dr = JwksVerifier(*server_, client).Verify(doctor.value("id_token", ""), now);
  ASSERT_TRUE(dr.ok()) << dr.error().message;
  EXPECT_EQ(dr->sub, "dr.house");
  EXPECT_TRUE(dr->fhir_user.empty());
  // An over-long nonce goes back to the app as invalid_request.
  auto r = server_->Get(AuthorizeQuery(client, "patient/*.rs openid", kRedirect, "S256", std::string(300, 'n')));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(QueryValue(r.Header("location"), "error"), "invalid_request");
}

TEST_F(SmartTest, OneAddressCannotFillThePendingAuthorizations) {
  json app = RegisterApp({{"name", "Flood"}, {"redirectUris", {kRedirect}}, {"scope", "patient/*.rs"}});
  const std::string client = app["clientId"];
  // The server's bound per address is 20 pending requests (SmartConfig::max_pending_per_address).
  std::vector<std::string> requests;
  for (int i = 0; i < 20; ++i) {
    auto r = server_->Get(AuthorizeQuery(client, "patient/*.rs"));
    ASSERT_EQ(r.Header("location").rfind("/smart/authorize?request=", 0), 0u) << i << " " << r.Header("location");
    requests.push_back(QueryValue(r.Header("location"), "request"));
  }
  auto refused = server_->Get(AuthorizeQuery(client, "patient/*.rs"));
  EXPECT_EQ(refused.status, 302);
  EXPECT_EQ(QueryValue(refused.Header("location"), "error"), "temporarily_unavailable");
  EXPECT_EQ(QueryValue(refused.Header("location"), "state"), "xyz123");
  // Deciding frees the caller's slots (and leaves later tests their room).
  for (const auto& id : requests) {
    auto denied =
        server_->PostJson("/api/v1/oauth2/requests/" + id + "/decision", R"({"approve":false})", tokens_["alice"]);
    EXPECT_EQ(denied.status, 200);
  }
  auto again = server_->Get(AuthorizeQuery(client, "patient/*.rs"));
  EXPECT_EQ(again.Header("location").rfind("/smart/authorize?request=", 0), 0u) << again.Header("location");
  server_->PostJson("/api/v1/oauth2/requests/" + QueryValue(again.Header("location"), "request") + "/decision",
                    R"({"approve":false})", tokens_["alice"]);
}

}  // namespace
}  // namespace medledger::testing
