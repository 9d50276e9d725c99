// Sign-in through an external OpenID Connect provider (authorization code + PKCE). The browser talks to the
// provider; the server exchanges the code at the provider's token endpoint itself, verifies the ID token
// against the provider's JWKS (issuer, audience = client id, expiry, nonce; ES256, RS256 or PS256), maps the role
// claim, and the caller becomes the enrolled medledger user named by the username claim, whose role must agree. Nothing
// from the request body names the user: only the verified token does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "common/result.h"
#include "identity/user_directory.h"
#include "net/http_client.h"

namespace medledger::auth {

struct OidcConfig {
  std::string issuer;     // exactly as the provider's discovery document names it
  std::string client_id;  // the audience of its ID tokens
  std::string scope = "openid profile";
  std::string username_claim = "preferred_username";
  std::string role_claim = "role";
  // provider value -> medledger role name ("physician" -> "doctor"); empty: the claim must be a role name.
  std::map<std::string, std::string> role_map;
  int64_t http_timeout_ms = 5000;
  // Discovery, JWKS and the code exchange go through this; empty: net::HttpFetch. Tests put a provider here.
  std::function<Result<net::HttpReply>(const net::HttpCall&)> fetch;
};

// "provider_value=role,other=role" -> map; "oidc_role_map_invalid" on syntax or unknown roles.
Result<std::map<std::string, std::string>> ParseRoleMap(std::string_view spec);

struct ExternalSignIn {
  std::string code;
  std::string code_verifier;
  std::string redirect_uri;
  std::string nonce;
};

struct ExternalIdentity {
  std::string subject;   // the provider's sub
  std::string username;  // the enrolled medledger user
  identity::Role role = identity::Role::kPatient;
};

class OidcProvider {
 public:
  explicit OidcProvider(OidcConfig config);

  const OidcConfig& config() const { return config_; }
  // {"oidc":{issuer, authorizationEndpoint, clientId, scope}} for the web app; discovers on first use.
  // "oidc_unavailable" (503) when the provider cannot be reached.
  Result<std::string> PublicConfigJson();
  // Exchanges the code (with its PKCE verifier) and verifies the ID token. Codes (401 unless noted):
  // "oidc_exchange_failed", "oidc_token_invalid", "oidc_nonce_mismatch", "oidc_claim_missing",
  // "oidc_role_unmapped" (403), "oidc_unavailable" (503).
  Result<ExternalIdentity> SignIn(const ExternalSignIn& in, int64_t now_seconds);
  // Maps a verified ID token's payload (for tests and for SignIn).
  Result<ExternalIdentity> MapClaims(const JwtClaims& claims) const;

 private:
  struct Discovery {
    std::string authorization_endpoint, token_endpoint, jwks_uri;
  };
  Result<Discovery> Discover();
  Status RefreshKeys(const Discovery& d, bool force);

  OidcConfig config_;
  std::mutex mu_;
  std::unique_ptr<Discovery> discovery_;
  JwtVerifier verifier_;
  int64_t keys_fetched_at_ = 0;  // monotonic seconds; unknown kids refetch at most every 30 s
};

}  // namespace medledger::auth
