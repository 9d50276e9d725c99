#include "service/auth_service.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/private_dir.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "service/sealed_file.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
constexpr std::string_view kSigningKeyAad = "medledger jwt signing key v1";

std::string TokenHash(std::string_view token) {
  return HexEncode(crypto::Sha256(token));
}

Error BadRefresh() {
  return MakeError(ErrorKind::kUnauthenticated, "refresh_token_invalid", "the refresh token is invalid or expired");
}

Result<crypto::EcPrivateKey> LoadOrCreateSigningKey(const std::filesystem::path& file, const SealedFiles& sealer) {
  auto pem = sealer.Read(file, kSigningKeyAad);
  if (pem.ok()) return crypto::EcPrivateKey::FromPem(*pem);
  if (pem.error().code != "not_found") return pem.error();
  ML_ASSIGN_OR_RETURN(auto key, crypto::EcPrivateKey::Generate());
  ML_RETURN_IF_ERROR(sealer.Write(file, key.ToPem(), kSigningKeyAad));
  return key;
}

}  // namespace

AuthService::AuthService(std::filesystem::path tokens_file, identity::UserDirectory& users, AuthConfig config,
                         JwtSigner signer)
    : tokens_file_(std::move(tokens_file)),
      users_(users),
      config_(std::move(config)),
      signer_(std::move(signer)),
      verifier_(JwtVerifyOptions{config_.issuer, config_.audience}),
      user_limiter_(config_.per_user),
      address_limiter_(config_.per_address) {
  verifier_.AddKey(signer_.kid(), signer_.public_key());
}

AuthService::~AuthService() = default;

Result<std::unique_ptr<AuthService>> AuthService::Open(const std::filesystem::path& state_dir,
                                                       const identity::MasterKey& master_key,
                                                       identity::UserDirectory& users, AuthConfig config) {
  ML_RETURN_IF_ERROR(CreatePrivateDirectories(state_dir));
  ML_ASSIGN_OR_RETURN(auto sealer, SealedFiles::Create(master_key, "jwt-signing-key"));
  ML_ASSIGN_OR_RETURN(auto key, LoadOrCreateSigningKey(state_dir / "jwt-signing-key.sealed", sealer));
  std::unique_ptr<AuthService> svc(
      new AuthService(state_dir / "refresh-tokens.json", users, std::move(config), JwtSigner(std::move(key))));
  auto existing = ReadWholeFile(svc->tokens_file_);
  if (existing.ok()) {
    json j = json::parse(*existing, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return MakeError(ErrorKind::kCorruption, "refresh_store_corrupt", "refresh-token store is not JSON");
    }
    int64_t now = Timestamp::Now().seconds;
    for (auto& [hash, rec] : j.items()) {
      if (!rec.is_object() || !rec["u"].is_string() || !rec["e"].is_number_integer()) continue;
      if (rec["e"].get<int64_t>() <= now) continue;
      svc->refresh_[hash] = RefreshRecord{rec["u"].get<std::string>(), rec["e"].get<int64_t>()};
    }
  } else if (existing.error().code != "not_found") {
    return existing.error();
  }
  return svc;
}

void AuthService::SetPatientResolver(std::function<std::optional<std::string>(std::string_view)> resolver) {
  patient_resolver_ = std::move(resolver);
}

Status AuthService::PersistLocked() const {
  json j = json::object();
  for (const auto& [hash, rec] : refresh_) j[hash] = {{"u", rec.username}, {"e", rec.expires_at}};
  return WriteFileAtomically(tokens_file_, j.dump());
}

Result<TokenPair> AuthService::Issue(const identity::User& user) {
  int64_t now = Timestamp::Now().seconds;
  JwtClaims c;
  c.iss = config_.issuer;
  c.aud = config_.audience;
  c.sub = user.username;
  c.role = identity::RoleName(user.role);
  c.name = user.display_name;
  c.jti = crypto::RandomHex(16);
  c.iat = now;
  c.nbf = now;
  c.exp = now + config_.access_ttl_seconds;
  TokenPair pair;
  ML_ASSIGN_OR_RETURN(pair.access_token, signer_.Sign(c));
  pair.refresh_token = Base64UrlEncode(crypto::RandomBytes(32));
  pair.expires_in = config_.access_ttl_seconds;
  pair.user = user;
  std::lock_guard lock(mu_);
  for (auto it = refresh_.begin(); it != refresh_.end();) {
    it = it->second.expires_at <= now ? refresh_.erase(it) : std::next(it);
  }
  refresh_[TokenHash(pair.refresh_token)] = RefreshRecord{user.username, now + config_.refresh_ttl_seconds};
  ML_RETURN_IF_ERROR(PersistLocked());
  return pair;
}

Result<TokenPair> AuthService::Login(std::string_view username, std::string_view password,
                                     std::string_view remote_address, int64_t* retry_after) {
  // Address first: a sprayer cycling usernames is stopped without touching anyone's bucket.
  int64_t wait = address_limiter_.Acquire(remote_address);
  if (wait == 0) {
    wait = user_limiter_.Acquire(username);
    if (wait != 0) address_limiter_.Refund(remote_address);
  }
  if (wait != 0) {
    if (retry_after) *retry_after = wait;
    return MakeError(ErrorKind::kResourceExhausted, "too_many_attempts", "too many sign-in attempts; retry later");
  }
  auto user = users_.VerifyPassword(username, password);
  if (!user.ok()) {
    return MakeError(ErrorKind::kUnauthenticated, "invalid_credentials", "wrong username or password");
  }
  user_limiter_.Refund(username);
  return Issue(*user);
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
  return Issue(*user);
}

Result<TokenPair> AuthService::Refresh(std::string_view refresh_token) {
  if (refresh_token.empty() || refresh_token.size() > 128) return BadRefresh();
  std::string username;
  {
    std::lock_guard lock(mu_);
    auto it = refresh_.find(TokenHash(refresh_token));
    if (it == refresh_.end()) return BadRefresh();
    bool expired = it->second.expires_at <= Timestamp::Now().seconds;
    username = it->second.username;
    refresh_.erase(it);  // spent either way: rotation
    ML_RETURN_IF_ERROR(PersistLocked());
    if (expired) return BadRefresh();
  }
  auto user = users_.GetUser(username);
  if (!user.ok() || user->disabled) return BadRefresh();
  return Issue(*user);
}

Status AuthService::Logout(std::string_view refresh_token) {
  std::lock_guard lock(mu_);
  auto it = refresh_.find(TokenHash(refresh_token));
  if (it == refresh_.end()) return OkStatus();  // logging out twice is not an error
  refresh_.erase(it);
  return PersistLocked();
}

Result<Principal> AuthService::PrincipalFor(const identity::User& user, std::string jti) const {
  if (user.disabled) return MakeError(ErrorKind::kUnauthenticated, "user_disabled", "the account is disabled");
  Principal p;
  p.username = user.username;
  p.role = user.role;
  p.display_name = user.display_name;
  p.token_id = std::move(jti);
  if (user.role == identity::Role::kPatient && patient_resolver_) p.patient_id = patient_resolver_(user.username);
  return p;
}

Result<Principal> AuthService::Authenticate(std::string_view access_token) const {
  ML_ASSIGN_OR_RETURN(auto claims, verified_tokens_.Verify(access_token, Timestamp::Now().seconds));
  auto user = users_.GetUser(claims.sub);
  if (!user.ok()) return MakeError(ErrorKind::kUnauthenticated, "token_invalid", "unknown subject");
  // The role is the directory's, not the token's: a role change takes effect at once.
  return PrincipalFor(*user, claims.jti);
}

std::string AuthService::OpenIdConfigurationJson() const {
  json j = {{"issuer", config_.issuer},
            {"jwks_uri", config_.issuer + "/.well-known/jwks.json"},
            {"token_endpoint", config_.issuer + "/api/v1/auth/login"},
            {"response_types_supported", json::array({"token"})},
            {"subject_types_supported", json::array({"public"})},
            {"id_token_signing_alg_values_supported", json::array({"ES256"})},
            {"claims_supported", json::array({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "role", "name"})}};
  return j.dump();
}

}  // namespace medledger::service
