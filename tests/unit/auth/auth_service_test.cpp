// Sessions of the built-in issuer: epochs (password change, disable), the absolute lifetime, family
// revocation on refresh-token reuse, logout, the login throttle as the AuthService applies it, and sign-in
// through an external OpenID Connect provider. Everything runs on in-memory fakes: the user directory and the
// service's state on a MemEnv, a clock the test moves, and a fake provider answering discovery, JWKS and the
// code exchange.
#include "auth/auth_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "auth/oidc.h"
#include "common/encoding.h"
#include "crypto/ecdsa.h"
#include "mem_env.h"
#include "temp_dir.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;

constexpr int64_t kStart = 1'800'000'000;
constexpr const char* kUsers = "/org/users.json";
constexpr const char* kState = "/data/server";

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_->CreateDirs(std::filesystem::path(users_file_).parent_path().string()).ok());
    users_ = OpenUsers();
    ASSERT_NE(users_, nullptr);
    for (const char* name : {"alice", "bob"}) {
      identity::User u;
      u.username = name;
      u.role = identity::Role::kPatient;
      u.display_name = std::string("Display ") + name;
      u.cert_pem = "cert";
      auto added = users_->AddUser(u, std::string("correct-horse-") + name);
      ASSERT_TRUE(added.ok()) << added.error().code;
    }
    auth_ = OpenAuth();
  }

  // A second directory object on the same file: another process (the CLI) changing users.
  std::unique_ptr<identity::UserDirectory> OpenUsers() {
    auto users = identity::UserDirectory::Open(users_file_, identity::PasswordCost::Minimal(), env_);
    EXPECT_TRUE(users.ok()) << (users.ok() ? "" : users.error().message);
    return users.ok() ? std::move(users).value() : nullptr;
  }

  std::unique_ptr<AuthService> OpenAuth(AuthConfig config = {}) {
    config.clock = [this] { return now_.load(); };
    auto svc = AuthService::Open(state_dir_, master_, *users_, std::move(config), env_);
    EXPECT_TRUE(svc.ok()) << (svc.ok() ? "" : svc.error().message);
    return svc.ok() ? std::move(svc).value() : nullptr;
  }

  TokenPair LoginOk(const std::string& user, const std::string& address = "192.0.2.10") {
    int64_t retry = 0;
    auto pair = auth_->Login(user, "correct-horse-" + user, address, &retry);
    EXPECT_TRUE(pair.ok()) << user << " " << (pair.ok() ? "" : pair.error().code);
    return pair.ok() ? *pair : TokenPair{};
  }

  // The error code of a sign-in ("ok" when it succeeds), and its Retry-After.
  std::string LoginCode(const std::string& user, const std::string& password, int64_t* retry_after = nullptr,
                        const std::string& address = "192.0.2.10") {
    int64_t retry = 0;
    auto pair = auth_->Login(user, password, address, &retry);
    if (retry_after != nullptr) *retry_after = retry;
    return pair.ok() ? "ok" : pair.error().code;
  }

  std::string AuthCode(const std::string& access) {
    auto p = auth_->Authenticate(access);
    return p.ok() ? "ok" : p.error().code;
  }

  medledger::testing::MemEnv mem_env_;
  io::Env* env_ = &mem_env_;
  std::string users_file_ = kUsers;
  std::string state_dir_ = kState;
  identity::MasterKey master_ = identity::MasterKey::FromBytes(std::string(32, 'k'));
  std::unique_ptr<identity::UserDirectory> users_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<AuthService> auth_;
};

// The one test on the real disk: a second process's change is noticed by the file's stamp (inode, size, mtime),
// which UserDirectory reads with stat(2), outside io::Env, so a MemEnv cannot show it.
class AuthServiceOnDiskTest : public AuthServiceTest {
 protected:
  AuthServiceOnDiskTest() {
    env_ = io::Env::Default();
    users_file_ = (dir_.path() / "users.json").string();
    state_dir_ = (dir_.path() / "server").string();
  }
  medledger::testing::TempDir dir_;
};

TEST_F(AuthServiceOnDiskTest, PasswordChangeEndsAccessAndRefreshTokens) {
  TokenPair alice = LoginOk("alice");
  TokenPair bob = LoginOk("bob");
  ASSERT_EQ(AuthCode(alice.access_token), "ok");
  ASSERT_EQ(AuthCode(alice.access_token), "ok");  // now from the verified-token cache

  // Another process (the CLI) changes the password: a second directory object on the same file.
  auto cli = OpenUsers();
  ASSERT_TRUE(cli->SetPassword("alice", "correct-horse-alice-2").ok());

  EXPECT_EQ(AuthCode(alice.access_token), "token_revoked");
  EXPECT_EQ(auth_->Refresh(alice.refresh_token).error().code, "refresh_token_invalid");
  // Bob's sessions are not touched.
  EXPECT_EQ(AuthCode(bob.access_token), "ok");
  EXPECT_TRUE(auth_->Refresh(bob.refresh_token).ok());
  // A new sign-in with the new password works.
  int64_t retry = 0;
  auto again = auth_->Login("alice", "correct-horse-alice-2", "192.0.2.10", &retry);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(AuthCode(again->access_token), "ok");
}

TEST_F(AuthServiceTest, DisableAndEnableEndSessions) {
  TokenPair alice = LoginOk("alice");
  ASSERT_TRUE(users_->SetDisabled("alice", true).ok());
  ASSERT_TRUE(users_->SetDisabled("alice", false).ok());
  // Re-enabling does not bring back the sessions that were live before the disable.
  EXPECT_EQ(AuthCode(alice.access_token), "token_revoked");
  EXPECT_FALSE(auth_->Refresh(alice.refresh_token).ok());

  TokenPair later = LoginOk("alice");
  ASSERT_TRUE(users_->EndSessions("alice").ok());
  EXPECT_EQ(AuthCode(later.access_token), "token_revoked");
}

TEST_F(AuthServiceTest, RotationStopsAtTheAbsoluteLifetime) {
  AuthConfig config;
  config.access_ttl_seconds = 900;
  config.refresh_ttl_seconds = 3600;
  config.session_lifetime_seconds = 12 * 3600;
  auth_.reset();
  auth_ = OpenAuth(config);
  TokenPair pair = LoginOk("alice");
  int rotations = 0;
  for (;;) {
    now_ += 600;  // a client refreshing every 10 minutes, forever
    auto next = auth_->Refresh(pair.refresh_token);
    if (!next.ok()) {
      EXPECT_EQ(next.error().code, "refresh_token_invalid");
      break;
    }
    // Access tokens never outlive the session either.
    EXPECT_LE(now_.load() + next->expires_in, kStart + 12 * 3600);
    pair = *next;
    ++rotations;
    ASSERT_LT(rotations, 1000);
  }
  EXPECT_GE(now_.load(), kStart + 12 * 3600);
  EXPECT_EQ(rotations, 12 * 6 - 1);  // the last refresh lands exactly on the session's end
}

TEST_F(AuthServiceTest, IdleRefreshTokenLapses) {
  TokenPair pair = LoginOk("alice");
  now_ += auth_->config().refresh_ttl_seconds + 1;
  EXPECT_FALSE(auth_->Refresh(pair.refresh_token).ok());
}

TEST_F(AuthServiceTest, ReuseOfSpentRefreshTokenEndsTheWholeSession) {
  TokenPair first = LoginOk("alice");
  TokenPair other_session = LoginOk("alice");
  auto second = auth_->Refresh(first.refresh_token);
  ASSERT_TRUE(second.ok());
  auto third = auth_->Refresh(second->refresh_token);
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(AuthCode(third->access_token), "ok");

  // The first token again (a thief replaying it, or the victim after the thief used it).
  EXPECT_EQ(auth_->Refresh(first.refresh_token).error().code, "refresh_token_invalid");
  // The newest refresh token and every access token of the session are dead.
  EXPECT_EQ(auth_->Refresh(third->refresh_token).error().code, "refresh_token_invalid");
  EXPECT_EQ(AuthCode(third->access_token), "token_revoked");
  EXPECT_EQ(AuthCode(second->access_token), "token_revoked");
  EXPECT_EQ(AuthCode(first.access_token), "token_revoked");
  // Another session of the same user is not affected.
  EXPECT_EQ(AuthCode(other_session.access_token), "ok");
  EXPECT_TRUE(auth_->Refresh(other_session.refresh_token).ok());
}

TEST_F(AuthServiceTest, ForgedTokenWithARealSessionIdEndsNothing) {
  TokenPair pair = LoginOk("alice");
  std::string sid = pair.refresh_token.substr(0, pair.refresh_token.find('.'));
  EXPECT_FALSE(auth_->Refresh(sid + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").ok());
  EXPECT_FALSE(auth_->Refresh(sid).ok());
  EXPECT_EQ(AuthCode(pair.access_token), "ok");
  EXPECT_TRUE(auth_->Refresh(pair.refresh_token).ok());
}

TEST_F(AuthServiceTest, LogoutKillsTheAccessTokenAtOnceAndSurvivesRestart) {
  TokenPair pair = LoginOk("alice");
  TokenPair other = LoginOk("alice");
  auto caller = auth_->Authenticate(pair.access_token);
  ASSERT_TRUE(caller.ok());
  EXPECT_FALSE(caller->session_id.empty());
  ASSERT_TRUE(auth_->Logout(*caller, pair.refresh_token).ok());
  EXPECT_EQ(AuthCode(pair.access_token), "token_revoked");
  EXPECT_FALSE(auth_->Refresh(pair.refresh_token).ok());
  EXPECT_EQ(AuthCode(other.access_token), "ok");
  EXPECT_EQ(auth_->revoked_token_count(), 1u);

  // A restart does not resurrect what logout ended.
  auth_.reset();
  auth_ = OpenAuth();
  EXPECT_EQ(AuthCode(pair.access_token), "token_revoked");
  EXPECT_FALSE(auth_->Refresh(pair.refresh_token).ok());
  EXPECT_EQ(AuthCode(other.access_token), "ok");
  EXPECT_TRUE(auth_->Refresh(other.refresh_token).ok());

  // The revocation is forgotten once the token has expired (and it stays refused: it expired).
  now_ += auth_->config().access_ttl_seconds + 120;
  TokenPair fresh = LoginOk("bob");
  EXPECT_EQ(auth_->revoked_token_count(), 0u);
  EXPECT_EQ(AuthCode(pair.access_token), "token_expired");
  EXPECT_EQ(AuthCode(fresh.access_token), "ok");
}

TEST_F(AuthServiceTest, LogoutWithoutRefreshTokenEndsTheBearersSession) {
  TokenPair pair = LoginOk("alice");
  auto caller = auth_->Authenticate(pair.access_token);
  ASSERT_TRUE(caller.ok());
  ASSERT_TRUE(auth_->Logout(*caller, "").ok());
  EXPECT_FALSE(auth_->Refresh(pair.refresh_token).ok());
  EXPECT_EQ(AuthCode(pair.access_token), "token_revoked");
}

TEST_F(AuthServiceTest, SessionsPerUserAreBounded) {
  AuthConfig config;
  config.max_sessions_per_user = 3;
  auth_.reset();
  auth_ = OpenAuth(config);
  std::vector<TokenPair> pairs;
  for (int i = 0; i < 5; ++i) {
    now_ += 1;
    pairs.push_back(LoginOk("alice"));
  }
  EXPECT_EQ(auth_->session_count(), 3u);
  EXPECT_EQ(AuthCode(pairs[0].access_token), "token_revoked");
  EXPECT_EQ(AuthCode(pairs[4].access_token), "ok");
}

TEST_F(AuthServiceTest, AttackerAtAnotherAddressCannotLockAliceOut) {
  int64_t retry = 0;
  int refused = 0;
  for (int i = 0; i < 50; ++i) {
    auto r = auth_->Login("alice", "guess-" + std::to_string(i), "203.0.113.66", &retry);
    ASSERT_FALSE(r.ok());
    if (r.error().code == "too_many_attempts") ++refused;
  }
  EXPECT_GT(refused, 40);  // the attacker's own address is in backoff
  // Alice, from her own address, signs in at once.
  int64_t alice_retry = 0;
  auto alice = auth_->Login("alice", "correct-horse-alice", "192.0.2.10", &alice_retry);
  ASSERT_TRUE(alice.ok()) << alice.error().code;
  EXPECT_EQ(alice_retry, 0);
}

TEST_F(AuthServiceTest, LoginIssuesTokensThatNameTheUserAndItsSession) {
  TokenPair pair = LoginOk("alice");
  EXPECT_EQ(pair.expires_in, 900);
  EXPECT_EQ(pair.user.username, "alice");
  auto who = auth_->Authenticate(pair.access_token);
  ASSERT_TRUE(who.ok()) << who.error().code;
  EXPECT_EQ(who->username, "alice");
  EXPECT_EQ(who->role, identity::Role::kPatient);
  EXPECT_EQ(who->display_name, "Display alice");
  EXPECT_EQ(who->token_expires_at, kStart + 900);
  EXPECT_FALSE(who->token_id.empty());
  // The refresh token's first part is the session id the access token names.
  EXPECT_EQ(who->session_id, pair.refresh_token.substr(0, pair.refresh_token.find('.')));
  EXPECT_EQ(auth_->session_count(), 1u);
  // The session is on the Env, not anywhere else.
  std::string stored;
  ASSERT_TRUE(mem_env_.Contents(std::string(kState) + "/refresh-tokens.json", &stored));
  EXPECT_NE(stored.find(who->session_id), std::string::npos);
  EXPECT_TRUE(mem_env_.Contents(std::string(kState) + "/jwt-signing-key.sealed", &stored));
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownUserFailAlikeAndStartNothing) {
  int64_t retry = -1;
  EXPECT_EQ(LoginCode("alice", "correct-horse-bob", &retry), "invalid_credentials");
  EXPECT_EQ(retry, 0);
  EXPECT_EQ(LoginCode("mallory", "correct-horse-alice", &retry), "invalid_credentials");
  EXPECT_EQ(LoginCode("alice", "", &retry), "invalid_credentials");
  int64_t unused = 0;
  auto failed = auth_->Login("alice", "nope", "192.0.2.10", &unused);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kUnauthenticated);
  EXPECT_EQ(auth_->session_count(), 0u);
  // A disabled account's right password is refused too.
  ASSERT_TRUE(users_->SetDisabled("bob", true).ok());
  EXPECT_NE(LoginCode("bob", "correct-horse-bob"), "ok");
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthServiceTest, ThrottleBacksOffAfterTheFreeFailuresAndTheClockLiftsIt) {
  AuthConfig config;
  config.login_throttle.free_failures = 3;
  config.login_throttle.first_backoff = std::chrono::seconds(2);
  config.login_throttle.forget_after = std::chrono::seconds(3600);
  auth_.reset();
  auth_ = OpenAuth(config);

  int64_t retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(LoginCode("alice", "guess", &retry), "invalid_credentials") << i;
  // The third failure set a 2 s wait: even the right password is refused until it has passed.
  EXPECT_EQ(LoginCode("alice", "correct-horse-alice", &retry), "too_many_attempts");
  EXPECT_EQ(retry, 2);
  now_ += 1;
  EXPECT_EQ(LoginCode("alice", "guess", &retry), "too_many_attempts");
  EXPECT_EQ(retry, 1);
  // Each further failure doubles the wait.
  now_ += 1;
  EXPECT_EQ(LoginCode("alice", "guess", &retry), "invalid_credentials");
  EXPECT_EQ(LoginCode("alice", "guess", &retry), "too_many_attempts");
  EXPECT_EQ(retry, 4);
  // Another user at the same address is not held up by alice's failures.
  EXPECT_EQ(LoginCode("bob", "correct-horse-bob", &retry), "ok");

  // Waited out, the right password signs in, and the success clears the count: three free failures again.
  now_ += 4;
  EXPECT_EQ(LoginCode("alice", "correct-horse-alice", &retry), "ok");
  EXPECT_EQ(retry, 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(LoginCode("alice", "guess", &retry), "invalid_credentials") << i;
  EXPECT_EQ(LoginCode("alice", "guess", &retry), "too_many_attempts");

  // An hour with no failure forgets them all, without any success.
  now_ += 3600;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(LoginCode("alice", "guess", &retry), "invalid_credentials") << i;
  EXPECT_EQ(LoginCode("alice", "guess", &retry), "too_many_attempts");
  EXPECT_EQ(retry, 2);
}

TEST_F(AuthServiceTest, AccessTokenExpiresOnTheClockEvenFromTheCache) {
  TokenPair pair = LoginOk("alice");
  ASSERT_EQ(AuthCode(pair.access_token), "ok");  // verified once: now in the verified-token cache
  // exp is login + 900 s; the verifier allows 30 s of clock skew past it, and not one second more.
  now_ = kStart + 900 + 29;
  EXPECT_EQ(AuthCode(pair.access_token), "ok");
  now_ = kStart + 900 + 30;
  EXPECT_EQ(AuthCode(pair.access_token), "token_expired");
  // The session outlives its access token: a refresh gives a fresh one, valid from now.
  auto next = auth_->Refresh(pair.refresh_token);
  ASSERT_TRUE(next.ok()) << next.error().code;
  auto who = auth_->Authenticate(next->access_token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->token_expires_at, kStart + 930 + 900);
  // The spent refresh token is not a second way in.
  EXPECT_EQ(auth_->Refresh(pair.refresh_token).error().code, "refresh_token_invalid");
}

TEST_F(AuthServiceTest, LogoutRevokesOnlyTheCallersSessionAndForgetsTheRevocationAfterExpiry) {
  TokenPair alice = LoginOk("alice");
  TokenPair bob = LoginOk("bob");
  ASSERT_EQ(AuthCode(alice.access_token), "ok");  // cached before the logout: the cache must not outvote it
  auto caller = auth_->Authenticate(alice.access_token);
  ASSERT_TRUE(caller.ok());
  ASSERT_TRUE(auth_->Logout(*caller, "").ok());
  EXPECT_EQ(AuthCode(alice.access_token), "token_revoked");
  EXPECT_EQ(auth_->Refresh(alice.refresh_token).error().code, "refresh_token_invalid");
  EXPECT_EQ(AuthCode(bob.access_token), "ok");
  EXPECT_EQ(auth_->session_count(), 1u);
  EXPECT_EQ(auth_->revoked_token_count(), 1u);
}

// A fake OpenID Connect provider: discovery, its JWKS and the token endpoint, as OidcConfig::fetch answers.
class FakeProvider {
 public:
  static constexpr const char* kIssuer = "https://idp.example";
  static constexpr const char* kClient = "medledger-web";

  FakeProvider() : key_(crypto::EcPrivateKey::Generate().value()), kid_(JwkThumbprint(key_.PublicKey())) {}

  OidcConfig Config() {
    OidcConfig c;
    c.issuer = kIssuer;
    c.client_id = kClient;
    c.fetch = [this](const net::HttpCall& call) { return Answer(call); };
    return c;
  }

  // The ID token the next code exchange returns.
  void IssueFor(json claims) { next_claims_ = std::move(claims); }
  json StandardClaims(const std::string& username, const std::string& role, int64_t now) const {
    return {{"iss", kIssuer},   {"aud", kClient},    {"sub", "ext-" + username},       {"iat", now},
            {"exp", now + 300}, {"nonce", "n-0123"}, {"preferred_username", username}, {"role", role}};
  }
  // Signs with a key the JWKS does not publish (under the published kid).
  void SignWithAnotherKey() { signing_key_ = crypto::EcPrivateKey::Generate().value(); }
  int exchanges() const { return exchanges_; }

 private:
  Result<net::HttpReply> Answer(const net::HttpCall& call) {
    const std::string base = kIssuer;
    if (call.url == base + "/.well-known/openid-configuration") {
      return Reply(json{{"issuer", kIssuer},
                        {"authorization_endpoint", base + "/authorize"},
                        {"token_endpoint", base + "/token"},
                        {"jwks_uri", base + "/jwks"}}
                       .dump());
    }
    if (call.url == base + "/jwks") return Reply(R"({"keys":[)" + PublicJwkJson(key_.PublicKey(), kid_) + "]}");
    if (call.url == base + "/token") {
      ++exchanges_;
      std::map<std::string, std::string> form(call.form.begin(), call.form.end());
      if (form["grant_type"] != "authorization_code" || form["code"] != "good-code" || form["client_id"] != kClient ||
          form["code_verifier"].empty()) {
        return net::HttpReply{400, "application/json", R"({"error":"invalid_grant"})"};
      }
      return Reply(json{{"id_token", Sign(next_claims_)}, {"token_type", "Bearer"}}.dump());
    }
    return net::HttpReply{404, "text/plain", "not found"};
  }

  static net::HttpReply Reply(std::string body) { return net::HttpReply{200, "application/json", std::move(body)}; }

  std::string Sign(const json& payload) const {
    const crypto::EcPrivateKey& key = signing_key_ ? *signing_key_ : key_;
    const std::string input = Base64UrlEncode(json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}}.dump()) + "." +
                              Base64UrlEncode(payload.dump());
    auto raw = crypto::DerSignatureToRaw(key.Sign(input).value()).value();
    return input + "." + Base64UrlEncode(raw);
  }

  crypto::EcPrivateKey key_;
  std::string kid_;
  std::optional<crypto::EcPrivateKey> signing_key_;
  json next_claims_;
  int exchanges_ = 0;
};

class AuthServiceOidcTest : public AuthServiceTest {
 protected:
  void SetUp() override {
    AuthServiceTest::SetUp();
    identity::User doctor;
    doctor.username = "dr.who";
    doctor.role = identity::Role::kDoctor;
    doctor.display_name = "Dr Who";
    doctor.cert_pem = "cert";
    ASSERT_TRUE(users_->AddUser(doctor, std::nullopt).ok());
  }

  // The whole external sign-in: code exchange and ID token check, then the session exchange.
  Result<TokenPair> SignIn(OidcProvider& oidc, const std::string& nonce = "n-0123") {
    ML_ASSIGN_OR_RETURN(auto who, oidc.SignIn({"good-code", "verifier", "https://app/cb", nonce}, now_.load()));
    return auth_->LoginExternal(who);
  }

  FakeProvider idp_;
};

TEST_F(AuthServiceOidcTest, AVerifiedIdTokenOfAnEnrolledUserStartsASession) {
  OidcProvider oidc(idp_.Config());
  idp_.IssueFor(idp_.StandardClaims("dr.who", "doctor", now_.load()));
  auto tokens = SignIn(oidc);
  ASSERT_TRUE(tokens.ok()) << tokens.error().code << ": " << tokens.error().message;
  EXPECT_EQ(idp_.exchanges(), 1);
  auto who = auth_->Authenticate(tokens->access_token);
  ASSERT_TRUE(who.ok()) << who.error().code;
  EXPECT_EQ(who->username, "dr.who");
  EXPECT_EQ(who->role, identity::Role::kDoctor);
  // The session is the built-in issuer's own: it refreshes and logs out like a password sign-in.
  EXPECT_TRUE(auth_->Refresh(tokens->refresh_token).ok());
}

TEST_F(AuthServiceOidcTest, RefusesWhatTheProviderDidNotVouchForOrTheOrganisationDidNotEnrol) {
  OidcProvider oidc(idp_.Config());
  // Another browser's sign-in (nonce), an unknown user, a role the organisation did not give.
  idp_.IssueFor(idp_.StandardClaims("dr.who", "doctor", now_.load()));
  EXPECT_EQ(SignIn(oidc, "n-other").error().code, "oidc_nonce_mismatch");
  idp_.IssueFor(idp_.StandardClaims("dr.nobody", "doctor", now_.load()));
  EXPECT_EQ(SignIn(oidc).error().code, "oidc_user_unknown");
  idp_.IssueFor(idp_.StandardClaims("dr.who", "admin", now_.load()));
  EXPECT_EQ(SignIn(oidc).error().code, "oidc_role_mismatch");
  // Expired at the provider's clock as at ours, for another audience, from another issuer.
  json expired = idp_.StandardClaims("dr.who", "doctor", now_.load() - 1000);
  idp_.IssueFor(expired);
  EXPECT_EQ(SignIn(oidc).error().code, "oidc_token_invalid");
  json other_aud = idp_.StandardClaims("dr.who", "doctor", now_.load());
  other_aud["aud"] = "someone-else";
  idp_.IssueFor(other_aud);
  EXPECT_EQ(SignIn(oidc).error().code, "oidc_token_invalid");
  json other_iss = idp_.StandardClaims("dr.who", "doctor", now_.load());
  other_iss["iss"] = "https://evil.example";
  idp_.IssueFor(other_iss);
  EXPECT_EQ(SignIn(oidc).error().code, "oidc_token_invalid");
  // A disabled account: the provider's word does not re-enable it.
  ASSERT_TRUE(users_->SetDisabled("dr.who", true).ok());
  idp_.IssueFor(idp_.StandardClaims("dr.who", "doctor", now_.load()));
  EXPECT_EQ(SignIn(oidc).error().code, "user_disabled");
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthServiceOidcTest, AnIdTokenNotSignedByAPublishedKeyIsRefused) {
  OidcProvider oidc(idp_.Config());
  idp_.SignWithAnotherKey();
  idp_.IssueFor(idp_.StandardClaims("dr.who", "doctor", now_.load()));
  auto refused = SignIn(oidc);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "oidc_token_invalid");
  EXPECT_EQ(auth_->session_count(), 0u);
}

}  // namespace
}  // namespace medledger::auth
