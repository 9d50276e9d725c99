// The SMART App Launch authorization code flow with PKCE (docs/FHIR.md, SMART on FHIR; RFC 6749, RFC 7636):
// the validated authorization request waiting for the user's decision, the authorization code (single use,
// 60 s, bound to client, redirect URI, PKCE challenge and user), the token exchange, and rotating refresh
// tokens for apps granted offline_access. Access tokens are the built-in issuer's JWTs with the app's
// client_id, granted scope and patient: AuthService verifies them like any other, and the HTTP layer confines
// them to /fhir/ and to their scopes. An app granted openid also gets an OpenID Connect ID token signed with
// the same key (aud = its client_id, so it never passes as an access token), with fhirUser when granted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/jwt.h"
#include "auth/principal.h"
#include "auth/smart_apps.h"
#include "auth/smart_scopes.h"
#include "common/result.h"
#include "identity/sealed_file.h"
#include "identity/user_directory.h"

namespace medledger::auth {

// The claims every app access token carries for `user`, SMART's and backend services' alike: issuer, audience,
// the user and role, a fresh jti, the session generation, the lifetime and the client. Callers add the scope and
// the patient in context.
JwtClaims AppAccessClaims(const std::string& issuer, const std::string& audience, const identity::User& user,
                          const std::string& client_id, int64_t now, int64_t ttl_seconds);

struct SmartConfig {
  std::string issuer;     // the built-in issuer (AuthConfig::issuer)
  std::string audience;   // the built-in access tokens' audience (AuthConfig::audience)
  std::string fhir_base;  // the aud an app must name: issuer + "/fhir/r4"
  int64_t access_ttl_seconds = 15 * 60;
  int64_t code_ttl_seconds = 60;
  int64_t request_ttl_seconds = 10 * 60;  // how long the consent screen may stay open
  int64_t refresh_ttl_seconds = 30 * 24 * 3600;
  size_t max_pending_requests = 1000;
  // Per client address (IPv6 per /64), so one caller cannot take every slot of max_pending_requests.
  size_t max_pending_per_address = 20;
  size_t max_codes = 1000;
  size_t max_refresh_tokens = 10000;
  std::function<int64_t()> clock;  // empty: the system clock
};

struct AuthorizeParams {
  std::string response_type, client_id, redirect_uri, scope, state, aud, code_challenge, code_challenge_method;
  std::string nonce;  // OpenID Connect: echoed in the ID token; optional
};

inline constexpr size_t kMaxNonceBytes = 256;

// Why an authorization request failed. redirect: the error goes back to the (registered, exactly matched)
// redirect_uri as error=&state=; otherwise it is shown to the user and nothing is redirected.
struct AuthorizeFailure {
  bool redirect = false;
  std::string error;  // RFC 6749 4.1.2.1 code
  std::string description;
  std::string redirect_to;  // when redirect: the full URL
};

struct ConsentView {
  std::string app_name;
  std::string client_id;
  std::string redirect_uri;
  std::string scope;  // what will be granted on approval (the request narrowed)
  std::vector<std::pair<std::string, std::string>> descriptions;  // (scope, plain words)
  bool grants_resources = false;  // some resource scope survives the narrowing (else approval is pointless)
  bool offline_access = false;
  std::string patient;  // the patient in context: a patient user's own record, always
};

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;
  std::string scope;
  std::string patient;
  std::string refresh_token;
  std::string id_token;  // when openid was granted
};

// Token endpoint errors: RFC 6749 5.2 codes in Error::code ("invalid_request", "invalid_client",
// "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope").
struct ClientCredentials {
  std::string client_id;
  std::string client_secret;  // from client_secret_basic; empty for a public client
  bool basic = false;         // whether they came in an Authorization: Basic header
};

// RFC 7636 4.1/4.6: a verifier of 43-128 unreserved characters whose S256 transform is the challenge.
bool PkceMatches(std::string_view verifier, std::string_view challenge);
// `uri` with the parameters appended (query-encoded), before any fragment.
std::string WithQuery(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params);

class SmartAuthorizer {
 public:
  SmartAuthorizer(SmartAppRegistry& apps, identity::UserDirectory& users, const JwtSigner& signer, SmartConfig config);

  const SmartConfig& config() const { return config_; }
  SmartAppRegistry& apps() { return apps_; }

  // GET /oauth2/authorize from `client_address`: the id of the request waiting for the user's decision, or
  // the failure.
  std::variant<std::string, AuthorizeFailure> Begin(const AuthorizeParams& params, std::string_view client_address);
  // What the consent screen shows the signed-in user. "authorization_request_not_found" (404).
  Result<ConsentView> Describe(const std::string& request_id, const Principal& user);
  // The user's decision: the URL to send the browser to (code and state, or error=access_denied). The request
  // is spent either way.
  Result<std::string> Decide(const std::string& request_id, const Principal& user, bool approve);

  Result<TokenResponse> ExchangeCode(const ClientCredentials& client, const std::string& code,
                                     const std::string& redirect_uri, const std::string& code_verifier);
  Result<TokenResponse> Refresh(const ClientCredentials& client, const std::string& refresh_token,
                                const std::string& scope);

  // Keeps refresh tokens (their SHA-256 and grant, never the token) in `file`, sealed, so an app granted
  // offline_access stays signed in across a restart: loads the live ones now, and every issue or rotation is
  // written (atomically, fsynced) before the new token is answered. Without it they live in memory only.
  Status PersistRefreshTokens(identity::SealedFiles sealer, std::filesystem::path file);

  // Whether an app token's client is still registered (deleting the app ends its tokens).
  bool ClientActive(std::string_view client_id) const { return apps_.Find(client_id).has_value(); }

  // For tests.
  size_t pending_count() const;
  size_t code_count() const;

 private:
  struct Pending {
    AuthorizeParams params;
    std::string address_key;  // LoginThrottle::AddressKey of the caller
    int64_t expires_at = 0;
  };
  struct Grant {  // what a code or a refresh token stands for
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
    std::string username;
    uint64_t generation = 0;
    std::string scope;
    std::string patient;
    std::string nonce;  // codes only: a refreshed ID token carries none (OpenID Connect Core 12.2)
    int64_t expires_at = 0;
  };

  int64_t Now() const;
  void PruneLocked(int64_t now);
  Result<SmartApp> AuthenticateClient(const ClientCredentials& client) const;
  Result<std::string> PatientOf(const Principal& user) const;
  Result<TokenResponse> IssueLocked(const Grant& grant, int64_t now);
  Result<std::string> IdToken(const identity::User& user, const Grant& grant, const smart::ScopeSet& scopes,
                              int64_t now) const;
  Status SaveRefreshLocked() const;

  SmartAppRegistry& apps_;
  identity::UserDirectory& users_;
  const JwtSigner& signer_;
  SmartConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, Pending, std::less<>> pending_;  // request id -> request
  std::map<std::string, Grant, std::less<>> codes_;      // SHA-256(code) -> grant
  std::map<std::string, Grant, std::less<>> refresh_;    // SHA-256(refresh token) -> grant
  std::optional<identity::SealedFiles> refresh_store_;   // set by PersistRefreshTokens
  std::filesystem::path refresh_file_;
};

}  // namespace medledger::auth
