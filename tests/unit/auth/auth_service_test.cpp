// Sessions of the built-in issuer: epochs (password change, disable), the absolute lifetime, family
// revocation on refresh-token reuse, logout, and the login throttle as the AuthService applies it.
#include "auth/auth_service.h"

#include <gtest/gtest.h>

#include <atomic>

#include "temp_dir.h"

namespace medledger::auth {
namespace {

using medledger::testing::TempDir;

constexpr int64_t kStart = 1'800'000'000;

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    users_ = identity::UserDirectory::Open(dir_.path() / "users.json", identity::PasswordCost::Minimal()).value();
    for (const char* name : {"alice", "bob"}) {
      identity::User u;
      u.username = name;
      u.role = identity::Role::kPatient;
      u.display_name = name;
      u.cert_pem = "cert";
      auto added = users_->AddUser(u, std::string("correct-horse-") + name);
      ASSERT_TRUE(added.ok()) << added.error().code;
    }
    auth_ = OpenAuth();
  }

  std::unique_ptr<AuthService> OpenAuth(AuthConfig config = {}) {
    config.clock = [this] { return now_.load(); };
    auto svc = AuthService::Open(dir_.path() / "server", master_, *users_, std::move(config));
    EXPECT_TRUE(svc.ok()) << (svc.ok() ? "" : svc.error().message);
    return svc.ok() ? std::move(svc).value() : nullptr;
  }

  TokenPair LoginOk(const std::string& user, const std::string& address = "192.0.2.10") {
    int64_t retry = 0;
    auto pair = auth_->Login(user, "correct-horse-" + user, address, &retry);
    EXPECT_TRUE(pair.ok()) << user << " " << (pair.ok() ? "" : pair.error().code);
    return pair.ok() ? *pair : TokenPair{};
  }

  std::string AuthCode(const std::string& access) {
    auto p = auth_->Authenticate(access);
    return p.ok() ? "ok" : p.error().code;
  }

  TempDir dir_;
  identity::MasterKey master_ = identity::MasterKey::FromBytes(std::string(32, 'k'));
  std::unique_ptr<identity::UserDirectory> users_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<AuthService> auth_;
};

TEST_F(AuthServiceTest, PasswordChangeEndsAccessAndRefreshTokens) {
  TokenPair alice = LoginOk("alice");
  TokenPair bob = LoginOk("bob");
  ASSERT_EQ(AuthCode(alice.access_token), "ok");
  ASSERT_EQ(AuthCode(alice.access_token), "ok");  // now from the verified-token cache

  // Another process (the CLI) changes the password: a second directory object on the same file.
  auto cli = identity::UserDirectory::Open(dir_.path() / "users.json", identity::PasswordCost::Minimal()).value();
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

}  // namespace
}  // namespace medledger::auth
