#include "auth/oidc.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/json_strict.h"
#include "net/http_client.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;

Error Unavailable(const std::string& why) {
  return MakeError(ErrorKind::kUnavailable, "oidc_unavailable", "the sign-in provider is unavailable: " + why);
}

int64_t MonotonicSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The provider's documents and tokens through the strict parser (bounded depth, no repeated keys); anything
// it refuses becomes a discarded value, which every caller below treats as "not a JSON object".
json Strict(std::string_view text) {
  auto parsed = ParseStrictJson(text);
  return parsed.ok() ? std::move(*parsed) : json(json::value_t::discarded);
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<net::HttpReply> Fetch(const OidcConfig& config, const net::HttpCall& call) {
  return config.fetch ? config.fetch(call) : net::HttpFetch(call);
}

Result<json> FetchJson(const OidcConfig& config, const std::string& url) {
  auto reply = Fetch(config, {url, {}, config.http_timeout_ms, 1 << 20});
  if (!reply.ok()) return Unavailable(reply.error().message);
  if (reply->status != 200) return Unavailable(url + " answered HTTP " + std::to_string(reply->status));
  json j = Strict(reply->body);
  if (j.is_discarded() || !j.is_object()) return Unavailable(url + " did not answer a JSON object");
  return j;
}

JwtVerifyOptions VerifyOptionsFor(const OidcConfig& c) {
  JwtVerifyOptions o;
  o.issuer = c.issuer;
  o.audience = c.client_id;
  o.require_low_s = false;
  // OpenID Connect's default ID token algorithm is RS256 (Core 1.0 section 3.1.3.7); PS256 and ES256 are the
  // other ones providers commonly offer.
  o.algorithms = {"ES256", "RS256", "PS256"};
  return o;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseRoleMap(std::string_view spec) {
  std::map<std::string, std::string> out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec.remove_prefix(comma == std::string_view::npos ? spec.size() : comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return MakeError(ErrorKind::kInvalidArgument, "oidc_role_map_invalid",
                       "role map entries are provider_value=role, separated by commas");
    }
    std::string role(item.substr(eq + 1));
    if (!identity::ParseRole(role).ok()) {
      return MakeError(ErrorKind::kInvalidArgument, "oidc_role_map_invalid",
                       "unknown medledger role '" + role + "' (admin, doctor, patient, auditor)");
    }
    out[std::string(item.substr(0, eq))] = role;
  }
  return out;
}

OidcProvider::OidcProvider(OidcConfig config) : config_(std::move(config)), verifier_(VerifyOptionsFor(config_)) {}

Result<OidcProvider::Discovery> OidcProvider::Discover() {
  if (discovery_) return *discovery_;
  std::string base = config_.issuer;
  if (!base.empty() && base.back() == '/') base.pop_back();
  ML_ASSIGN_OR_RETURN(auto doc, FetchJson(config_, base + "/.well-known/openid-configuration"));
  // OpenID Connect Discovery 1.0 section 4.3: the document must name exactly the issuer we were given.
  if (Str(doc, "issuer") != config_.issuer) {
    return Unavailable("its discovery document names issuer '" + Str(doc, "issuer") + "'");
  }
  Discovery d{Str(doc, "authorization_endpoint"), Str(doc, "token_endpoint"), Str(doc, "jwks_uri")};
  if (d.authorization_endpoint.empty() || d.token_endpoint.empty() || d.jwks_uri.empty()) {
    return Unavailable("its discovery document lacks an endpoint");
  }
  discovery_ = std::make_unique<Discovery>(d);
  return d;
}

Status OidcProvider::RefreshKeys(const Discovery& d, bool force) {
  const int64_t now = MonotonicSeconds();
  if (keys_fetched_at_ != 0 && (!force || now - keys_fetched_at_ < 30)) return OkStatus();
  ML_ASSIGN_OR_RETURN(auto doc, FetchJson(config_, d.jwks_uri));
  auto keys = ParseJwks(doc.dump());
  if (!keys.ok()) return Unavailable("its JWKS is invalid");
  verifier_.ClearKeys();
  for (auto& [kid, key] : *keys) verifier_.AddKey(kid, std::move(key));
  keys_fetched_at_ = now;
  return OkStatus();
}

Result<std::string> OidcProvider::PublicConfigJson() {
  std::lock_guard lock(mu_);
  ML_ASSIGN_OR_RETURN(auto d, Discover());
  return json{{"oidc",
               {{"issuer", config_.issuer},
                {"authorizationEndpoint", d.authorization_endpoint},
                {"clientId", config_.client_id},
                {"scope", config_.scope}}}}
      .dump();
}

Result<ExternalIdentity> OidcProvider::MapClaims(const JwtClaims& claims) const {
  json payload = Strict(claims.raw_payload);
  if (!payload.is_object()) return MakeError(ErrorKind::kUnauthenticated, "oidc_token_invalid", "bad ID token");
  ExternalIdentity id;
  id.subject = claims.sub;
  id.username = Str(payload, config_.username_claim.c_str());
  std::string value = Str(payload, config_.role_claim.c_str());
  if (id.username.empty() || value.empty()) {
    return MakeError(ErrorKind::kUnauthenticated, "oidc_claim_missing",
                     "the ID token lacks the '" + config_.username_claim + "' or '" + config_.role_claim + "' claim");
  }
  std::string role_name = value;
  if (!config_.role_map.empty()) {
    auto it = config_.role_map.find(value);
    role_name = it == config_.role_map.end() ? std::string() : it->second;
  }
  auto role = identity::ParseRole(role_name);
  if (role_name.empty() || !role.ok()) {
    return MakeError(ErrorKind::kPermissionDenied, "oidc_role_unmapped",
                     "the provider's role '" + value + "' maps to no medledger role");
  }
  id.role = *role;
  return id;
}

Result<ExternalIdentity> OidcProvider::SignIn(const ExternalSignIn& in, int64_t now_seconds) {
  if (in.code.empty() || in.code_verifier.empty() || in.redirect_uri.empty() || in.nonce.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "missing_field", "code, codeVerifier, redirectUri and nonce");
  }
  std::lock_guard lock(mu_);
  ML_ASSIGN_OR_RETURN(auto d, Discover());
  auto reply = Fetch(config_, {d.token_endpoint,
                               {{"grant_type", "authorization_code"},
                                {"code", in.code},
                                {"redirect_uri", in.redirect_uri},
                                {"client_id", config_.client_id},
                                {"code_verifier", in.code_verifier}},
                               config_.http_timeout_ms,
                               1 << 20});
  if (!reply.ok()) return Unavailable(reply.error().message);
  json tokens = Strict(reply->body);
  if (reply->status != 200 || !tokens.is_object()) {
    std::string why = tokens.is_object() ? Str(tokens, "error") : "";
    return MakeError(ErrorKind::kUnauthenticated, "oidc_exchange_failed",
                     "the provider refused the code" + (why.empty() ? "" : " (" + why + ")"));
  }
  std::string id_token = Str(tokens, "id_token");
  if (id_token.empty()) {
    return MakeError(ErrorKind::kUnauthenticated, "oidc_exchange_failed", "the provider returned no ID token");
  }
  auto kid = JwtVerifier::PeekKid(id_token);
  ML_RETURN_IF_ERROR(RefreshKeys(d, kid.ok() && !verifier_.HasKey(*kid)));
  auto claims = verifier_.Verify(id_token, now_seconds);
  if (!claims.ok()) {
    return MakeError(ErrorKind::kUnauthenticated, "oidc_token_invalid",
                     "the provider's ID token failed verification: " + claims.error().message);
  }
  json payload = Strict(claims->raw_payload);
  // The nonce ties the token to the browser that started this sign-in (OpenID Connect Core 3.1.3.7).
  if (!payload.is_object() || Str(payload, "nonce") != in.nonce) {
    return MakeError(ErrorKind::kUnauthenticated, "oidc_nonce_mismatch", "the ID token's nonce is not this sign-in's");
  }
  return MapClaims(*claims);
}

}  // namespace medledger::auth
