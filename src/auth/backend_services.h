// SMART Backend Services (docs/FHIR.md, Backend services): the client_credentials grant for a registered system
// client that authenticates with a private_key_jwt assertion (auth/client_assertion.h). The access token is a
// short-lived token of the built-in issuer for the client's account (SmartApp::acts_as, a doctor: its ledger
// identity signs the reads and patients' consents to it decide them) with the client's ID and the granted
// system/ scopes; the HTTP layer confines it to the bulk routes.
#pragma once

#include <functional>
#include <string>

#include "auth/client_assertion.h"
#include "auth/jwt.h"
#include "auth/smart_apps.h"
#include "auth/smart_auth.h"
#include "auth/smart_scopes.h"
#include "common/result.h"
#include "identity/user_directory.h"

namespace medledger::auth {

inline constexpr std::string_view kJwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct BackendConfig {
  std::string issuer;          // the built-in issuer
  std::string audience;        // its access tokens' audience
  std::string token_endpoint;  // issuer + "/oauth2/token": the assertion's aud
  int64_t access_ttl_seconds = 5 * 60;
  size_t max_replay_entries = 10000;
  std::function<int64_t()> clock;  // empty: the system clock
};

// What may be granted of a system client's request: the requested system/ scopes cut to the registered ones
// (type "*" covers any type; permissions intersect). Other contexts and launch/offline scopes are dropped.
smart::ScopeSet NarrowSystem(const smart::ScopeSet& requested, const smart::ScopeSet& registered);

class BackendServices {
 public:
  BackendServices(SmartAppRegistry& apps, identity::UserDirectory& users, const JwtSigner& signer,
                  BackendConfig config);

  // POST /oauth2/token with grant_type=client_credentials. Errors: "invalid_request" (assertion type or
  // missing parameters), "invalid_client" (the assertion, 401), "invalid_scope" (nothing grantable),
  // "invalid_grant" (the client's account is gone, disabled or not a doctor), "temporarily_unavailable".
  // `client_id`: the form's optional client_id (RFC 7523 3), which must then name the assertion's client.
  Result<TokenResponse> ClientCredentials(const std::string& assertion_type, const std::string& assertion,
                                          const std::string& scope, const std::string& client_id = "");

  const BackendConfig& config() const { return config_; }
  ClientAssertionVerifier& verifier() { return verifier_; }

 private:
  int64_t Now() const;

  SmartAppRegistry& apps_;
  identity::UserDirectory& users_;
  const JwtSigner& signer_;
  BackendConfig config_;
  ClientAssertionVerifier verifier_;
};

}  // namespace medledger::auth
