#include "auth/smart_auth.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "auth/rate_limiter.h"
#include "common/encoding.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace medledger::auth {
namespace {

Error OAuth(ErrorKind kind, const char* code, std::string description) {
  return MakeError(kind, code, std::move(description));
}

constexpr std::string_view kRefreshAad = "medledger smart refresh tokens v1";

std::string Hash(std::string_view secret) {
  return HexEncode(crypto::Sha256(secret));
}

bool Unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string QueryEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out += {'%', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

}  // namespace

bool PkceMatches(std::string_view verifier, std::string_view challenge) {
  if (verifier.size() < 43 || verifier.size() > 128 || !std::all_of(verifier.begin(), verifier.end(), Unreserved)) {
    return false;
  }
  return crypto::ConstantTimeEquals(Base64UrlEncode(crypto::Sha256(verifier)), challenge);
}

std::string WithQuery(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string base = uri;
  std::string fragment;
  if (auto hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    base += sep + QueryEncode(k) + "=" + QueryEncode(v);
    sep = '&';
  }
  return base + fragment;
}

SmartAuthorizer::SmartAuthorizer(SmartAppRegistry& apps, identity::UserDirectory& users, const JwtSigner& signer,
                                 SmartConfig config)
    : apps_(apps), users_(users), signer_(signer), config_(std::move(config)) {}

int64_t SmartAuthorizer::Now() const {
  return config_.clock ? config_.clock() : Timestamp::Now().seconds;
}

void SmartAuthorizer::PruneLocked(int64_t now) {
  auto prune = [now](auto& map) {
    for (auto it = map.begin(); it != map.end();) it = it->second.expires_at <= now ? map.erase(it) : std::next(it);
  };
  prune(pending_);
  prune(codes_);
  prune(refresh_);
}

std::variant<std::string, AuthorizeFailure> SmartAuthorizer::Begin(const AuthorizeParams& p,
                                                                   std::string_view client_address) {
  // Until client and redirect URI are known good nothing is redirected: an open redirector otherwise.
  auto app = p.client_id.empty() || p.client_id.size() > 64 ? std::nullopt : apps_.Find(p.client_id);
  if (!app) return AuthorizeFailure{false, "invalid_client", "unknown client_id", ""};
  if (std::find(app->redirect_uris.begin(), app->redirect_uris.end(), p.redirect_uri) == app->redirect_uris.end()) {
    return AuthorizeFailure{false, "invalid_request", "redirect_uri is not one this app registered", ""};
  }
  auto fail = [&](const char* error, std::string description) -> AuthorizeFailure {
    std::vector<std::pair<std::string, std::string>> q = {{"error", error}, {"error_description", description}};
    if (!p.state.empty()) q.emplace_back("state", p.state);
    return AuthorizeFailure{true, error, description, WithQuery(p.redirect_uri, q)};
  };
  if (p.response_type != "code") return fail("unsupported_response_type", "response_type must be code");
  if (p.state.empty() || p.state.size() > 512) return fail("invalid_request", "state is required (at most 512 bytes)");
  // Printable ASCII only: it is echoed into a JSON claim, which must be valid UTF-8.
  if (p.nonce.size() > kMaxNonceBytes ||
      !std::all_of(p.nonce.begin(), p.nonce.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    return fail("invalid_request", "nonce: at most 256 printable ASCII characters");
  }
  if (p.code_challenge_method != "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (p.code_challenge.size() != 43 || !std::all_of(p.code_challenge.begin(), p.code_challenge.end(), Unreserved)) {
    return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier");
  }
  if (p.aud != config_.fhir_base) return fail("invalid_request", "aud must be this server's FHIR base URL");
  auto requested = smart::ParseScopes(p.scope);
  if (!requested.ok()) return fail("invalid_scope", requested.error().message);
  if (requested->resources.empty()) return fail("invalid_scope", "no resource scope this server supports");
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  PruneLocked(now);
  if (pending_.size() >= config_.max_pending_requests) {
    return fail("temporarily_unavailable", "too many authorizations in progress; try again shortly");
  }
  std::string address_key = LoginThrottle::AddressKey(client_address);
  const auto from_here = std::count_if(pending_.begin(), pending_.end(),
                                       [&](const auto& e) { return e.second.address_key == address_key; });
  if (static_cast<size_t>(from_here) >= config_.max_pending_per_address) {
    return fail("temporarily_unavailable",
                "too many authorizations in progress from this address; finish or "
                "wait for one to expire");
  }
  std::string id = crypto::RandomHex(16);
  pending_.emplace(id, Pending{p, std::move(address_key), now + config_.request_ttl_seconds});
  return id;
}

Result<std::string> SmartAuthorizer::PatientOf(const Principal& user) const {
  if (user.role == identity::Role::kPatient && user.patient_id) return *user.patient_id;
  return std::string();
}

Result<ConsentView> SmartAuthorizer::Describe(const std::string& request_id, const Principal& user) {
  const int64_t now = Now();
  AuthorizeParams params;
  {
    std::lock_guard lock(mu_);
    PruneLocked(now);
    auto it = pending_.find(request_id);
    if (it == pending_.end()) {
      return MakeError(ErrorKind::kNotFound, "authorization_request_not_found",
                       "this authorization request has expired or was already decided");
    }
    params = it->second.params;
  }
  auto app = apps_.Find(params.client_id);
  if (!app) return MakeError(ErrorKind::kNotFound, "authorization_request_not_found", "the app was removed");
  ML_ASSIGN_OR_RETURN(std::string patient, PatientOf(user));
  ML_ASSIGN_OR_RETURN(auto requested, smart::ParseScopes(params.scope));
  ML_ASSIGN_OR_RETURN(auto registered, smart::ParseScopes(app->scope));
  smart::ScopeSet granted = smart::Narrow(requested, registered, !patient.empty());
  ConsentView view;
  view.app_name = app->name;
  view.client_id = app->client_id;
  view.redirect_uri = params.redirect_uri;
  view.scope = granted.ToString();
  for (const auto& r : granted.resources) {
    smart::ScopeSet one;
    one.resources.push_back(r);
    view.descriptions.emplace_back(one.ToString(), smart::Describe(r));
  }
  view.grants_resources = !granted.resources.empty();
  for (auto [on, name] : {std::pair{granted.openid, "openid"}, {granted.fhir_user, "fhirUser"}}) {
    if (on) view.descriptions.emplace_back(name, smart::DescribeIdentity(name));
  }
  view.offline_access = granted.offline_access;
  // A patient user's app is always confined to that patient, whatever the scopes' context (user/ included).
  view.patient = patient;
  return view;
}

Result<std::string> SmartAuthorizer::Decide(const std::string& request_id, const Principal& user, bool approve) {
  if (!user.client_id.empty()) {
    return MakeError(ErrorKind::kPermissionDenied, "forbidden", "an app cannot approve its own authorization");
  }
  ML_ASSIGN_OR_RETURN(ConsentView view, Describe(request_id, user));
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  auto it = pending_.find(request_id);
  if (it == pending_.end()) {
    return MakeError(ErrorKind::kNotFound, "authorization_request_not_found", "this request was already decided");
  }
  AuthorizeParams params = std::move(it->second.params);
  pending_.erase(it);
  if (!approve) {
    return WithQuery(
        params.redirect_uri,
        {{"error", "access_denied"}, {"error_description", "the user denied the request"}, {"state", params.state}});
  }
  if (!view.grants_resources) {
    return WithQuery(params.redirect_uri, {{"error", "invalid_scope"},
                                           {"error_description", "none of the requested scopes can be granted"},
                                           {"state", params.state}});
  }
  if (codes_.size() >= config_.max_codes) {
    return WithQuery(
        params.redirect_uri,
        {{"error", "temporarily_unavailable"}, {"error_description", "try again"}, {"state", params.state}});
  }
  auto account = users_.GetUser(user.username);
  if (!account.ok()) return MakeError(ErrorKind::kUnauthenticated, "token_invalid", "unknown user");
  std::string code = Base64UrlEncode(crypto::RandomBytes(32));
  codes_.emplace(Hash(code), Grant{params.client_id, params.redirect_uri, params.code_challenge, user.username,
                                   account->token_generation, view.scope, view.patient, params.nonce,
                                   now + config_.code_ttl_seconds});
  return WithQuery(params.redirect_uri, {{"code", code}, {"state", params.state}});
}

Result<SmartApp> SmartAuthorizer::AuthenticateClient(const ClientCredentials& client) const {
  auto app = client.client_id.empty() || client.client_id.size() > 64 ? std::nullopt : apps_.Find(client.client_id);
  if (!app) return OAuth(ErrorKind::kUnauthenticated, "invalid_client", "unknown client");
  if (app->confidential) {
    if (!client.basic || !SmartAppRegistry::SecretMatches(*app, client.client_secret)) {
      return OAuth(ErrorKind::kUnauthenticated, "invalid_client",
                   "a confidential client authenticates with client_secret_basic");
    }
  } else if (!client.client_secret.empty()) {
    return OAuth(ErrorKind::kUnauthenticated, "invalid_client", "a public client has no secret");
  }
  return *app;
}

Status SmartAuthorizer::PersistRefreshTokens(identity::SealedFiles sealer, std::filesystem::path file) {
  using json = nlohmann::json;
  std::lock_guard lock(mu_);
  auto text = sealer.Read(file, kRefreshAad);
  if (!text.ok() && text.error().code != "not_found") return text.error();
  if (text.ok()) {
    json doc = json::parse(*text, nullptr, false);
    if (!doc.is_array()) {
      return MakeError(ErrorKind::kCorruption, "smart_refresh_tokens_corrupt", "the refresh token file is damaged");
    }
    const int64_t now = Now();
    for (const auto& e : doc) {
      if (!e.is_object() || !e.contains("h") || !e["h"].is_string()) continue;
      Grant g;
      g.client_id = e.value("client_id", "");
      g.redirect_uri = e.value("redirect_uri", "");
      g.username = e.value("username", "");
      g.generation = e.value("generation", uint64_t{0});
      g.scope = e.value("scope", "");
      g.patient = e.value("patient", "");
      g.expires_at = e.value("expires_at", int64_t{0});
      if (g.expires_at > now && refresh_.size() < config_.max_refresh_tokens) {
        refresh_.emplace(e["h"].get<std::string>(), std::move(g));
      }
    }
  }
  refresh_store_.emplace(std::move(sealer));
  refresh_file_ = std::move(file);
  return OkStatus();
}

Status SmartAuthorizer::SaveRefreshLocked() const {
  if (!refresh_store_) return OkStatus();
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& [hash, g] : refresh_) {
    doc.push_back({{"h", hash},
                   {"client_id", g.client_id},
                   {"redirect_uri", g.redirect_uri},
                   {"username", g.username},
                   {"generation", g.generation},
                   {"scope", g.scope},
                   {"patient", g.patient},
                   {"expires_at", g.expires_at}});
  }
  return refresh_store_->Write(refresh_file_, doc.dump(), kRefreshAad);
}

Result<std::string> SmartAuthorizer::IdToken(const identity::User& user, const Grant& grant,
                                             const smart::ScopeSet& scopes, int64_t now) const {
  JwtClaims c;
  c.iss = config_.issuer;
  c.sub = user.username;  // what the access tokens name the user by; never a display name
  c.aud = grant.client_id;
  c.jti = crypto::RandomHex(16);
  c.iat = now;
  c.nbf = now;
  c.exp = now + config_.access_ttl_seconds;
  c.nonce = grant.nonce;
  // Narrow grants fhirUser only with a patient in context: the user's own Patient resource.
  if (scopes.fhir_user && !grant.patient.empty()) c.fhir_user = config_.fhir_base + "/Patient/" + grant.patient;
  return signer_.Sign(c);
}

JwtClaims AppAccessClaims(const std::string& issuer, const std::string& audience, const identity::User& user,
                          const std::string& client_id, int64_t now, int64_t ttl_seconds) {
  JwtClaims c;
  c.iss = issuer;
  c.aud = audience;
  c.sub = user.username;
  c.role = identity::RoleName(user.role);
  c.name = user.display_name;
  c.jti = crypto::RandomHex(16);
  c.gen = static_cast<int64_t>(user.token_generation);
  c.iat = now;
  c.nbf = now;
  c.exp = now + ttl_seconds;
  c.client_id = client_id;
  return c;
}

Result<TokenResponse> SmartAuthorizer::IssueLocked(const Grant& grant, int64_t now) {
  auto user = users_.GetUser(grant.username);
  if (!user.ok() || user->disabled || user->token_generation != grant.generation) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "the user's sessions have ended");
  }
  JwtClaims c =
      AppAccessClaims(config_.issuer, config_.audience, *user, grant.client_id, now, config_.access_ttl_seconds);
  c.scope = grant.scope;
  c.patient = grant.patient;
  TokenResponse out;
  ML_ASSIGN_OR_RETURN(out.access_token, signer_.Sign(c));
  out.expires_in = config_.access_ttl_seconds;
  out.scope = grant.scope;
  out.patient = grant.patient;
  ML_ASSIGN_OR_RETURN(auto scopes, smart::ParseScopes(grant.scope));
  if (scopes.openid) {
    ML_ASSIGN_OR_RETURN(out.id_token, IdToken(*user, grant, scopes, now));
  }
  if (scopes.offline_access) {
    std::optional<std::pair<std::string, Grant>> evicted;
    if (refresh_.size() >= config_.max_refresh_tokens) {
      // Full: the grant expiring soonest goes (its app signs the user in again).
      auto oldest = std::min_element(refresh_.begin(), refresh_.end(), [](const auto& a, const auto& b) {
        return a.second.expires_at < b.second.expires_at;
      });
      evicted.emplace(oldest->first, std::move(oldest->second));
      refresh_.erase(oldest);
    }
    out.refresh_token = Base64UrlEncode(crypto::RandomBytes(32));
    Grant next = grant;
    next.nonce.clear();
    next.expires_at = now + config_.refresh_ttl_seconds;
    auto [added, inserted] = refresh_.emplace(Hash(out.refresh_token), std::move(next));
    // Answered only once durable: a token the app holds must survive a restart.
    if (Status saved = SaveRefreshLocked(); !saved.ok()) {
      if (inserted) refresh_.erase(added);
      if (evicted) refresh_.emplace(std::move(evicted->first), std::move(evicted->second));
      return saved.error();
    }
  }
  return out;
}

Result<TokenResponse> SmartAuthorizer::ExchangeCode(const ClientCredentials& client, const std::string& code,
                                                    const std::string& redirect_uri, const std::string& code_verifier) {
  ML_ASSIGN_OR_RETURN(SmartApp app, AuthenticateClient(client));
  if (code.empty() || code.size() > 128)
    return OAuth(ErrorKind::kInvalidArgument, "invalid_request", "code is required");
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  PruneLocked(now);
  auto it = codes_.find(Hash(code));
  if (it == codes_.end()) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "the code is unknown, expired or already used");
  }
  // Spent by the first attempt, right or wrong: a guessed verifier gets one try.
  Grant grant = std::move(it->second);
  codes_.erase(it);
  if (grant.client_id != app.client_id) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "the code was issued to another client");
  }
  if (grant.redirect_uri != redirect_uri) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "redirect_uri differs from the authorization request");
  }
  if (!PkceMatches(code_verifier, grant.code_challenge)) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "code_verifier does not match the code_challenge");
  }
  return IssueLocked(grant, now);
}

Result<TokenResponse> SmartAuthorizer::Refresh(const ClientCredentials& client, const std::string& refresh_token,
                                               const std::string& scope) {
  ML_ASSIGN_OR_RETURN(SmartApp app, AuthenticateClient(client));
  if (refresh_token.empty() || refresh_token.size() > 128) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_request", "refresh_token is required");
  }
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  PruneLocked(now);
  auto it = refresh_.find(Hash(refresh_token));
  if (it == refresh_.end() || it->second.client_id != app.client_id) {
    return OAuth(ErrorKind::kInvalidArgument, "invalid_grant", "the refresh token is unknown or expired");
  }
  // Rotation: each refresh token works once. It is given back if the new one cannot be made durable, so a
  // full or failing disk costs the app a retry, not its sign-in.
  const std::string old_hash = it->first;
  Grant grant = std::move(it->second);
  const Grant old = grant;
  refresh_.erase(it);
  if (!scope.empty()) {
    // RFC 6749 6: a narrower scope may be asked for, never a wider one.
    ML_ASSIGN_OR_RETURN(auto asked, smart::ParseScopes(scope));
    ML_ASSIGN_OR_RETURN(auto had, smart::ParseScopes(grant.scope));
    smart::ScopeSet narrowed = smart::Narrow(asked, had, !grant.patient.empty());
    if (narrowed.resources.empty()) return OAuth(ErrorKind::kInvalidArgument, "invalid_scope", "no scope left");
    grant.scope = narrowed.ToString();
  }
  auto issued = IssueLocked(grant, now);
  if (!issued.ok() && (issued.error().kind == ErrorKind::kIoError || issued.error().kind == ErrorKind::kNoSpace)) {
    refresh_.emplace(old_hash, old);
  }
  return issued;
}

size_t SmartAuthorizer::pending_count() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

size_t SmartAuthorizer::code_count() const {
  std::lock_guard lock(mu_);
  return codes_.size();
}

}  // namespace medledger::auth
