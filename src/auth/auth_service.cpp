#include "auth/auth_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "identity/sealed_file.h"
#include "io/env.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;
constexpr std::string_view kSigningKeyAad = "medledger jwt signing key v1";
constexpr int kStoreVersion = 2;
constexpr size_t kSidHexChars = 32;
// A session refreshed every 15 min for 12 h spends 48 tokens; past this the oldest spent hashes are
// forgotten, and reusing one of those is refused as unknown instead of ending the session.
constexpr size_t kMaxSpentPerSession = 64;

std::string TokenHash(std::string_view token) {
  return HexEncode(crypto::Sha256(token));
}

std::string SpentKey(const std::string& token_hash) {
  return token_hash.substr(0, 32);  // 128 bits: collisions are not a concern at 64 per session
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Error BadRefresh() {
  return MakeError(ErrorKind::kUnauthenticated, "refresh_token_invalid", "the refresh token is invalid or expired");
}

Error Revoked() {
  return MakeError(ErrorKind::kUnauthenticated, "token_revoked", "the session has ended; sign in again");
}

Result<crypto::EcPrivateKey> LoadOrCreateSigningKey(const std::filesystem::path& file,
                                                    const identity::SealedFiles& sealer) {
  auto pem = sealer.Read(file, kSigningKeyAad);
  if (pem.ok()) return crypto::EcPrivateKey::FromPem(*pem);
  if (pem.error().code != "not_found") return pem.error();
  ML_ASSIGN_OR_RETURN(auto key, crypto::EcPrivateKey::Generate());
  ML_RETURN_IF_ERROR(sealer.Write(file, key.ToPem(), kSigningKeyAad));
  return key;
}

}  // namespace

AuthService::AuthService(std::filesystem::path tokens_file, io::Env* env, identity::UserDirectory& users,
                         AuthConfig config, JwtSigner signer)
    : tokens_file_(std::move(tokens_file)),
      env_(env),
      users_(users),
      config_(std::move(config)),
      signer_(std::move(signer)),
      verifier_(JwtVerifyOptions{config_.issuer, config_.audience}),
      throttle_(config_.login_throttle) {
  verifier_.AddKey(signer_.kid(), signer_.public_key());
}

AuthService::~AuthService() = default;

int64_t AuthService::Now() const {
  return config_.clock ? config_.clock() : Timestamp::Now().seconds;
}

LoginThrottle::Clock::time_point AuthService::ThrottleNow() const {
  // The throttle only measures intervals, so the injected clock's seconds serve as its time line.
  if (config_.clock) return LoginThrottle::Clock::time_point(std::chrono::seconds(config_.clock()));
  return LoginThrottle::Clock::now();
}

Result<std::unique_ptr<AuthService>> AuthService::Open(const std::filesystem::path& state_dir,
                                                       const identity::MasterKey& master_key,
                                                       identity::UserDirectory& users, AuthConfig config,
                                                       io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  ML_RETURN_IF_ERROR(env->CreateDirs(state_dir));  // 0700, as every data directory
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "jwt-signing-key", env));
  ML_ASSIGN_OR_RETURN(auto key, LoadOrCreateSigningKey(state_dir / "jwt-signing-key.sealed", sealer));
  std::unique_ptr<AuthService> svc(
      new AuthService(state_dir / "refresh-tokens.json", env, users, std::move(config), JwtSigner(std::move(key))));
  ML_RETURN_IF_ERROR(svc->Load());
  return svc;
}

Status AuthService::Load() {
  auto existing = io::ReadFile(*env_, tokens_file_);
  if (!existing.ok()) return existing.error().code == "not_found" ? OkStatus() : Status(existing.error());
  json j = json::parse(*existing, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(ErrorKind::kCorruption, "refresh_store_corrupt", "refresh-token store is not JSON");
  }
  // A store from before sessions (a flat hash -> record map) has no version: its tokens carry no session
  // and no epoch, so they are dropped and their holders sign in again.
  if (!j.contains("version")) return OkStatus();
  if (!j["version"].is_number_integer() || j["version"].get<int64_t>() != kStoreVersion) {
    return MakeError(ErrorKind::kCorruption, "refresh_store_corrupt", "refresh-token store has an unknown version");
  }
  const int64_t now = Now();
  if (auto sessions = j.find("sessions"); sessions != j.end() && sessions->is_object()) {
    for (const auto& [sid, rec] : sessions->items()) {
      if (!rec.is_object() || sid.size() != kSidHexChars || !IsHex(sid)) continue;
      Session s;
      try {
        s.username = rec.at("u").get<std::string>();
        s.generation = rec.at("g").get<uint64_t>();
        s.started_at = rec.at("s").get<int64_t>();
        s.expires_at = rec.at("e").get<int64_t>();
        s.current = rec.at("c").get<std::string>();
        s.current_expires_at = rec.at("ce").get<int64_t>();
        for (const auto& h : rec.at("spent")) s.spent.push_back(h.get<std::string>());
      } catch (const json::exception&) {
        return MakeError(ErrorKind::kCorruption, "refresh_store_corrupt", "refresh-token store has a bad session");
      }
      if (s.EndsAt() > now) sessions_.emplace(sid, std::move(s));
    }
  }
  if (auto revoked = j.find("revoked_tokens"); revoked != j.end() && revoked->is_object()) {
    for (const auto& [jti, exp] : revoked->items()) {
      if (exp.is_number_integer() && exp.get<int64_t>() > now) revoked_tokens_.emplace(jti, exp.get<int64_t>());
    }
  }
  return OkStatus();
}

void AuthService::SetPatientResolver(std::function<std::optional<std::string>(std::string_view)> resolver) {
  patient_resolver_ = std::move(resolver);
}

Status AuthService::PersistLocked() const {
  json sessions = json::object();
  for (const auto& [sid, s] : sessions_) {
    sessions[sid] = {{"u", s.username}, {"g", s.generation},          {"s", s.started_at},     {"e", s.expires_at},
                     {"c", s.current},  {"ce", s.current_expires_at}, {"spent", json(s.spent)}};
  }
  json revoked = json::object();
  for (const auto& [jti, exp] : revoked_tokens_) revoked[jti] = exp;
  json j = {{"version", kStoreVersion}, {"sessions", std::move(sessions)}, {"revoked_tokens", std::move(revoked)}};
  return io::WriteFileAtomic(*env_, tokens_file_, j.dump());
}

void AuthService::PruneLocked(int64_t now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.EndsAt() <= now ? sessions_.erase(it) : std::next(it);
  }
  // Past its exp (and the verifier's leeway) a token is refused anyway: its revocation can go.
  const int64_t leeway = verifier_.options().leeway_seconds;
  for (auto it = revoked_tokens_.begin(); it != revoked_tokens_.end();) {
    it = it->second + leeway < now ? revoked_tokens_.erase(it) : std::next(it);
  }
}

void AuthService::MakeRoomLocked(std::string_view username) {
  auto oldest_of = [this](auto&& pred) {
    auto oldest = sessions_.end();
    size_t count = 0;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (!pred(it->second)) continue;
      ++count;
      if (oldest == sessions_.end() || it->second.started_at < oldest->second.started_at) oldest = it;
    }
    return std::pair{oldest, count};
  };
  // Ending a session removes it, and with it every access token naming it.
  if (auto [oldest, n] = oldest_of([&](const Session& s) { return s.username == username; });
      n >= config_.max_sessions_per_user && oldest != sessions_.end()) {
    sessions_.erase(oldest);
  }
  if (!sessions_.empty() && sessions_.size() >= config_.max_sessions) {
    sessions_.erase(oldest_of([](const Session&) { return true; }).first);
  }
}

void AuthService::RevokeTokenLocked(const std::string& jti, int64_t exp) {
  if (jti.empty()) return;
  if (!revoked_tokens_.empty() && revoked_tokens_.size() >= config_.max_revoked_tokens &&
      revoked_tokens_.count(jti) == 0) {
    // Full of live revocations: the one expiring soonest goes. Its token's session has ended too, so only
    // a token without a session (issued before sessions existed) could come back, for what is left of its
    // 15 minutes.
    revoked_tokens_.erase(std::min_element(revoked_tokens_.begin(), revoked_tokens_.end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
  revoked_tokens_[jti] = exp;
}

Result<TokenPair> AuthService::IssueLocked(const identity::User& user, const std::string& sid, Session& session,
                                           int64_t now) {
  TokenPair pair;
  pair.refresh_token = sid + "." + Base64UrlEncode(crypto::RandomBytes(32));
  session.current = TokenHash(pair.refresh_token);
  session.current_expires_at = std::min(now + config_.refresh_ttl_seconds, session.expires_at);
  JwtClaims c;
  c.iss = config_.issuer;
  c.aud = config_.audience;
  c.sub = user.username;
  c.role = identity::RoleName(user.role);
  c.name = user.display_name;
  c.jti = crypto::RandomHex(16);
  c.sid = sid;
  c.gen = static_cast<int64_t>(session.generation);
  c.iat = now;
  c.nbf = now;
  // Never past the session's end: the absolute lifetime holds for access tokens as well.
  c.exp = std::min(now + config_.access_ttl_seconds, session.EndsAt());
  ML_ASSIGN_OR_RETURN(pair.access_token, signer_.Sign(c));
  pair.expires_in = c.exp - now;
  pair.user = user;
  return pair;
}

Result<TokenPair> AuthService::StartSession(const identity::User& user) {
  const int64_t now = Now();
  std::string sid = crypto::RandomHex(kSidHexChars / 2);
  std::unique_lock lock(mu_);
  PruneLocked(now);
  MakeRoomLocked(user.username);
  Session s;
  s.username = user.username;
  s.generation = user.token_generation;
  s.started_at = now;
  s.expires_at = now + config_.session_lifetime_seconds;
  auto& session = sessions_.emplace(sid, std::move(s)).first->second;
  auto pair = IssueLocked(user, sid, session, now);
  if (!pair.ok()) {
    sessions_.erase(sid);
    return pair.error();
  }
  ML_RETURN_IF_ERROR(PersistLocked());
  return pair;
}

Result<TokenPair> AuthService::Login(std::string_view username, std::string_view password,
                                     std::string_view remote_address, int64_t* retry_after) {
  const auto throttle_now = ThrottleNow();
  auto decision = throttle_.Begin(username, remote_address, throttle_now);
  if (decision.retry_after != 0) {
    if (retry_after) *retry_after = decision.retry_after;
    return MakeError(ErrorKind::kResourceExhausted, "too_many_attempts", "too many sign-in attempts; retry later");
  }
  auto user = users_.VerifyPassword(username, password);
  if (!user.ok()) {
    return MakeError(ErrorKind::kUnauthenticated, "invalid_credentials", "wrong username or password");
  }
  throttle_.Succeeded(username, remote_address, decision, throttle_now);
  return StartSession(*user);
}

Result<TokenPair> AuthService::LoginExternal(const ExternalIdentity& who) {
  auto user = users_.GetUser(who.username);
  if (!user.ok()) {
    return MakeError(ErrorKind::kPermissionDenied, "oidc_user_unknown",
                     "no enrolled medledger user matches this sign-in; ask an administrator to enroll you");
  }
  if (user->disabled) return MakeError(ErrorKind::kUnauthenticated, "user_disabled", "this account is disabled");
  // The provider vouches for the person, the organisation for the ledger identity: both must agree.
  if (user->role != who.role) {
    return MakeError(ErrorKind::kPermissionDenied, "oidc_role_mismatch",
                     "the provider's role for this user differs from the enrolled role");
  }
  return StartSession(*user);
}

Result<TokenPair> AuthService::Refresh(std::string_view refresh_token) {
  if (refresh_token.empty() || refresh_token.size() > 128) return BadRefresh();
  auto dot = refresh_token.find('.');
  if (dot != kSidHexChars || !IsHex(refresh_token.substr(0, dot))) return BadRefresh();
  const std::string sid(refresh_token.substr(0, dot));
  const std::string hash = TokenHash(refresh_token);
  const int64_t now = Now();
  std::unique_lock lock(mu_);
  PruneLocked(now);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return BadRefresh();
  Session& session = it->second;
  if (hash != session.current) {
    // Knowing a session id alone ends nothing: only a token this session really issued does.
    const std::string spent = SpentKey(hash);
    if (std::find(session.spent.begin(), session.spent.end(), spent) == session.spent.end()) return BadRefresh();
    // A spent token again: the chain was copied. Which holder is legitimate cannot be told, so neither
    // keeps it; ending the session also refuses the access tokens it issued.
    sessions_.erase(it);
    ML_RETURN_IF_ERROR(PersistLocked());
    return BadRefresh();
  }
  // The directory is re-read if another process (the CLI) changed it.
  auto user = users_.GetUser(session.username);
  if (!user.ok() || user->disabled || user->token_generation != session.generation) {
    sessions_.erase(it);
    ML_RETURN_IF_ERROR(PersistLocked());
    return BadRefresh();
  }
  session.spent.push_back(SpentKey(session.current));
  while (session.spent.size() > kMaxSpentPerSession) session.spent.pop_front();
  ML_ASSIGN_OR_RETURN(auto pair, IssueLocked(*user, sid, session, now));
  ML_RETURN_IF_ERROR(PersistLocked());
  return pair;
}

Status AuthService::Logout(const Principal& caller, std::string_view refresh_token) {
  const int64_t now = Now();
  std::unique_lock lock(mu_);
  PruneLocked(now);
  RevokeTokenLocked(caller.token_id, caller.token_expires_at);
  if (!caller.session_id.empty()) sessions_.erase(caller.session_id);
  auto dot = refresh_token.find('.');
  if (dot == kSidHexChars) {
    auto it = sessions_.find(refresh_token.substr(0, dot));
    // Only the token's real holder ends a session with it (logging out twice is not an error).
    if (it != sessions_.end() && it->second.current == TokenHash(refresh_token)) sessions_.erase(it);
  }
  return PersistLocked();
}

Result<Principal> AuthService::PrincipalFor(const identity::User& user, const JwtClaims& claims) const {
  if (user.disabled) return MakeError(ErrorKind::kUnauthenticated, "user_disabled", "the account is disabled");
  Principal p;
  p.username = user.username;
  p.role = user.role;
  p.display_name = user.display_name;
  p.token_id = claims.jti;
  p.session_id = claims.sid;
  p.token_expires_at = claims.exp;
  p.client_id = claims.client_id;
  p.scope = claims.scope;
  p.launch_patient = claims.patient;
  if (user.role == identity::Role::kPatient && patient_resolver_) p.patient_id = patient_resolver_(user.username);
  return p;
}

Result<Principal> AuthService::Authenticate(std::string_view access_token) const {
  const int64_t now = Now();
  // The cache answers for the signature and the lifetime only; whether the token still counts is decided
  // below, on every request.
  ML_ASSIGN_OR_RETURN(auto claims, verified_tokens_.Verify(access_token, now));
  {
    std::shared_lock lock(mu_);
    if (!claims.jti.empty() && revoked_tokens_.count(claims.jti) != 0) return Revoked();
    // Tokens issued before sessions existed have no sid; the epoch check still applies to them.
    if (!claims.sid.empty()) {
      auto it = sessions_.find(claims.sid);
      if (it == sessions_.end() || it->second.username != claims.sub) return Revoked();
    }
  }
  // Re-read if another process (the CLI) changed the directory since, so its changes count at once.
  auto user = users_.GetUser(claims.sub);
  if (!user.ok()) return MakeError(ErrorKind::kUnauthenticated, "token_invalid", "unknown subject");
  if (claims.gen < 0 || static_cast<uint64_t>(claims.gen) != user->token_generation) return Revoked();
  // The role is the directory's, not the token's: a role change takes effect at once.
  return PrincipalFor(*user, claims);
}

size_t AuthService::session_count() const {
  std::shared_lock lock(mu_);
  return sessions_.size();
}

size_t AuthService::revoked_token_count() const {
  std::shared_lock lock(mu_);
  return revoked_tokens_.size();
}

std::string AuthService::OpenIdConfigurationJson() const {
  json j = {{"issuer", config_.issuer},
            {"jwks_uri", config_.issuer + "/.well-known/jwks.json"},
            {"token_endpoint", config_.issuer + "/api/v1/auth/login"},
            {"response_types_supported", json::array({"token"})},
            {"subject_types_supported", json::array({"public"})},
            {"id_token_signing_alg_values_supported", json::array({"ES256"})},
            // nonce and fhirUser: the ID tokens of SMART apps granted openid / fhirUser (smart_auth.h).
            {"claims_supported",
             json::array({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "role", "name", "nonce", "fhirUser"})}};
  return j.dump();
}

}  // namespace medledger::auth
