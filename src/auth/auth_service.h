// Sign-in for the built-in identity provider: password login (Argon2id via the user directory), ES256
// access tokens (15 min), rotating refresh tokens stored only as hashes, logout, login throttling, and
// access-token authentication for every API call (built-in or external OIDC issuer).
//
// Sessions. A login starts a session (a refresh-token family, id "sid") that lives at most
// session_lifetime_seconds from the login, however often it is refreshed. Each refresh spends the presented
// token and issues the next; presenting a spent one again means two parties hold the chain (RFC 6819
// 5.2.2.3, OAuth 2.0 Security BCP 4.14), so the whole session ends, the newest token with it. Access
// tokens name their session and the user's session epoch (identity::User::token_generation), and
// Authenticate refuses, on every request, tokens whose session has ended, whose epoch is older than the
// user's (password change, disable, enable, end-sessions), or which were presented at logout.
#pragma once

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "auth/oidc.h"
#include "auth/principal.h"
#include "auth/rate_limiter.h"
#include "auth/verified_token_cache.h"
#include "common/result.h"
#include "identity/master_key.h"
#include "identity/user_directory.h"
#include "io/env.h"

namespace medledger::auth {

struct AuthConfig {
  std::string issuer = "http://127.0.0.1:8080";
  std::string audience = "medledger-api";
  int64_t access_ttl_seconds = 15 * 60;
  // A refresh token unused this long lapses (idle timeout).
  int64_t refresh_ttl_seconds = 12 * 3600;
  // Absolute: a session ends this long after its login; rotation never extends it.
  int64_t session_lifetime_seconds = 12 * 3600;
  LoginThrottleConfig login_throttle;
  // Bounds on what sign-ins can grow. Past them the oldest session (of the user, or of all) ends.
  size_t max_sessions_per_user = 32;
  size_t max_sessions = 100000;
  size_t max_revoked_tokens = 100000;
  // Seconds since the epoch; tests set it to move time (tokens, sessions and the login throttle's waits).
  // Empty: the system clock, and the steady clock for the throttle.
  std::function<int64_t()> clock;
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;
  identity::User user;
};

class AuthService {
 public:
  // `state_dir` (DATA/server) holds the sealed signing key and the refresh-token hashes, written and read
  // through `env` (null: io::Env::Default()), which must outlive the service.
  static Result<std::unique_ptr<AuthService>> Open(const std::filesystem::path& state_dir,
                                                   const identity::MasterKey& master_key,
                                                   identity::UserDirectory& users, AuthConfig config,
                                                   io::Env* env = nullptr);
  ~AuthService();

  // "invalid_credentials" (401), "too_many_attempts" (429, *retry_after set).
  Result<TokenPair> Login(std::string_view username, std::string_view password, std::string_view remote_address,
                          int64_t* retry_after);
  // Sessions for a user the external provider vouched for (see oidc.h): "oidc_user_unknown" (403),
  // "oidc_role_mismatch" (403), "user_disabled" (401).
  Result<TokenPair> LoginExternal(const ExternalIdentity& who);
  // Rotates: the presented token is spent. Presenting a spent token again ends its whole session
  // ("refresh_token_invalid", as for unknown, expired and revoked tokens).
  Result<TokenPair> Refresh(std::string_view refresh_token);
  // Ends the caller's session and revokes the very access token the caller presented; `refresh_token`,
  // when given, ends its session too (a client holding tokens of two sessions).
  Status Logout(const Principal& caller, std::string_view refresh_token);

  // The caller behind an access token. "token_invalid" / "token_expired" / "user_disabled" /
  // "token_revoked" (401).
  Result<Principal> Authenticate(std::string_view access_token) const;

  // For tests: how many sessions are live and how many revoked access tokens are remembered.
  size_t session_count() const;
  size_t revoked_token_count() const;

  // Resolves a patient's own record id from their username (the patient directory answers).
  void SetPatientResolver(std::function<std::optional<std::string>(std::string_view)> resolver);

  const JwtSigner& signer() const { return signer_; }
  const AuthConfig& config() const { return config_; }
  std::string OpenIdConfigurationJson() const;

 private:
  struct Session {
    std::string username;
    uint64_t generation = 0;  // the user's token_generation at login
    int64_t started_at = 0;
    int64_t expires_at = 0;          // started_at + session_lifetime_seconds: rotation never moves it
    std::string current;             // SHA-256 (hex) of the live refresh token
    int64_t current_expires_at = 0;  // idle timeout of the live refresh token, never past expires_at
    std::deque<std::string> spent;   // first 128 bits (hex) of the hashes of tokens rotated away, oldest first
    int64_t EndsAt() const { return std::min(expires_at, current_expires_at); }
  };

  AuthService(std::filesystem::path tokens_file, io::Env* env, identity::UserDirectory& users, AuthConfig config,
              JwtSigner signer);
  int64_t Now() const;
  LoginThrottle::Clock::time_point ThrottleNow() const;
  Status Load();
  Result<TokenPair> StartSession(const identity::User& user);
  // Makes a new refresh token and an access token for session `sid`.
  Result<TokenPair> IssueLocked(const identity::User& user, const std::string& sid, Session& session, int64_t now);
  void PruneLocked(int64_t now);
  void MakeRoomLocked(std::string_view username);
  void RevokeTokenLocked(const std::string& jti, int64_t exp);
  Status PersistLocked() const;
  Result<Principal> PrincipalFor(const identity::User& user, const JwtClaims& claims) const;

  std::filesystem::path tokens_file_;
  io::Env* env_;
  identity::UserDirectory& users_;
  AuthConfig config_;
  JwtSigner signer_;
  JwtVerifier verifier_;
  mutable VerifiedTokenCache verified_tokens_{verifier_};  // after verifier_, which it refers to
  LoginThrottle throttle_;
  std::function<std::optional<std::string>(std::string_view)> patient_resolver_;

  // Authenticate reads under a shared lock; sign-in, refresh and logout write, and persist before they
  // answer, so a restart resurrects no ended session and no revoked token.
  mutable std::shared_mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_;        // sid -> session
  std::map<std::string, int64_t, std::less<>> revoked_tokens_;  // jti -> exp: kept until the token expires
};

}  // namespace medledger::auth
