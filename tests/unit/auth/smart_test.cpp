// SMART on FHIR: v2 scope parsing and narrowing, PKCE, redirect URI rules, the app registry (sealed, secrets
// hashed) and the authorization code flow (single use, 60 s, bound to client, redirect URI, verifier and user).
#include <gtest/gtest.h>

#include <atomic>

#include "auth/auth_service.h"
#include "auth/smart_apps.h"
#include "auth/smart_auth.h"
#include "auth/smart_scopes.h"
#include "common/encoding.h"
#include "crypto/hash.h"
#include "identity/sealed_file.h"
#include "io/env.h"
#include "io/fault_env.h"
#include "temp_dir.h"

namespace medledger::auth {
namespace {

using medledger::testing::TempDir;
using smart::ParseScopes;

TEST(SmartScopesTest, ParsesV2AndV1AndMergesPerResource) {
  auto s = ParseScopes(
      "launch/patient patient/DiagnosticReport.r patient/DiagnosticReport.s user/Patient.read "
      "openid fhirUser offline_access");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->launch_patient && s->openid && s->fhir_user && s->offline_access);
  EXPECT_EQ(s->ToString(), "launch/patient patient/DiagnosticReport.rs user/Patient.rs openid fhirUser offline_access");
  EXPECT_TRUE(s->Allows("DiagnosticReport", smart::kSearch));
  EXPECT_FALSE(s->Allows("DiagnosticReport", smart::kCreate));
  EXPECT_FALSE(s->Allows("Consent", smart::kRead));
  auto star = ParseScopes("patient/*.cruds");
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->Allows("Consent", smart::kUpdate));
}

TEST(SmartScopesTest, UnknownOrMalformedScopesAreNotGrantedAndBadTextIsRefused) {
  // Letters out of order, unknown letters, v2 query scopes, unknown contexts: left out, not granted.
  auto s = ParseScopes(
      "patient/DiagnosticReport.sr patient/Patient.x patient/Observation.rs?category=lab "
      "group/Patient.r patient/lower.r something");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->resources.empty());
  EXPECT_EQ(ParseScopes("patient/Patient.r\"").error().code, "invalid_scope");
  EXPECT_EQ(ParseScopes(std::string(3000, 'a')).error().code, "invalid_scope");
  std::string many;
  for (int i = 0; i < 65; ++i) many += "openid ";
  EXPECT_EQ(ParseScopes(many).error().code, "invalid_scope");
}

TEST(SmartScopesTest, NarrowCutsToRegistrationAndToPatientContext) {
  auto registered = ParseScopes("patient/DiagnosticReport.rs user/*.rs launch/patient").value();
  auto requested = ParseScopes(
                       "patient/DiagnosticReport.cruds patient/Patient.rs user/Consent.r system/*.rs launch/patient "
                       "offline_access openid fhirUser")
                       .value();
  auto for_patient = smart::Narrow(requested, registered, true);
  // c, u, d were not registered; patient/Patient not registered; system/ never; offline_access, openid and
  // fhirUser not registered.
  EXPECT_EQ(for_patient.ToString(), "launch/patient patient/DiagnosticReport.rs user/Consent.r");
  auto for_doctor = smart::Narrow(requested, registered, false);
  EXPECT_EQ(for_doctor.ToString(), "user/Consent.r");  // no patient in context: no patient/ scope, no launch
}

TEST(SmartScopesTest, OpenidWhenRegisteredAndFhirUserOnlyWithOpenidAndAPatient) {
  auto registered = ParseScopes("patient/*.rs user/*.rs openid fhirUser").value();
  auto requested = ParseScopes("patient/DiagnosticReport.rs user/Consent.r openid fhirUser").value();
  EXPECT_EQ(smart::Narrow(requested, registered, true).ToString(),
            "patient/DiagnosticReport.rs user/Consent.r openid fhirUser");
  // A clinician has no FHIR resource of their own here (no Practitioner): openid, but no fhirUser.
  EXPECT_EQ(smart::Narrow(requested, registered, false).ToString(), "user/Consent.r openid");
  // fhirUser alone would promise an ID token that openid was not asked for.
  auto no_openid = ParseScopes("patient/DiagnosticReport.rs fhirUser").value();
  EXPECT_EQ(smart::Narrow(no_openid, registered, true).ToString(), "patient/DiagnosticReport.rs");
  auto only_openid = ParseScopes("patient/DiagnosticReport.rs openid").value();
  EXPECT_EQ(smart::Narrow(only_openid, registered, true).ToString(), "patient/DiagnosticReport.rs openid");
}

TEST(SmartScopesTest, DescribeSpeaksPlainly) {
  auto s = ParseScopes("patient/DiagnosticReport.rs").value();
  EXPECT_EQ(smart::Describe(s.resources[0]), "The app can read and search your medical reports.");
}

TEST(SmartPkceTest, S256Only) {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";  // RFC 7636 appendix B
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  EXPECT_TRUE(PkceMatches(verifier, challenge));
  EXPECT_FALSE(PkceMatches(verifier + "x", challenge));
  EXPECT_FALSE(PkceMatches(verifier, verifier));  // plain is refused: the challenge is never the verifier
  EXPECT_FALSE(PkceMatches("short", Base64UrlEncode(crypto::Sha256("short"))));
  std::string bad = verifier;
  bad[0] = '+';
  EXPECT_FALSE(PkceMatches(bad, Base64UrlEncode(crypto::Sha256(bad))));
}

TEST(SmartRedirectUriTest, HttpsOrLoopbackNoFragmentNoUserinfo) {
  EXPECT_TRUE(ValidateRedirectUri("https://app.example/cb?x=1").ok());
  EXPECT_TRUE(ValidateRedirectUri("http://127.0.0.1:9000/cb").ok());
  EXPECT_TRUE(ValidateRedirectUri("http://localhost/cb").ok());
  EXPECT_FALSE(ValidateRedirectUri("http://app.example/cb").ok());
  EXPECT_FALSE(ValidateRedirectUri("http://localhost.evil.example/cb").ok());
  EXPECT_FALSE(ValidateRedirectUri("https://app.example/cb#frag").ok());
  EXPECT_FALSE(ValidateRedirectUri("https://user@app.example/cb").ok());
  EXPECT_FALSE(ValidateRedirectUri("javascript:alert(1)").ok());
  EXPECT_FALSE(ValidateRedirectUri("https://app.example/a b").ok());
  EXPECT_EQ(WithQuery("https://a.example/cb?x=1#f", {{"code", "a b&"}}), "https://a.example/cb?x=1&code=a%20b%26#f");
}

constexpr int64_t kStart = 1'800'000'000;
const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const std::string kRedirect = "https://app.example/cb";
const std::string kAddress = "192.0.2.1";

class SmartFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    users_ = identity::UserDirectory::Open(dir_.path() / "users.json", identity::PasswordCost::Minimal()).value();
    for (auto [name, role] : {std::pair{"alice", identity::Role::kPatient}, {"drbob", identity::Role::kDoctor}}) {
      identity::User u;
      u.username = name;
      u.role = role;
      u.display_name = name;
      u.cert_pem = "cert";
      ASSERT_TRUE(users_->AddUser(u, std::string("correct-horse-") + name).ok());
    }
    AuthConfig config;
    config.clock = [this] { return now_.load(); };
    auth_ = AuthService::Open(dir_.path() / "server", master_, *users_, config).value();
    auth_->SetPatientResolver([](std::string_view u) -> std::optional<std::string> {
      return u == "alice" ? std::optional<std::string>("p-alice") : std::nullopt;
    });
    apps_ = SmartAppRegistry::Open(dir_.path() / "server" / "smart-apps.sealed", master_).value();
    SmartConfig sc;
    sc.issuer = auth_->config().issuer;
    sc.audience = auth_->config().audience;
    sc.fhir_base = sc.issuer + "/fhir/r4";
    sc.clock = [this] { return now_.load(); };
    smart_ = std::make_unique<SmartAuthorizer>(*apps_, *users_, auth_->signer(), sc);
    auto app = apps_->Register(
        {"Reports app", {kRedirect}, false, "patient/*.rs user/*.rs launch/patient offline_access"}, "admin", kStart);
    ASSERT_TRUE(app.ok());
    client_ = app->first.client_id;
  }

  AuthorizeParams Params() {
    return {"code",     client_,
            kRedirect,  "launch/patient patient/DiagnosticReport.rs offline_access",
            "st",       smart_->config().fhir_base,
            kChallenge, "S256"};
  }

  Principal User(const std::string& name) {
    int64_t retry = 0;
    auto pair = auth_->Login(name, "correct-horse-" + name, "192.0.2.1", &retry).value();
    return auth_->Authenticate(pair.access_token).value();
  }

  // A code for `who` through Begin and Decide.
  std::string Code(const Principal& who) { return CodeFor(Params(), who); }
  std::string CodeFor(const AuthorizeParams& params, const Principal& who) {
    auto begun = smart_->Begin(params, kAddress);
    EXPECT_TRUE(std::holds_alternative<std::string>(begun));
    auto to = smart_->Decide(std::get<std::string>(begun), who, true);
    EXPECT_TRUE(to.ok());
    auto at = to->find("code=");
    return to->substr(at + 5, to->find('&', at) - at - 5);
  }

  TempDir dir_;
  identity::MasterKey master_ = identity::MasterKey::FromBytes(std::string(32, 'k'));
  std::unique_ptr<identity::UserDirectory> users_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<SmartAppRegistry> apps_;
  std::unique_ptr<SmartAuthorizer> smart_;
  std::string client_;
};

TEST_F(SmartFlowTest, CodeExchangeIssuesAScopedPatientTokenThatAuthServiceAccepts) {
  Principal alice = User("alice");
  auto view = smart_->Describe(std::get<std::string>(smart_->Begin(Params(), kAddress)), alice);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->app_name, "Reports app");
  EXPECT_EQ(view->patient, "p-alice");
  auto token = smart_->ExchangeCode({client_, "", false}, Code(alice), kRedirect, kVerifier);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->patient, "p-alice");
  EXPECT_EQ(token->scope, "launch/patient patient/DiagnosticReport.rs offline_access");
  EXPECT_FALSE(token->refresh_token.empty());
  auto p = auth_->Authenticate(token->access_token);
  ASSERT_TRUE(p.ok()) << p.error().code;
  EXPECT_EQ(p->client_id, client_);
  EXPECT_EQ(p->scope, token->scope);
  EXPECT_EQ(p->launch_patient, "p-alice");
  EXPECT_EQ(p->username, "alice");
  // Rotation: the refresh token works once.
  auto next = smart_->Refresh({client_, "", false}, token->refresh_token, "");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(smart_->Refresh({client_, "", false}, token->refresh_token, "").error().code, "invalid_grant");
  // A narrower scope on refresh, never a wider one.
  auto narrower = smart_->Refresh({client_, "", false}, next->refresh_token, "patient/DiagnosticReport.r user/*.cruds");
  ASSERT_TRUE(narrower.ok());
  EXPECT_EQ(narrower->scope, "patient/DiagnosticReport.r");
}

TEST_F(SmartFlowTest, CodeIsSingleUseEvenAfterAFailedAttempt) {
  Principal alice = User("alice");
  std::string code = Code(alice);
  ASSERT_TRUE(smart_->ExchangeCode({client_, "", false}, code, kRedirect, kVerifier).ok());
  EXPECT_EQ(smart_->ExchangeCode({client_, "", false}, code, kRedirect, kVerifier).error().code, "invalid_grant");
  std::string other = Code(alice);
  EXPECT_EQ(smart_->ExchangeCode({client_, "", false}, other, kRedirect, kVerifier + "x").error().code,
            "invalid_grant");
  // The wrong verifier spent it: the right one no longer helps.
  EXPECT_EQ(smart_->ExchangeCode({client_, "", false}, other, kRedirect, kVerifier).error().code, "invalid_grant");
}

TEST_F(SmartFlowTest, CodeExpiresAfterSixtySecondsAndIsBoundToRedirectAndClient) {
  Principal alice = User("alice");
  std::string code = Code(alice);
  now_ += 61;
  EXPECT_EQ(smart_->ExchangeCode({client_, "", false}, code, kRedirect, kVerifier).error().code, "invalid_grant");
  EXPECT_EQ(smart_->code_count(), 0u);
  code = Code(alice);
  EXPECT_EQ(smart_->ExchangeCode({client_, "", false}, code, kRedirect + "/", kVerifier).error().code, "invalid_grant");
  auto other = apps_->Register({"Other", {kRedirect}, false, "patient/*.rs"}, "admin", kStart).value();
  code = Code(alice);
  EXPECT_EQ(smart_->ExchangeCode({other.first.client_id, "", false}, code, kRedirect, kVerifier).error().code,
            "invalid_grant");
  EXPECT_EQ(smart_->ExchangeCode({"nope", "", false}, Code(alice), kRedirect, kVerifier).error().code,
            "invalid_client");
}

TEST_F(SmartFlowTest, BeginRefusesWithoutRedirectUntilClientAndUriAreKnown) {
  auto p = Params();
  p.client_id = "unknown";
  auto r = std::get<AuthorizeFailure>(smart_->Begin(p, kAddress));
  EXPECT_FALSE(r.redirect);
  p = Params();
  p.redirect_uri = "https://evil.example/cb";
  r = std::get<AuthorizeFailure>(smart_->Begin(p, kAddress));
  EXPECT_FALSE(r.redirect);
  EXPECT_TRUE(r.redirect_to.empty());
  for (auto mutate : std::vector<std::function<void(AuthorizeParams&)>>{
           [](AuthorizeParams& a) { a.code_challenge_method = "plain"; },
           [](AuthorizeParams& a) { a.code_challenge = ""; },
           [](AuthorizeParams& a) { a.aud = "https://other.example/fhir"; },
           [](AuthorizeParams& a) { a.response_type = "token"; }, [](AuthorizeParams& a) { a.state = ""; },
           [](AuthorizeParams& a) { a.scope = "openid"; },
           [](AuthorizeParams& a) { a.nonce = std::string(kMaxNonceBytes + 1, 'n'); },
           [](AuthorizeParams& a) { a.nonce = "a\x01b"; },
           [](AuthorizeParams& a) { a.nonce = "caf\xc3\xa9"; },  // echoed into JSON: printable ASCII only
       }) {
    p = Params();
    mutate(p);
    r = std::get<AuthorizeFailure>(smart_->Begin(p, kAddress));
    EXPECT_TRUE(r.redirect) << r.error;
    EXPECT_EQ(r.redirect_to.rfind(kRedirect + "?error=", 0), 0u) << r.redirect_to;
  }
}

TEST_F(SmartFlowTest, DenyRedirectsAccessDeniedAndADoctorGetsNoPatientScopes) {
  auto id = std::get<std::string>(smart_->Begin(Params(), kAddress));
  auto to = smart_->Decide(id, User("alice"), false);
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(*to, kRedirect + "?error=access_denied&error_description=the%20user%20denied%20the%20request&state=st");
  EXPECT_EQ(smart_->Decide(id, User("alice"), true).error().code, "authorization_request_not_found");
  // A clinician: patient/ scopes need a patient in context, which only a patient user has here.
  id = std::get<std::string>(smart_->Begin(Params(), kAddress));
  to = smart_->Decide(id, User("drbob"), true);
  ASSERT_TRUE(to.ok());
  EXPECT_NE(to->find("error=invalid_scope"), std::string::npos);
}

TEST_F(SmartFlowTest, ConfidentialClientAuthenticatesWithItsSecret) {
  auto app = apps_->Register({"Portal", {kRedirect}, true, "patient/*.rs"}, "admin", kStart).value();
  ASSERT_FALSE(app.second.empty());
  EXPECT_NE(app.first.secret_hash, app.second);
  auto p = Params();
  p.client_id = app.first.client_id;
  auto id = std::get<std::string>(smart_->Begin(p, kAddress));
  auto to = smart_->Decide(id, User("alice"), true).value();
  auto at = to.find("code=");
  std::string code = to.substr(at + 5, to.find('&', at) - at - 5);
  EXPECT_EQ(smart_->ExchangeCode({app.first.client_id, "", false}, code, kRedirect, kVerifier).error().code,
            "invalid_client");
  // The failed client authentication did not spend the code (it never reached it).
  auto ok = smart_->ExchangeCode({app.first.client_id, app.second, true}, code, kRedirect, kVerifier);
  EXPECT_TRUE(ok.ok());
  // Reopened from disk: the app is there, its secret still matches only the hash.
  auto reopened = SmartAppRegistry::Open(dir_.path() / "server" / "smart-apps.sealed", master_).value();
  auto found = reopened->Find(app.first.client_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(SmartAppRegistry::SecretMatches(*found, app.second));
  EXPECT_FALSE(SmartAppRegistry::SecretMatches(*found, app.second + "x"));
  ASSERT_TRUE(reopened->Remove(app.first.client_id).ok());
  EXPECT_EQ(reopened->Remove(app.first.client_id).error().code, "app_not_found");
}

TEST_F(SmartFlowTest, RegistryValidatesAndBoundsItsInput) {
  EXPECT_EQ(apps_->Register({"", {kRedirect}, false, "patient/*.rs"}, "a", kStart).error().code, "validation_failed");
  EXPECT_EQ(apps_->Register({"X", {}, false, "patient/*.rs"}, "a", kStart).error().code, "validation_failed");
  EXPECT_EQ(apps_->Register({"X", {"http://evil.example/cb"}, false, "patient/*.rs"}, "a", kStart).error().code,
            "validation_failed");
  EXPECT_EQ(apps_->Register({"X", {kRedirect}, false, "openid"}, "a", kStart).error().code, "validation_failed");
  size_t n = apps_->List().size();
  for (; n < kMaxSmartApps; ++n)
    ASSERT_TRUE(apps_->Register({"X", {kRedirect}, false, "patient/*.rs"}, "a", kStart).ok());
  EXPECT_EQ(apps_->Register({"X", {kRedirect}, false, "patient/*.rs"}, "a", kStart).error().code, "too_many_apps");
}

TEST_F(SmartFlowTest, PasswordChangeEndsTheAppsTokens) {
  Principal alice = User("alice");
  auto token = smart_->ExchangeCode({client_, "", false}, Code(alice), kRedirect, kVerifier).value();
  ASSERT_TRUE(users_->SetPassword("alice", "correct-horse-new-one").ok());
  EXPECT_EQ(auth_->Authenticate(token.access_token).error().code, "token_revoked");
  EXPECT_EQ(smart_->Refresh({client_, "", false}, token.refresh_token, "").error().code, "invalid_grant");
}

TEST_F(SmartFlowTest, RefreshTokensSurviveARestartAndTheirRotationIsDurable) {
  const auto file = dir_.path() / "server" / "smart-refresh.sealed";
  auto sealer = [&] { return identity::SealedFiles::Create(master_, "smart-refresh-tokens").value(); };
  ASSERT_TRUE(smart_->PersistRefreshTokens(sealer(), file).ok());
  auto token = smart_->ExchangeCode({client_, "", false}, Code(User("alice")), kRedirect, kVerifier).value();
  ASSERT_FALSE(token.refresh_token.empty());

  auto restarted = [&] {
    auto s = std::make_unique<SmartAuthorizer>(*apps_, *users_, auth_->signer(), smart_->config());
    EXPECT_TRUE(s->PersistRefreshTokens(sealer(), file).ok());
    return s;
  };
  auto second = restarted();
  auto rotated = second->Refresh({client_, "", false}, token.refresh_token, "");
  ASSERT_TRUE(rotated.ok()) << rotated.error().ToString();
  EXPECT_EQ(rotated->patient, "p-alice");

  auto third = restarted();  // the rotation was written: the old token is spent, the new one works
  EXPECT_EQ(third->Refresh({client_, "", false}, token.refresh_token, "").error().code, "invalid_grant");
  EXPECT_TRUE(third->Refresh({client_, "", false}, rotated->refresh_token, "").ok());
  // The file holds hashes, never a token.
  auto raw = io::ReadFile(*io::Env::Default(), file.string());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->find(rotated->refresh_token), std::string::npos);
}

TEST_F(SmartFlowTest, AFullDiskRefusesTheRefreshAndKeepsTheOldToken) {
  io::FaultInjectionEnv env;
  ASSERT_TRUE(smart_
                  ->PersistRefreshTokens(identity::SealedFiles::Create(master_, "smart-refresh-tokens", &env).value(),
                                         dir_.path() / "server" / "smart-refresh.sealed")
                  .ok());
  auto token = smart_->ExchangeCode({client_, "", false}, Code(User("alice")), kRedirect, kVerifier).value();
  env.SetDiskFull(true);
  auto refused = smart_->Refresh({client_, "", false}, token.refresh_token, "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kNoSpace);
  env.ClearFaults();
  EXPECT_TRUE(smart_->Refresh({client_, "", false}, token.refresh_token, "").ok());
}

// An app registered for openid and fhirUser, asking for them with a nonce.
class SmartIdTokenTest : public SmartFlowTest {
 protected:
  void SetUp() override {
    SmartFlowTest::SetUp();
    auto app = apps_->Register(
        {"Who am I", {kRedirect}, false, "launch/patient patient/*.rs user/*.rs openid fhirUser offline_access"},
        "admin", kStart);
    ASSERT_TRUE(app.ok());
    id_client_ = app->first.client_id;
  }

  AuthorizeParams IdParams(const std::string& scope, const std::string& nonce = "n-0S6_WzA2Mj") {
    AuthorizeParams p = Params();
    p.client_id = id_client_;
    p.scope = scope;
    p.nonce = nonce;
    return p;
  }

  // The verifier a relying party builds from /.well-known/jwks.json, for ID tokens of this app.
  JwtVerifier JwksVerifier(const std::string& audience) {
    JwtVerifier v(JwtVerifyOptions{auth_->config().issuer, audience});
    auto keys = ParseJwks(auth_->signer().JwksJson());
    EXPECT_TRUE(keys.ok());
    for (auto& [kid, key] : *keys) v.AddKey(kid, key);
    return v;
  }

  std::string id_client_;
};

TEST_F(SmartIdTokenTest, PatientGetsAnIdTokenWithFhirUserAndNonceSignedByTheJwksKey) {
  Principal alice = User("alice");
  auto request = std::get<std::string>(
      smart_->Begin(IdParams("launch/patient patient/DiagnosticReport.rs openid fhirUser offline_access"), kAddress));
  auto view = smart_->Describe(request, alice).value();
  // The consent screen says the app learns who the user is.
  std::vector<std::string> shown;
  for (const auto& d : view.descriptions) shown.push_back(d.first);
  EXPECT_NE(std::find(shown.begin(), shown.end(), "openid"), shown.end());
  EXPECT_NE(std::find(shown.begin(), shown.end(), "fhirUser"), shown.end());
  auto to = smart_->Decide(request, alice, true).value();
  auto at = to.find("code=");
  std::string code = to.substr(at + 5, to.find('&', at) - at - 5);
  auto token = smart_->ExchangeCode({id_client_, "", false}, code, kRedirect, kVerifier);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->scope, "launch/patient patient/DiagnosticReport.rs openid fhirUser offline_access");
  ASSERT_FALSE(token->id_token.empty());

  auto claims = JwksVerifier(id_client_).Verify(token->id_token, now_.load());
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->iss, auth_->config().issuer);
  EXPECT_EQ(claims->sub, "alice");
  EXPECT_EQ(claims->aud, id_client_);
  EXPECT_EQ(claims->nonce, "n-0S6_WzA2Mj");
  EXPECT_EQ(claims->fhir_user, auth_->config().issuer + "/fhir/r4/Patient/p-alice");
  EXPECT_EQ(claims->iat, kStart);
  EXPECT_EQ(claims->exp, kStart + smart_->config().access_ttl_seconds);
  // No PHI and nothing an access token carries: no display name, role, scope or patient claim.
  EXPECT_TRUE(claims->name.empty());
  EXPECT_TRUE(claims->role.empty());
  EXPECT_TRUE(claims->scope.empty());
  EXPECT_TRUE(claims->client_id.empty());
  // Signed for the app, not for the API: the ID token is no access token, nor the access token an ID token.
  EXPECT_EQ(auth_->Authenticate(token->id_token).error().code, "token_invalid");
  EXPECT_FALSE(JwksVerifier(id_client_).Verify(token->access_token, now_.load()).ok());
  EXPECT_FALSE(JwksVerifier("another-client").Verify(token->id_token, now_.load()).ok());
  // A flipped payload byte breaks the signature.
  std::string forged = token->id_token;
  forged[forged.find('.') + 5] ^= 1;
  EXPECT_FALSE(JwksVerifier(id_client_).Verify(forged, now_.load()).ok());

  // Refresh: a fresh ID token for the same user, issued now, without the nonce (OpenID Connect Core 12.2).
  now_ += 100;
  auto refreshed = smart_->Refresh({id_client_, "", false}, token->refresh_token, "");
  ASSERT_TRUE(refreshed.ok());
  auto again = JwksVerifier(id_client_).Verify(refreshed->id_token, now_.load());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->sub, "alice");
  EXPECT_EQ(again->fhir_user, claims->fhir_user);
  EXPECT_EQ(again->iat, kStart + 100);
  EXPECT_TRUE(again->nonce.empty());
  // A refresh narrowed to leave openid out answers no ID token.
  auto narrowed = smart_->Refresh({id_client_, "", false}, refreshed->refresh_token, "patient/DiagnosticReport.r");
  ASSERT_TRUE(narrowed.ok());
  EXPECT_EQ(narrowed->scope, "patient/DiagnosticReport.r");
  EXPECT_TRUE(narrowed->id_token.empty());
}

TEST_F(SmartIdTokenTest, OpenidAloneGivesAnIdTokenWithoutFhirUserAndNoNonceWhenNoneWasSent) {
  auto token = smart_->ExchangeCode({id_client_, "", false},
                                    CodeFor(IdParams("patient/DiagnosticReport.rs openid", ""), User("alice")),
                                    kRedirect, kVerifier);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->scope, "patient/DiagnosticReport.rs openid");
  auto claims = JwksVerifier(id_client_).Verify(token->id_token, now_.load());
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "alice");
  EXPECT_TRUE(claims->fhir_user.empty());
  EXPECT_TRUE(claims->nonce.empty());
  EXPECT_EQ(claims->raw_payload.find("nonce"), std::string::npos);
}

TEST_F(SmartIdTokenTest, AClinicianGetsNoFhirUserAndAnAppNotRegisteredForOpenidNoIdToken) {
  auto token = smart_->ExchangeCode({id_client_, "", false},
                                    CodeFor(IdParams("user/DiagnosticReport.rs openid fhirUser"), User("drbob")),
                                    kRedirect, kVerifier);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->scope, "user/DiagnosticReport.rs openid");  // fhirUser not granted: no Practitioner resource
  auto claims = JwksVerifier(id_client_).Verify(token->id_token, now_.load());
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "drbob");
  EXPECT_TRUE(claims->fhir_user.empty());
  EXPECT_EQ(claims->raw_payload.find("fhirUser"), std::string::npos);

  // The fixture's app did not register openid: asking is not enough.
  AuthorizeParams p = Params();
  p.scope = "patient/DiagnosticReport.rs openid fhirUser";
  auto plain = smart_->ExchangeCode({client_, "", false}, CodeFor(p, User("alice")), kRedirect, kVerifier);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->scope, "patient/DiagnosticReport.rs");
  EXPECT_TRUE(plain->id_token.empty());
}

TEST_F(SmartFlowTest, PendingRequestsAreBoundedPerClientAddress) {
  const size_t per_address = smart_->config().max_pending_per_address;
  ASSERT_LT(per_address, smart_->config().max_pending_requests);
  std::vector<std::string> ids;
  for (size_t i = 0; i < per_address; ++i) {
    auto begun = smart_->Begin(Params(), "203.0.113.9");
    ASSERT_TRUE(std::holds_alternative<std::string>(begun)) << i;
    ids.push_back(std::get<std::string>(begun));
  }
  auto refused = smart_->Begin(Params(), "203.0.113.9");
  ASSERT_TRUE(std::holds_alternative<AuthorizeFailure>(refused));
  const auto& failure = std::get<AuthorizeFailure>(refused);
  EXPECT_TRUE(failure.redirect);
  EXPECT_EQ(failure.error, "temporarily_unavailable");
  EXPECT_EQ(failure.redirect_to.rfind(kRedirect + "?error=temporarily_unavailable", 0), 0u);
  EXPECT_EQ(smart_->pending_count(), per_address);
  // Another caller is not locked out by the first one's requests.
  EXPECT_TRUE(std::holds_alternative<std::string>(smart_->Begin(Params(), "198.51.100.4")));
  // IPv6 counts per /64: new addresses in one block share its bound.
  for (size_t i = 0; i < per_address; ++i) {
    ASSERT_TRUE(std::holds_alternative<std::string>(smart_->Begin(Params(), "2001:db8:5:6::" + std::to_string(i + 1))));
  }
  EXPECT_TRUE(std::holds_alternative<AuthorizeFailure>(smart_->Begin(Params(), "2001:db8:5:6::ffff")));
  // A decision frees its slot; so does expiry.
  ASSERT_TRUE(smart_->Decide(ids[0], User("alice"), false).ok());
  EXPECT_TRUE(std::holds_alternative<std::string>(smart_->Begin(Params(), "203.0.113.9")));
  EXPECT_TRUE(std::holds_alternative<AuthorizeFailure>(smart_->Begin(Params(), "203.0.113.9")));
  now_ += smart_->config().request_ttl_seconds + 1;
  EXPECT_TRUE(std::holds_alternative<std::string>(smart_->Begin(Params(), "203.0.113.9")));
}

}  // namespace
}  // namespace medledger::auth
