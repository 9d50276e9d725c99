#include "auth/jwt.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "crypto/hash.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;

Error Invalid(std::string message) {
  return MakeError(ErrorKind::kUnauthenticated, "token_invalid", std::move(message));
}

Result<json> ParseSegment(std::string_view segment, const char* what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) return Invalid(std::string("bad base64url in ") + what);
  // A repeated claim or header member could be read two ways (RFC 7519 section 4 lets a parser refuse it).
  auto j = ParseStrictJson(*bytes);
  if (!j.ok()) return Invalid(std::string("the ") + what + " is not strict JSON: " + j.error().code);
  if (!j->is_object()) return Invalid(std::string("the ") + what + " is not a JSON object");
  return std::move(*j);
}

Result<std::string> StringClaim(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return Invalid(std::string("missing claim ") + name);
    return std::string();
  }
  if (!it->is_string()) return Invalid(std::string("claim ") + name + " is not a string");
  return it->get<std::string>();
}

Result<int64_t> TimeClaim(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return Invalid(std::string("missing claim ") + name);
    return int64_t{0};
  }
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    return Invalid(std::string("claim ") + name + " is not an integer");
  }
  return it->get<int64_t>();
}

}  // namespace

std::string JwkThumbprint(const crypto::EcPublicKey& key) {
  std::string point = key.UncompressedPoint();
  // RFC 7638: members in lexicographic order, no whitespace.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + Base64UrlEncode(point.substr(1, 32)) + R"(","y":")" +
                          Base64UrlEncode(point.substr(33, 32)) + R"("})";
  return Base64UrlEncode(crypto::Sha256(canonical));
}

std::string PublicJwkJson(const crypto::EcPublicKey& key, std::string_view kid) {
  std::string point = key.UncompressedPoint();
  json j = {{"kty", "EC"},
            {"crv", "P-256"},
            {"x", Base64UrlEncode(point.substr(1, 32))},
            {"y", Base64UrlEncode(point.substr(33, 32))},
            {"kid", kid},
            {"use", "sig"},
            {"alg", "ES256"}};
  return j.dump();
}

JwtSigner::JwtSigner(crypto::EcPrivateKey key)
    : key_(std::move(key)), public_(key_.PublicKey()), kid_(JwkThumbprint(public_)) {}

Result<std::string> JwtSigner::Sign(const JwtClaims& c) const {
  json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}};
  json payload = {{"iss", c.iss}, {"sub", c.sub}, {"aud", c.aud}, {"jti", c.jti},
                  {"iat", c.iat}, {"nbf", c.nbf}, {"exp", c.exp}};
  if (!c.role.empty()) payload["role"] = c.role;
  if (!c.name.empty()) payload["name"] = c.name;
  if (!c.sid.empty()) payload["sid"] = c.sid;
  if (c.gen != 0) payload["gen"] = c.gen;
  if (!c.client_id.empty()) payload["client_id"] = c.client_id;
  if (!c.scope.empty()) payload["scope"] = c.scope;
  if (!c.patient.empty()) payload["patient"] = c.patient;
  if (!c.nonce.empty()) payload["nonce"] = c.nonce;
  if (!c.fhir_user.empty()) payload["fhirUser"] = c.fhir_user;
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  ML_ASSIGN_OR_RETURN(auto der, key_.Sign(signing_input));
  ML_ASSIGN_OR_RETURN(auto raw, crypto::DerSignatureToRaw(der));
  return signing_input + "." + Base64UrlEncode(raw);
}

std::string JwtSigner::JwksJson() const {
  return R"({"keys":[)" + PublicJwkJson(public_, kid_) + "]}";
}

Result<std::string> JwtVerifier::PeekKid(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > kMaxTokenBytes) return Invalid("malformed token");
  ML_ASSIGN_OR_RETURN(auto header, ParseSegment(token.substr(0, dot), "header"));
  return StringClaim(header, "kid", true);
}

Result<JwtClaims> JwtVerifier::Verify(std::string_view token, int64_t now) const {
  if (token.size() > options_.max_token_bytes) return Invalid("token too large");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Invalid("a JWS compact token has exactly three parts");
  }
  std::string_view header_b64 = token.substr(0, d1);
  std::string_view payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  std::string_view sig_b64 = token.substr(d2 + 1);
  if (header_b64.empty() || payload_b64.empty() || sig_b64.empty()) return Invalid("empty token part");

  ML_ASSIGN_OR_RETURN(auto header, ParseSegment(header_b64, "header"));
  ML_ASSIGN_OR_RETURN(auto alg, StringClaim(header, "alg", true));
  // Only the configured algorithms: "none", HS256 (keyed with a public key) and the rest are refused outright.
  const auto& algs = options_.algorithms;
  if (std::find(algs.begin(), algs.end(), alg) == algs.end()) return Invalid("unsupported alg");
  for (const char* banned : {"jwk", "jku", "x5u", "x5c", "crit"}) {
    if (header.contains(banned)) return Invalid(std::string("header parameter not accepted: ") + banned);
  }
  ML_ASSIGN_OR_RETURN(auto kid, StringClaim(header, "kid", true));
  auto entry = keys_.find(kid);
  if (entry == keys_.end()) return Invalid("unknown key id");
  const VerificationKey& key = entry->second;
  if (!key.alg.empty() && key.alg != alg) return Invalid("the key is not for " + alg);

  auto sig = Base64UrlDecode(sig_b64);
  if (!sig.ok()) return Invalid("bad signature encoding");
  std::string signing_input(token.substr(0, d2));
  if (alg == "ES256") {
    const auto* ec = std::get_if<crypto::EcPublicKey>(&key.key);
    if (ec == nullptr) return Invalid("the key is not an EC key");
    if (sig->size() != 64) return Invalid("ES256 signatures are 64 bytes");
    auto der = crypto::RawSignatureToDer(*sig);
    if (!der.ok()) return Invalid("bad signature encoding");
    // The signature must verify as given; a high-S twin of a valid signature is refused (no malleability).
    if (options_.require_low_s && !crypto::IsLowS(*der)) return Invalid("bad signature");
    // (r, n - s) verifies exactly when (r, s) does; the crypto layer takes only the low-S form.
    auto low = crypto::NormalizeLowS(*der);
    if (!low.ok() || !ec->Verify(signing_input, *low)) return Invalid("bad signature");
  } else if (alg == "RS256" || alg == "PS256") {
    const auto* rsa = std::get_if<crypto::RsaPublicKey>(&key.key);
    if (rsa == nullptr) return Invalid("the key is not an RSA key");
    const auto padding =
        alg == "PS256" ? crypto::RsaPublicKey::Padding::kPss : crypto::RsaPublicKey::Padding::kPkcs1v15;
    if (!rsa->VerifySha256(signing_input, *sig, padding)) return Invalid("bad signature");
  } else {
    return Invalid("unsupported alg");  // configured, but not an algorithm this verifier implements
  }

  ML_ASSIGN_OR_RETURN(auto payload, ParseSegment(payload_b64, "payload"));
  JwtClaims c;
  ML_ASSIGN_OR_RETURN(c.iss, StringClaim(payload, "iss", true));
  ML_ASSIGN_OR_RETURN(c.sub, StringClaim(payload, "sub", true));
  ML_ASSIGN_OR_RETURN(c.jti, StringClaim(payload, "jti", false));
  ML_ASSIGN_OR_RETURN(c.role, StringClaim(payload, "role", false));
  ML_ASSIGN_OR_RETURN(c.name, StringClaim(payload, "name", false));
  // Read only as the built-in issuer writes them: an external provider's own "sid" or "gen" of another
  // type must not make its ID tokens unverifiable, and nothing but AuthService gives them meaning.
  if (auto it = payload.find("sid"); it != payload.end() && it->is_string()) c.sid = it->get<std::string>();
  if (auto it = payload.find("gen"); it != payload.end() && it->is_number_integer()) c.gen = it->get<int64_t>();
  for (auto [name, out] : {std::pair{"client_id", &c.client_id},
                           {"scope", &c.scope},
                           {"patient", &c.patient},
                           {"nonce", &c.nonce},
                           {"fhirUser", &c.fhir_user}}) {
    if (auto it = payload.find(name); it != payload.end() && it->is_string()) *out = it->get<std::string>();
  }
  ML_ASSIGN_OR_RETURN(c.exp, TimeClaim(payload, "exp", true));
  ML_ASSIGN_OR_RETURN(c.iat, TimeClaim(payload, "iat", false));
  ML_ASSIGN_OR_RETURN(c.nbf, TimeClaim(payload, "nbf", false));
  if (c.iss != options_.issuer) return Invalid("wrong issuer");
  auto aud = payload.find("aud");
  bool aud_ok = false;
  if (aud != payload.end() && aud->is_string()) {
    aud_ok = aud->get<std::string>() == options_.audience;
  } else if (aud != payload.end() && aud->is_array()) {
    for (const auto& a : *aud) aud_ok = aud_ok || (a.is_string() && a.get<std::string>() == options_.audience);
  }
  if (!aud_ok) return Invalid("wrong audience");
  c.aud = options_.audience;
  if (c.sub.empty()) return Invalid("empty subject");
  ML_RETURN_IF_ERROR(CheckLifetime(c, now));
  c.raw_payload = payload.dump();
  return c;
}

Status JwtVerifier::CheckLifetime(const JwtClaims& c, int64_t now) const {
  // now - leeway, not exp + leeway: exp is the token's and may be near INT64_MAX.
  if (now - options_.leeway_seconds >= c.exp) {
    return MakeError(ErrorKind::kUnauthenticated, "token_expired", "the access token has expired");
  }
  if (now + options_.leeway_seconds < c.nbf) return Invalid("token not yet valid");
  if (now + options_.leeway_seconds < c.iat) return Invalid("token issued in the future");
  return OkStatus();
}

Result<std::vector<std::pair<std::string, VerificationKey>>> ParseJwks(std::string_view jwks_json) {
  auto parsed = ParseStrictJson(jwks_json);
  json j = parsed.ok() ? std::move(*parsed) : json();
  if (!parsed.ok() || !j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
    return MakeError(ErrorKind::kInvalidArgument, "jwks_invalid", "not a JWKS document");
  }
  std::vector<std::pair<std::string, VerificationKey>> out;
  // json::value() throws on a member of the wrong type; a hostile JWKS must not.
  auto str = [](const json& obj, const char* name) {
    auto it = obj.find(name);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& k : j["keys"]) {
    if (!k.is_object()) continue;
    if (k.contains("use") && str(k, "use") != "sig") continue;
    const std::string kty = str(k, "kty");
    const std::string alg = str(k, "alg");
    if (k.contains("alg") && alg.empty()) continue;
    std::string kid = str(k, "kid");
    if (kty == "EC") {
      if (str(k, "crv") != "P-256" || (!alg.empty() && alg != "ES256")) continue;
      auto x = Base64UrlDecode(str(k, "x"));
      auto y = Base64UrlDecode(str(k, "y"));
      if (!x.ok() || !y.ok() || x->size() != 32 || y->size() != 32) continue;
      auto key = crypto::EcPublicKey::FromUncompressedPoint(std::string("\x04", 1) + *x + *y);
      if (!key.ok()) continue;
      if (kid.empty()) kid = JwkThumbprint(*key);
      out.emplace_back(std::move(kid), VerificationKey{std::move(*key), alg});
    } else if (kty == "RSA") {
      if (!alg.empty() && alg != "RS256" && alg != "PS256") continue;
      const std::string n_b64 = str(k, "n");
      const std::string e_b64 = str(k, "e");
      auto n = Base64UrlDecode(n_b64);
      auto e = Base64UrlDecode(e_b64);
      if (!n.ok() || !e.ok()) continue;
      auto key = crypto::RsaPublicKey::FromComponents(*n, *e);
      if (!key.ok()) continue;
      if (kid.empty()) {
        // RFC 7638 section 3.2: required members in lexicographic order.
        kid = Base64UrlEncode(crypto::Sha256(R"({"e":")" + e_b64 + R"(","kty":"RSA","n":")" + n_b64 + R"("})"));
      }
      out.emplace_back(std::move(kid), VerificationKey{std::move(*key), alg});
    }
  }
  return out;
}

}  // namespace medledger::auth
