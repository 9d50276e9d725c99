// Sign-in with an external OpenID Connect provider: a real oidc-provider (tests/peers/oidc_provider.mjs) on
// 127.0.0.1 and the real `medledger serve --oidc-issuer ...`. The authorization-code + PKCE flow runs through
// the provider's own login and consent endpoints; the server redeems the code, verifies the ID token and maps
// its role claim. Skipped (with the reason) when Node.js or tests/peers' oidc-provider is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.h"
#include "source_dir.h"

extern char** environ;

namespace medledger::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kClientId = "medledger-web";
constexpr const char* kRedirectUri = "http://127.0.0.1:1/oidc/callback";  // never contacted: the test plays the browser
// A PKCE pair (RFC 7636 S256): challenge = base64url(SHA-256(verifier)).
constexpr const char* kVerifier = "dBjftJeZ4CVP-mJ92K9DFxBsYBOhbrOmwY7rLVx1TC8";
constexpr const char* kChallenge = "1CtNaefq3KB3RCNAM0r5vgo96xTH9z9ODQPlnTZzJK0";

std::string FindNode() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// The provider process: stdin is a pipe it watches, so it exits with the test even if the test crashes.
class OidcProviderProcess {
 public:
  OidcProviderProcess(const std::string& node, const std::string& script, const std::string& accounts,
                      const std::string& alg = "ES256") {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    std::vector<std::string> args = {node,         script,   "--client-id",   kClientId, "--redirect-uri", kRedirectUri,
                                     "--accounts", accounts, "--ttl-seconds", "300",     "--alg",          alg};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::string dir = std::filesystem::path(script).parent_path().string();
    posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
    if (posix_spawn(&pid_, node.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    // Kept open until Stop: a closed pipe would fail the provider's next write to stdout.
    stdout_ = ::fdopen(out[0], "r");
    char line[512];
    if (pid_ > 0 && stdout_ != nullptr && std::fgets(line, sizeof line, stdout_) != nullptr) {
      std::string s(line);
      if (s.rfind("READY ", 0) == 0) issuer_ = s.substr(6, s.find_last_not_of("\r\n") - 5);
    }
  }
  ~OidcProviderProcess() { Stop(); }
  void Stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
    stdout_ = nullptr;
  }
  const std::string& issuer() const { return issuer_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  FILE* stdout_ = nullptr;
  std::string issuer_;
};

class ServerOidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = FindNode();
    script_ = std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers/oidc_provider.mjs";
    if (node_.empty()) GTEST_SKIP() << "Node.js is not installed";
    if (!std::filesystem::exists(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers/node_modules/oidc-provider")) {
      GTEST_SKIP() << "tests/peers/node_modules/oidc-provider is missing (scripts/setup.sh installs it)";
    }
  }

  // Plays the browser at the provider for `login`; returns the code from the final redirect ("" if none).
  static std::string Authorize(const std::string& issuer, const std::string& authorization_endpoint,
                               const std::string& login, const std::string& nonce) {
    std::string url = authorization_endpoint + "?client_id=" + kClientId +
                      "&response_type=code&scope=openid%20profile&redirect_uri=" + UrlEncode(kRedirectUri) +
                      "&state=st-" + login + "&nonce=" + nonce + "&code_challenge=" + kChallenge +
                      "&code_challenge_method=S256";
    auto r = FetchUrl("GET", issuer + "/__test/authorize?login=" + UrlEncode(login) + "&url=" + UrlEncode(url));
    EXPECT_EQ(r.status, 200) << r.body;
    auto at = r.body.find("code=");
    if (at == std::string::npos) return "";
    EXPECT_NE(r.body.find("state=st-" + login), std::string::npos) << "the state must come back unchanged";
    return r.body.substr(at + 5, r.body.find('&', at) - at - 5);
  }

  static HttpResult Redeem(const ServerProcess& server, const std::string& code, const std::string& nonce,
                           const std::string& verifier = kVerifier) {
    json body = {{"code", code}, {"codeVerifier", verifier}, {"redirectUri", kRedirectUri}, {"nonce", nonce}};
    return server.PostJson("/api/v1/auth/oidc/token", body.dump());
  }

  std::string node_, script_;
};

TEST_F(ServerOidcTest, CodeFlowWithPkceMapsEnrolledUsersAndRefusesTheRest) {
  json accounts = {{"dr.house", {{"role", "physician"}}},
                   {"alice", {{"role", "physician"}}},     // enrolled as a patient: the roles disagree
                   {"mallory", {{"role", "physician"}}},   // not enrolled at all
                   {"nurse.joy", {{"role", "janitor"}}}};  // a role the map does not know
  OidcProviderProcess provider(node_, script_, accounts.dump());
  ASSERT_FALSE(provider.issuer().empty()) << "oidc-provider did not start";
  ServerProcess server({"--oidc-issuer", provider.issuer(), "--oidc-client-id", kClientId, "--oidc-role-claim",
                        "medledger_role", "--oidc-role-map", "physician=doctor,member=patient"});
  ASSERT_TRUE(server.ok()) << "the server did not start";

  // The web app learns where to send the browser.
  json config = ParseBody(server.Get("/api/v1/auth/config"));
  ASSERT_TRUE(config.contains("oidc")) << config.dump();
  EXPECT_EQ(config["oidc"].value("issuer", ""), provider.issuer());
  EXPECT_EQ(config["oidc"].value("clientId", ""), kClientId);
  const std::string authz = config["oidc"].value("authorizationEndpoint", "");
  ASSERT_EQ(authz.rfind(provider.issuer(), 0), 0u) << authz;

  // A mapped, enrolled user gets a medledger session and works within the enrolled role.
  std::string code = Authorize(provider.issuer(), authz, "dr.house", "nonce-1");
  ASSERT_FALSE(code.empty());
  auto signed_in = Redeem(server, code, "nonce-1");
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  json session = ParseBody(signed_in);
  EXPECT_EQ(session["user"].value("username", ""), "dr.house");
  EXPECT_EQ(session["user"].value("role", ""), "doctor");
  const std::string token = session.value("accessToken", "");
  EXPECT_EQ(ParseBody(server.Get("/api/v1/me", token)).value("username", ""), "dr.house");
  EXPECT_EQ(server.Get("/api/v1/audit/events", token).status, 403) << "a doctor is not an auditor";
  EXPECT_FALSE(session.value("refreshToken", "").empty());

  // The same code twice: the provider refuses the replay.
  auto replay = Redeem(server, code, "nonce-1");
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(ProblemCode(replay), "oidc_exchange_failed");
  // A nonce other than the one this browser sent.
  auto wrong_nonce = Redeem(server, Authorize(provider.issuer(), authz, "dr.house", "nonce-2"), "nonce-other");
  EXPECT_EQ(wrong_nonce.status, 401);
  EXPECT_EQ(ProblemCode(wrong_nonce), "oidc_nonce_mismatch");
  // A stolen code without its PKCE verifier.
  auto wrong_verifier = Redeem(server, Authorize(provider.issuer(), authz, "dr.house", "nonce-3"), "nonce-3",
                               "x" + std::string(kVerifier).substr(1));
  EXPECT_EQ(wrong_verifier.status, 401);
  EXPECT_EQ(ProblemCode(wrong_verifier), "oidc_exchange_failed");
  // Identity and role must match the organisation's enrollment.
  const std::vector<std::pair<std::string, std::pair<int, std::string>>> refused = {
      {"alice", {403, "oidc_role_mismatch"}},
      {"mallory", {403, "oidc_user_unknown"}},
      {"nurse.joy", {403, "oidc_role_unmapped"}},
  };
  for (const auto& [login, expected] : refused) {
    auto r = Redeem(server, Authorize(provider.issuer(), authz, login, "n-" + login), "n-" + login);
    EXPECT_EQ(r.status, expected.first) << login << ": " << r.body;
    EXPECT_EQ(ProblemCode(r), expected.second) << login;
    EXPECT_EQ(r.body.find("accessToken"), std::string::npos) << login;
  }
  // Missing fields are precise, and nothing in the body can name the user.
  auto missing = server.PostJson("/api/v1/auth/oidc/token", json{{"code", "x"}, {"username", "admin"}}.dump());
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ProblemCode(missing), "missing_field");

  // Provider down: sign-in answers 503, password sign-in still works.
  provider.Stop();
  auto down = Redeem(server, "any-code", "n");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(ProblemCode(down), "oidc_unavailable");
  EXPECT_FALSE(server.Login("admin").empty());
}

// Most providers sign ID tokens with RSA (RS256 is OpenID Connect's default; PS256 the PSS variant).
TEST_F(ServerOidcTest, RsaSignedIdTokensAreAccepted) {
  json accounts = {{"dr.house", {{"role", "physician"}}}};
  for (const std::string alg : {"RS256", "PS256"}) {
    SCOPED_TRACE(alg);
    OidcProviderProcess provider(node_, script_, accounts.dump(), alg);
    ASSERT_FALSE(provider.issuer().empty()) << "oidc-provider did not start";
    ServerProcess server({"--oidc-issuer", provider.issuer(), "--oidc-client-id", kClientId, "--oidc-role-claim",
                          "medledger_role", "--oidc-role-map", "physician=doctor"});
    ASSERT_TRUE(server.ok()) << "the server did not start";
    const std::string authz = ParseBody(server.Get("/api/v1/auth/config"))["oidc"].value("authorizationEndpoint", "");
    auto signed_in = Redeem(server, Authorize(provider.issuer(), authz, "dr.house", "n-" + alg), "n-" + alg);
    ASSERT_EQ(signed_in.status, 200) << signed_in.body;
    const std::string token = ParseBody(signed_in).value("accessToken", "");
    EXPECT_EQ(ParseBody(server.Get("/api/v1/me", token)).value("role", ""), "doctor");
  }
}

TEST(ServerOidcConfigTest, WithoutAProviderTheRouteSaysSo) {
  ServerProcess server;
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server.Get("/api/v1/auth/config").body, "{}");
  auto r =
      server.PostJson("/api/v1/auth/oidc/token", R"({"code":"c","codeVerifier":"v","redirectUri":"r","nonce":"n"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ProblemCode(r), "oidc_not_configured");
}

}  // namespace
}  // namespace medledger::testing
