// Sessions against the real server: a password change made by a separate `medledger user passwd` process
// ends the sessions the running server issued; logout kills the access token at once; reusing a spent
// refresh token ends its session.
#include <gtest/gtest.h>

#include <fstream>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

struct Tokens {
  std::string access;
  std::string refresh;
};

Tokens LoginPair(const ServerProcess& server, const std::string& user, const std::string& password) {
  auto r = server.PostJson("/api/v1/auth/login", json{{"username", user}, {"password", password}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  json j = ParseBody(r);
  return {j.value("accessToken", ""), j.value("refreshToken", "")};
}

HttpResult RefreshWith(const ServerProcess& server, const std::string& refresh) {
  return server.PostJson("/api/v1/auth/refresh", json{{"refreshToken", refresh}}.dump());
}

TEST(ServerSessionsTest, PasswdFromTheCliEndsSessionsOnTheRunningServer) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  Tokens alice = LoginPair(server, "alice", server.Password("alice"));
  Tokens bob = LoginPair(server, "bob", server.Password("bob"));
  ASSERT_EQ(server.Get("/api/v1/me", alice.access).status, 200);
  ASSERT_EQ(server.Get("/api/v1/me", alice.access).status, 200);  // the verified-token cache holds it now

  const std::string pw_file = server.data_dir() + "/alice-new-password";
  std::ofstream(pw_file) << "a-brand-new-passphrase-42\n";
  auto passwd = RunMedledger("user passwd --data '" + server.data_dir() + "/data' --name alice --password-file '" +
                             pw_file + "'");
  ASSERT_EQ(passwd.exit_code, 0) << passwd.output;

  auto me = server.Get("/api/v1/me", alice.access);
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(ProblemCode(me), "token_revoked");
  auto refreshed = RefreshWith(server, alice.refresh);
  EXPECT_EQ(refreshed.status, 401);
  EXPECT_EQ(ProblemCode(refreshed), "refresh_token_invalid");
  // Only alice's sessions ended.
  EXPECT_EQ(server.Get("/api/v1/me", bob.access).status, 200);
  // The old password is refused, the new one works.
  auto old_pw =
      server.PostJson("/api/v1/auth/login", json{{"username", "alice"}, {"password", server.Password("alice")}}.dump());
  EXPECT_EQ(old_pw.status, 401);
  Tokens again = LoginPair(server, "alice", "a-brand-new-passphrase-42");
  EXPECT_EQ(server.Get("/api/v1/me", again.access).status, 200);

  // `user disable` from the CLI ends them as well, and `enable` does not bring them back.
  ASSERT_EQ(RunMedledger("user disable --data '" + server.data_dir() + "/data' --name alice").exit_code, 0);
  ASSERT_EQ(RunMedledger("user enable --data '" + server.data_dir() + "/data' --name alice").exit_code, 0);
  EXPECT_EQ(server.Get("/api/v1/me", again.access).status, 401);
  EXPECT_EQ(RefreshWith(server, again.refresh).status, 401);
}

TEST(ServerSessionsTest, LogoutRevokesTheAccessTokenAtOnceAndAcrossRestart) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  Tokens bob = LoginPair(server, "bob", server.Password("bob"));
  Tokens other = LoginPair(server, "bob", server.Password("bob"));
  ASSERT_EQ(server.Get("/api/v1/me", bob.access).status, 200);
  auto out = server.PostJson("/api/v1/auth/logout", json{{"refreshToken", bob.refresh}}.dump(), bob.access);
  ASSERT_EQ(out.status, 204) << out.body;
  auto me = server.Get("/api/v1/me", bob.access);
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(ProblemCode(me), "token_revoked");
  EXPECT_EQ(RefreshWith(server, bob.refresh).status, 401);
  EXPECT_EQ(server.Get("/api/v1/me", other.access).status, 200);

  // Logout with an empty body ends the bearer's own session.
  ASSERT_EQ(server.PostJson("/api/v1/auth/logout", "", other.access).status, 204);
  EXPECT_EQ(server.Get("/api/v1/me", other.access).status, 401);
  EXPECT_EQ(RefreshWith(server, other.refresh).status, 401);
}

TEST(ServerSessionsTest, ReusingASpentRefreshTokenEndsTheSession) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  Tokens first = LoginPair(server, "alice", server.Password("alice"));
  auto rotated = RefreshWith(server, first.refresh);
  ASSERT_EQ(rotated.status, 200);
  Tokens second{ParseBody(rotated).value("accessToken", ""), ParseBody(rotated).value("refreshToken", "")};
  ASSERT_EQ(server.Get("/api/v1/me", second.access).status, 200);
  EXPECT_EQ(RefreshWith(server, first.refresh).status, 401);  // the replay
  EXPECT_EQ(server.Get("/api/v1/me", second.access).status, 401);
  EXPECT_EQ(RefreshWith(server, second.refresh).status, 401);
}

TEST(ServerSessionsTest, AttackerAtAnotherAddressCannotLockOutAlice) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string url = server.base_url() + "/api/v1/auth/login";
  const std::vector<std::string> headers = {"Content-Type: application/json"};
  auto attempt = [&](const std::string& password, const std::string& from) {
    return FetchUrl("POST", url, json{{"username", "alice"}, {"password", password}}.dump(), headers, from);
  };
  // The attacker hammers alice's account from 127.0.0.2 until it is refused, and keeps going.
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = attempt("wrong-password", "127.0.0.2");
    ASSERT_TRUE(r.status == 401 || r.status == 429) << r.status << " " << r.body;
    if (r.status == 429) {
      ++refused;
      EXPECT_GE(std::atoi(r.Header("retry-after").c_str()), 1);
    }
  }
  EXPECT_GE(refused, 15);
  // Alice, from her own address, signs in at once.
  auto alice = attempt(server.Password("alice"), "127.0.0.1");
  EXPECT_EQ(alice.status, 200) << alice.body;
}

}  // namespace
}  // namespace medledger::testing
