// Sign-in for the built-in identity provider: password login (Argon2id via the user directory), ES256
// access tokens (15 min), rotating refresh tokens stored only as hashes, logout, login rate limiting, and
// access-token authentication for every API call (built-in or external OIDC issuer).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/user_directory.h"
#include "service/jwt.h"
#include "service/oidc.h"
#include "service/principal.h"
#include "service/rate_limiter.h"
#include "service/verified_token_cache.h"

namespace medledger::service {

struct AuthConfig {
  std::string issuer = "http://127.0.0.1:8080";
  std::string audience = "medledger-api";
  int64_t access_ttl_seconds = 15 * 60;
  int64_t refresh_ttl_seconds = 7 * 24 * 3600;
  RateLimit per_user{5, 0.2};
  RateLimit per_address{30, 1.0};
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;
  identity::User user;
};

class AuthService {
 public:
  // `state_dir` (DATA/server) holds the sealed signing key and the refresh-token hashes.
  static Result<std::unique_ptr<AuthService>> Open(const std::filesystem::path& state_dir,
                                                   const identity::MasterKey& master_key,
                                                   identity::UserDirectory& users, AuthConfig config);
  ~AuthService();

  // "invalid_credentials" (401), "too_many_attempts" (429, *retry_after set).
  Result<TokenPair> Login(std::string_view username, std::string_view password, std::string_view remote_address,
                          int64_t* retry_after);
  // Sessions for a user the external provider vouched for (see oidc.h): "oidc_user_unknown" (403),
  // "oidc_role_mismatch" (403), "user_disabled" (401).
  Result<TokenPair> LoginExternal(const ExternalIdentity& who);
  // Rotates: the presented token is spent; presenting it again fails ("refresh_token_invalid").
  Result<TokenPair> Refresh(std::string_view refresh_token);
  Status Logout(std::string_view refresh_token);

  // The caller behind an access token. "token_invalid" / "token_expired" / "user_disabled" (401).
  Result<Principal> Authenticate(std::string_view access_token) const;

  // Resolves a patient's own record id from their username (the patient directory answers).
  void SetPatientResolver(std::function<std::optional<std::string>(std::string_view)> resolver);

  const JwtSigner& signer() const { return signer_; }
  const AuthConfig& config() const { return config_; }
  std::string OpenIdConfigurationJson() const;

 private:
  struct RefreshRecord {
    std::string username;
    int64_t expires_at = 0;
  };

  AuthService(std::filesystem::path tokens_file, identity::UserDirectory& users, AuthConfig config, JwtSigner signer);
  Result<TokenPair> Issue(const identity::User& user);
  Status PersistLocked() const;
  Result<Principal> PrincipalFor(const identity::User& user, std::string jti) const;

  std::filesystem::path tokens_file_;
  identity::UserDirectory& users_;
  AuthConfig config_;
  JwtSigner signer_;
  JwtVerifier verifier_;
  mutable VerifiedTokenCache verified_tokens_{verifier_};  // after verifier_, which it refers to
  RateLimiter user_limiter_;
  RateLimiter address_limiter_;
  std::function<std::optional<std::string>(std::string_view)> patient_resolver_;

  mutable std::mutex mu_;
  std::map<std::string, RefreshRecord, std::less<>> refresh_;  // hex SHA-256(token) -> record
};

}  // namespace medledger::service
