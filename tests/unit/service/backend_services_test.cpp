// SMART Backend Services (docs/FHIR.md, Backend services): client JWKS validation, private_key_jwt assertion
// verification (ES384 and RS384, every claim rule, single use, the bounded replay cache), system scope narrowing,
// the system-client registration and the client_credentials token that AuthService then accepts.
#include "auth/backend_services.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "auth/auth_service.h"
#include "auth/client_assertion.h"
#include "auth/smart_apps.h"
#include "common/encoding.h"
#include "jws_test_key.h"
#include "service/bulk_groups.h"
#include "temp_dir.h"

namespace medledger::service {
namespace {

// Backend services are auth (src/auth); the test stays here because it also exercises the service's Group registry.
using auth::AuthConfig;
using auth::AuthService;
using auth::BackendConfig;
using auth::BackendServices;
using auth::ClientAssertionVerifier;
using auth::ClientCredentials;
using auth::ClientJwksLookup;
using auth::kJwtBearerAssertionType;
using auth::NarrowSystem;
using auth::ParseClientJwks;
using auth::SmartAppInput;
using auth::SmartAppRegistry;
namespace smart = auth::smart;

using json = nlohmann::json;
using medledger::testing::TempDir;
using medledger::testing::TestKey;

constexpr int64_t kNow = 1'800'000'000;
const std::string kEndpoint = "https://ehr.example/oauth2/token";

json Claims(const std::string& client, const std::string& jti, int64_t exp = kNow + 240) {
  return {{"iss", client}, {"sub", client}, {"aud", kEndpoint}, {"exp", exp}, {"jti", jti}, {"iat", kNow}};
}

std::string Jwks(const std::vector<json>& keys) {
  json doc = {{"keys", json::array()}};
  for (const auto& k : keys) doc["keys"].push_back(k);
  return doc.dump();
}

json With(json j, const json& patch) {
  j.update(patch);
  return j;
}

class AssertionTest : public ::testing::Test {
 protected:
  AssertionTest() { jwks_ = Jwks({ec_.Jwk("ec-1"), rsa_.Jwk("rsa-1")}); }
  ClientAssertionVerifier Verifier(size_t max_replay = 100) {
    return ClientAssertionVerifier({kEndpoint, max_replay, 30, [this] { return now_.load(); }});
  }
  ClientJwksLookup Lookup() {
    return [this](std::string_view id, std::string* jwks) {
      if (id != "client-1") return false;
      *jwks = jwks_;
      return true;
    };
  }
  std::string Code(ClientAssertionVerifier& v, const std::string& assertion) {
    auto r = v.Verify(assertion, Lookup());
    return r.ok() ? "ok" : r.error().code + ": " + r.error().message;
  }

  TestKey ec_ = TestKey::Ec();
  TestKey rsa_ = TestKey::Rsa();
  std::string jwks_;
  std::atomic<int64_t> now_{kNow};
};

TEST_F(AssertionTest, Es384AndRs384AssertionsVerifyOnce) {
  auto v = Verifier();
  EXPECT_EQ(Code(v, ec_.Sign({{"kid", "ec-1"}, {"typ", "JWT"}}, Claims("client-1", "a"))), "ok");
  EXPECT_EQ(Code(v, rsa_.Sign({{"kid", "rsa-1"}}, Claims("client-1", "b"))), "ok");
  // Without a kid the key is found by algorithm.
  EXPECT_EQ(Code(v, ec_.Sign(json::object(), Claims("client-1", "c"))), "ok");
  // Single use: the same jti again is refused, whatever the signature.
  EXPECT_EQ(Code(v, ec_.Sign({{"kid", "ec-1"}}, Claims("client-1", "a"))),
            "invalid_client: the assertion's jti was already used");
  EXPECT_EQ(v.replay_size(), 3u);
  // Remembered until its exp, then forgotten (the exp check alone refuses it from then on).
  now_ = kNow + 241;
  EXPECT_EQ(Code(v, ec_.Sign({{"kid", "ec-1"}}, Claims("client-1", "d", kNow + 400))), "ok");
  EXPECT_EQ(v.replay_size(), 1u);
}

TEST_F(AssertionTest, EveryClaimRuleHasItsMessage) {
  auto v = Verifier();
  auto code = [&](json header, json claims) { return Code(v, ec_.Sign(std::move(header), claims)); };
  json c = Claims("client-1", "x");
  EXPECT_EQ(code({}, With(c, {{"aud", "https://other/token"}})),
            "invalid_client: the assertion's aud must be the token endpoint " + kEndpoint);
  EXPECT_EQ(code({}, With(c, {{"aud", json::array({"x", kEndpoint})}})), "ok");
  EXPECT_EQ(code({}, With(c, {{"jti", "y"}, {"exp", kNow}})), "invalid_client: the assertion has expired");
  EXPECT_EQ(code({}, With(c, {{"jti", "z"}, {"exp", kNow + 301}})),
            "invalid_client: the assertion's exp is more than 5 minutes ahead");
  json no_exp = c;
  no_exp.erase("exp");
  EXPECT_EQ(code({}, no_exp), "invalid_client: the assertion has no exp");
  EXPECT_EQ(code({}, With(c, {{"exp", 1e300}})), "invalid_client: the assertion's exp is not a NumericDate");
  EXPECT_EQ(code({}, With(c, {{"exp", "soon"}})), "invalid_client: the assertion's exp is not a NumericDate");
  EXPECT_EQ(code({}, With(c, {{"sub", "someone"}})),
            "invalid_client: the assertion's sub must equal its iss (the client_id)");
  EXPECT_EQ(code({}, Claims("client-2", "q")), "invalid_client: no system client is registered with this client_id");
  EXPECT_EQ(code({}, With(c, {{"jti", ""}})), "invalid_client: the assertion needs a jti of 1 to 256 characters");
  EXPECT_EQ(code({}, With(c, {{"jti", "n1"}, {"nbf", kNow + 120}})),
            "invalid_client: the assertion is not valid yet (nbf)");
  EXPECT_EQ(code({{"jku", "https://evil/jwks"}}, c), "invalid_client: the assertion's header must not carry \"jku\"");
  EXPECT_EQ(code({{"jwk", ec_.Jwk("")}}, c), "invalid_client: the assertion's header must not carry \"jwk\"");
  EXPECT_EQ(code({{"kid", "nope"}}, With(c, {{"jti", "k"}})),
            "invalid_client: no registered ES384 key of the client has kid \"nope\"");
}

TEST_F(AssertionTest, ForgeriesAndAlgorithmConfusionAreRefused) {
  auto v = Verifier();
  // Another client's key (not registered) signing with this client's kid.
  TestKey stranger = TestKey::Ec();
  EXPECT_EQ(Code(v, stranger.Sign({{"kid", "ec-1"}}, Claims("client-1", "f1"))),
            "invalid_client: the assertion's signature does not verify with the client's registered key");
  // A valid assertion with its payload swapped for another's.
  std::string good = ec_.Sign({{"kid", "ec-1"}}, Claims("client-1", "f2"));
  auto parts = SplitOn(good, '.');
  std::string swapped =
      std::string(parts[0]) + "." + Base64UrlEncode(Claims("client-1", "f3").dump()) + "." + std::string(parts[2]);
  EXPECT_EQ(Code(v, swapped),
            "invalid_client: the assertion's signature does not verify with the client's registered key");
  // Algorithms the SMART spec does not name, including none and a symmetric one, go before any key is looked at.
  for (const char* alg : {"none", "HS256", "ES256", "RS256", "PS384"}) {
    EXPECT_EQ(Code(v, ec_.Sign({{"alg", alg}}, Claims("client-1", std::string("alg-") + alg))),
              "invalid_client: the assertion's alg must be ES384 or RS384")
        << alg;
  }
  // RS384 named on the EC key's signature: the RSA key does not verify it.
  EXPECT_EQ(Code(v, ec_.Sign({{"alg", "RS384"}}, Claims("client-1", "f4"))),
            "invalid_client: the assertion's signature does not verify with the client's registered key");
  EXPECT_EQ(Code(v, "a.b"), "invalid_client: the client assertion is not a compact JWS (three parts)");
  EXPECT_EQ(Code(v, std::string(9000, 'a')), "invalid_client: the client assertion is larger than 8 KiB");
  // None of the refused ones took a place in the replay cache.
  EXPECT_EQ(v.replay_size(), 0u);
}

TEST_F(AssertionTest, ReplayCacheIsBounded) {
  auto v = Verifier(2);
  EXPECT_EQ(Code(v, ec_.Sign({}, Claims("client-1", "1", kNow + 10))), "ok");
  EXPECT_EQ(Code(v, ec_.Sign({}, Claims("client-1", "2", kNow + 20))), "ok");
  auto full = v.Verify(ec_.Sign({}, Claims("client-1", "3")), Lookup());
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "temporarily_unavailable");
  EXPECT_EQ(v.replay_size(), 2u);
  now_ = kNow + 10;  // the first has expired and makes room
  EXPECT_EQ(Code(v, ec_.Sign({}, Claims("client-1", "3"))), "ok");
  EXPECT_EQ(v.replay_size(), 2u);
}

TEST(ClientJwksTest, OnlyPublicP384AndRsaKeysAreAccepted) {
  TestKey ec = TestKey::Ec();
  TestKey rsa = TestKey::Rsa();
  EXPECT_TRUE(ParseClientJwks(Jwks({ec.Jwk("a"), rsa.Jwk("b")})).ok());
  auto message = [](const std::string& jwks) {
    auto r = ParseClientJwks(jwks);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(message(Jwks({With(ec.Jwk("a"), {{"d", "AAAA"}})})), "jwks: key 1 contains private key material (\"d\")");
  EXPECT_EQ(message(Jwks({With(ec.Jwk("a"), {{"crv", "P-256"}})})), "jwks: key 1: an EC key must be on P-384 (ES384)");
  EXPECT_EQ(message(Jwks({ec.Jwk("a"), rsa.Jwk("a")})), "jwks: key 2 repeats kid \"a\"");
  EXPECT_EQ(message(Jwks({With(rsa.Jwk("r"), {{"alg", "RS256"}})})),
            "jwks: key 1's alg must be RS384 for its key type");
  EXPECT_EQ(message(Jwks({With(ec.Jwk("a"), {{"use", "enc"}})})), "jwks: key 1's use must be sig");
  EXPECT_EQ(message(Jwks({{{"kty", "oct"}, {"k", "c2VjcmV0"}}})), "jwks: key 1 contains private key material (\"k\")");
  EXPECT_EQ(message(Jwks({ec.Jwk("1"), ec.Jwk("2"), ec.Jwk("3"), ec.Jwk("4"), ec.Jwk("5"), ec.Jwk("6")})),
            "jwks: 1 to 5 keys");
  EXPECT_EQ(message("{\"keys\":[]}"), "jwks: 1 to 5 keys");
  // A point that is not on the curve.
  json off = ec.Jwk("a");
  off["y"] = Base64UrlEncode(std::string(48, '\x01'));
  EXPECT_NE(message(Jwks({off})).find("not"), std::string::npos);
  // 1024-bit RSA is refused.
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &n);
  std::string nb(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
  BN_free(n);
  EVP_PKEY_free(small);
  EXPECT_EQ(message(Jwks({{{"kty", "RSA"}, {"n", Base64UrlEncode(nb)}, {"e", "AQAB"}}})),
            "jwks: key 1: RSA modulus of 1024 bits; 2048 to 8192 accepted");
}

TEST(SystemScopeTest, NarrowedToTheRegisteredSystemScopes) {
  auto reg = smart::ParseScopes("system/Patient.rs system/DiagnosticReport.r").value();
  EXPECT_EQ(NarrowSystem(smart::ParseScopes("system/*.rs").value(), reg).ToString(),
            "system/DiagnosticReport.r system/Patient.rs");
  EXPECT_EQ(NarrowSystem(smart::ParseScopes("system/DiagnosticReport.cruds patient/*.rs").value(), reg).ToString(),
            "system/DiagnosticReport.r");
  EXPECT_TRUE(NarrowSystem(smart::ParseScopes("user/*.rs system/Provenance.r").value(), reg).resources.empty());
}

class BackendTokenTest : public AssertionTest {
 protected:
  void SetUp() override {
    users_ = identity::UserDirectory::Open(dir_.path() / "users.json", identity::PasswordCost::Minimal()).value();
    for (auto [name, role] : {std::pair{"registry", identity::Role::kDoctor}, {"alice", identity::Role::kPatient}}) {
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
    apps_ = SmartAppRegistry::Open(dir_.path() / "server" / "smart-apps.sealed", master_).value();
    BackendConfig bc{auth_->config().issuer,        auth_->config().audience, kEndpoint, 300, 100,
                     [this] { return now_.load(); }};
    backend_ = std::make_unique<BackendServices>(*apps_, *users_, auth_->signer(), bc);
    SmartAppInput in;
    in.name = "Registry";
    in.scope = "system/Patient.rs system/DiagnosticReport.rs system/Group.r";
    in.jwks = jwks_;
    in.acts_as = "registry";
    auto app = apps_->Register(in, "admin", kNow);
    ASSERT_TRUE(app.ok()) << app.error().message;
    client_ = app->first.client_id;
  }
  std::string Assertion(const std::string& jti) { return ec_.Sign({{"kid", "ec-1"}}, Claims(client_, jti)); }
  const std::string kType = std::string(kJwtBearerAssertionType);

  TempDir dir_;
  identity::MasterKey master_ = identity::MasterKey::FromBytes(std::string(32, 'k'));
  std::unique_ptr<identity::UserDirectory> users_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<SmartAppRegistry> apps_;
  std::unique_ptr<BackendServices> backend_;
  std::string client_;
};

TEST_F(BackendTokenTest, ClientCredentialsGivesAShortLivedSystemToken) {
  auto t = backend_->ClientCredentials(kType, Assertion("t1"), "system/*.rs");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->scope, "system/DiagnosticReport.rs system/Group.r system/Patient.rs");
  EXPECT_EQ(t->expires_in, 300);
  EXPECT_TRUE(t->refresh_token.empty());
  auto who = auth_->Authenticate(t->access_token);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->username, "registry");
  EXPECT_EQ(who->client_id, client_);
  EXPECT_EQ(who->scope, t->scope);
  EXPECT_TRUE(who->launch_patient.empty());
  // Short-lived: past its 5 minutes (and the verifier's 30 s of clock skew) the token is refused.
  now_ = kNow + 300 + 31;
  auto late = auth_->Authenticate(t->access_token);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "token_expired");
}

TEST_F(BackendTokenTest, OAuthErrorsArePrecise) {
  auto code = [&](const std::string& type, const std::string& assertion, const std::string& scope,
                  const std::string& client_id = "") {
    auto t = backend_->ClientCredentials(type, assertion, scope, client_id);
    return t.ok() ? std::string("ok") : t.error().code;
  };
  EXPECT_EQ(code("", Assertion("e1"), "system/*.rs"), "invalid_request");
  EXPECT_EQ(code("urn:ietf:params:oauth:client-assertion-type:saml2-bearer", Assertion("e2"), "system/*.rs"),
            "invalid_request");
  EXPECT_EQ(code(kType, Assertion("e3"), ""), "invalid_scope");
  EXPECT_EQ(code(kType, Assertion("e4"), "system/Provenance.rs user/*.rs"), "invalid_scope");
  EXPECT_EQ(code(kType, Assertion("e5"), "system/*.rs", "another-client"), "invalid_client");
  EXPECT_EQ(code(kType, Assertion("e6"), "system/*.rs", client_), "ok");
  EXPECT_EQ(code(kType, Assertion("e6"), "system/*.rs"), "invalid_client");  // replayed
  // The account it acts as, disabled: no token.
  ASSERT_TRUE(users_->SetDisabled("registry", true).ok());
  EXPECT_EQ(code(kType, Assertion("e7"), "system/*.rs"), "invalid_grant");
}

TEST_F(BackendTokenTest, SystemClientRegistrationIsValidatedAndDurable) {
  SmartAppInput in;
  in.name = "Bad";
  in.jwks = jwks_;
  in.acts_as = "registry";
  in.scope = "system/*.rs user/*.rs";
  EXPECT_EQ(apps_->Register(in, "admin", kNow).error().message, "scope: a system client has system/ scopes only");
  in.scope = "system/*.rs";
  in.redirect_uris = {"https://app.example/cb"};
  EXPECT_EQ(apps_->Register(in, "admin", kNow).error().message,
            "a system client (jwks) has no redirectUris and no client secret");
  in.redirect_uris.clear();
  in.jwks = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AA\"}]}";
  EXPECT_EQ(apps_->Register(in, "admin", kNow).error().message, "jwks: key 1 contains private key material (\"d\")");
  auto reopened = SmartAppRegistry::Open(dir_.path() / "server" / "smart-apps.sealed", master_).value();
  auto app = reopened->Find(client_);
  ASSERT_TRUE(app.has_value());
  EXPECT_TRUE(app->system());
  EXPECT_EQ(app->acts_as, "registry");
  EXPECT_EQ(ParseClientJwks(app->jwks).value().size(), 2u);
}

TEST(BulkGroupTest, CreateValidateAndPersist) {
  TempDir dir;
  auto master = identity::MasterKey::FromBytes(std::string(32, 'g'));
  auto groups = BulkGroupRegistry::Open(dir.path() / "bulk-groups.sealed", master).value();
  auto message = [&](BulkGroupInput in) {
    auto g = groups->Create(in, "admin", kNow);
    return g.ok() ? std::string("ok") : g.error().message;
  };
  EXPECT_EQ(message({"", "c1", {"p1"}}), "name: 1 to 100 characters of text");
  EXPECT_EQ(message({"G", "", {"p1"}}), "clientId: a system client's ID");
  EXPECT_EQ(message({"G", "c1", {}}), "members: 1 to 1000 patients");
  EXPECT_EQ(message({"G", "c1", std::vector<std::string>(1001, "p")}), "members: 1 to 1000 patients");
  EXPECT_EQ(message({"G", "c1", {"p1", "p1"}}), "members: p1 is listed twice");
  EXPECT_EQ(message({"G", "c1", {"../etc"}}), "members: \"../etc\" is not a patient ID");
  auto g = groups->Create({"Cohort", "c1", {"p1", "p2"}}, "admin", kNow);
  ASSERT_TRUE(g.ok());
  auto reopened = BulkGroupRegistry::Open(dir.path() / "bulk-groups.sealed", master).value();
  auto found = reopened->Find(g->id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->members, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(found->client_id, "c1");
  ASSERT_TRUE(reopened->Remove(g->id).ok());
  EXPECT_EQ(reopened->Remove(g->id).error().code, "group_not_found");
  for (size_t i = 0; i < kMaxBulkGroups; ++i) ASSERT_TRUE(reopened->Create({"G", "c1", {"p"}}, "admin", kNow).ok());
  EXPECT_EQ(reopened->Create({"G", "c1", {"p"}}, "admin", kNow).error().code, "too_many_groups");
}

}  // namespace
}  // namespace medledger::service
