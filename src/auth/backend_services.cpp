#include "auth/backend_services.h"

#include "common/time.h"

namespace medledger::auth {
namespace {

Error OAuth(ErrorKind kind, const char* code, std::string description) {
  return MakeError(kind, code, std::move(description));
}

}  // namespace

smart::ScopeSet NarrowSystem(const smart::ScopeSet& requested, const smart::ScopeSet& registered) {
  smart::ScopeSet out;
  for (const auto& want : requested.resources) {
    if (want.context != smart::Context::kSystem) continue;
    uint8_t allowed = 0;
    for (const auto& reg : registered.resources) {
      if (reg.context == smart::Context::kSystem && (reg.type == "*" || reg.type == want.type)) {
        allowed |= reg.permissions;
      }
    }
    // A wildcard request is granted per registered type when only specific types are registered.
    if (want.type == "*" && (want.permissions & allowed) == 0) {
      for (const auto& reg : registered.resources) {
        uint8_t bits = want.permissions & reg.permissions;
        if (reg.context == smart::Context::kSystem && bits != 0) out.resources.push_back({reg.context, reg.type, bits});
      }
      continue;
    }
    uint8_t bits = want.permissions & allowed;
    if (bits != 0) out.resources.push_back({want.context, want.type, bits});
  }
  return out;
}

BackendServices::BackendServices(SmartAppRegistry& apps, identity::UserDirectory& users, const JwtSigner& signer,
                                 BackendConfig config)
    : apps_(apps),
      users_(users),
      signer_(signer),
      config_(std::move(config)),
      verifier_(AssertionVerifierOptions{config_.token_endpoint, config_.max_replay_entries, 30, config_.clock}) {}

int64_t BackendServices::Now() const {
  return config_.clock ? config_.clock() : Timestamp::Now().seconds;
}

Result<TokenResponse> BackendServices::ClientCredentials(const std::string& assertion_type,
                                                         const std::string& assertion, const std::string& scope,
                                                         const std::string& form_client_id) {
  if (assertion_type.empty() || assertion.empty()) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_request",
                 "client_credentials needs client_assertion_type and client_assertion (private_key_jwt)");
  }
  if (assertion_type != kJwtBearerAssertionType) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_request",
                 "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  }
  if (scope.empty()) return OAuth(ErrorKind::kInvalidArgument, "invalid_scope", "scope is required (system/...)");
  auto lookup = [this](std::string_view client_id, std::string* jwks) {
    auto app = apps_.Find(client_id);
    if (!app || !app->system()) return false;
    *jwks = app->jwks;
    return true;
  };
  ML_ASSIGN_OR_RETURN(std::string client_id, verifier_.Verify(assertion, lookup));
  if (!form_client_id.empty() && form_client_id != client_id) {
    return OAuth(ErrorKind::kUnauthenticated, "invalid_client", "client_id differs from the assertion's iss");
  }
  auto app = apps_.Find(client_id);
  if (!app || !app->system()) return OAuth(ErrorKind::kUnauthenticated, "invalid_client", "the client was removed");
  auto requested = smart::ParseScopes(scope);
  if (!requested.ok()) return OAuth(ErrorKind::kInvalidArgument, "invalid_scope", requested.error().message);
  ML_ASSIGN_OR_RETURN(auto registered, smart::ParseScopes(app->scope));
  smart::ScopeSet granted = NarrowSystem(*requested, registered);
  if (granted.resources.empty()) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_scope",
                 "none of the requested scopes is a system/ scope this client is registered for (" + app->scope + ")");
  }
  auto user = users_.GetUser(app->acts_as);
  if (!user.ok() || user->disabled || user->role != identity::Role::kDoctor) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant",
                 "the client's account " + app->acts_as + " is gone, disabled or not a doctor");
  }
  const int64_t now = Now();
  JwtClaims c = AppAccessClaims(config_.issuer, config_.audience, *user, client_id, now, config_.access_ttl_seconds);
  c.scope = granted.ToString();
  TokenResponse out;
  ML_ASSIGN_OR_RETURN(out.access_token, signer_.Sign(c));
  out.expires_in = config_.access_ttl_seconds;
  out.scope = c.scope;
  return out;
}

}  // namespace medledger::auth
