#include "auth/client_assertion.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "common/time.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;

Error Invalid(const std::string& message) {
  return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "jwks: " + message);
}

Error BadClient(std::string message) {
  return MakeError(ErrorKind::kUnauthenticated, "invalid_client", std::move(message));
}

Result<std::string> B64Member(const json& jwk, const char* name, const std::string& which) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return Invalid(which + " has no \"" + name + "\"");
  auto bytes = Base64UrlDecode(it->get<std::string>());
  if (!bytes.ok()) return Invalid(which + "'s \"" + name + "\" is not base64url");
  return *bytes;
}

struct ParsedKey {
  ClientKey key;
  json canonical;
};

Result<std::vector<ParsedKey>> ParseKeys(std::string_view jwks_json) {
  if (jwks_json.empty() || jwks_json.size() > kMaxClientJwksBytes) return Invalid("1 byte to 16 KiB of JSON");
  json doc = json::parse(jwks_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Invalid("a JSON Web Key Set {\"keys\":[...]}");
  }
  const auto& keys = doc["keys"];
  if (keys.empty() || keys.size() > kMaxClientKeys) return Invalid("1 to 5 keys");
  std::vector<ParsedKey> out;
  std::set<std::string> kids;
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& jwk = keys[i];
    std::string which = "key " + std::to_string(i + 1);
    if (!jwk.is_object()) return Invalid(which + " is not an object");
    // A private member means the client pasted its private key: refuse rather than store it.
    for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
      if (jwk.contains(priv)) return Invalid(which + " contains private key material (\"" + priv + "\")");
    }
    const std::string kty = jwk.value("kty", "");
    std::string kid;
    if (auto k = jwk.find("kid"); k != jwk.end()) {
      if (!k->is_string() || k->get<std::string>().empty() || k->get<std::string>().size() > 128) {
        return Invalid(which + "'s kid: 1 to 128 characters");
      }
      kid = k->get<std::string>();
    }
    if (!kids.insert(kid).second) return Invalid(which + " repeats kid \"" + kid + "\"");
    if (auto u = jwk.find("use"); u != jwk.end() && *u != "sig") return Invalid(which + "'s use must be sig");
    if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
      if (!ops->is_array() || std::find(ops->begin(), ops->end(), "verify") == ops->end()) {
        return Invalid(which + "'s key_ops must include verify");
      }
    }
    json canonical = {{"kty", kty}};
    Result<crypto::JwsClientKey> key = Invalid(which + ": kty must be EC (P-384, ES384) or RSA (RS384)");
    if (kty == "EC") {
      if (jwk.value("crv", "") != "P-384") return Invalid(which + ": an EC key must be on P-384 (ES384)");
      ML_ASSIGN_OR_RETURN(std::string x, B64Member(jwk, "x", which));
      ML_ASSIGN_OR_RETURN(std::string y, B64Member(jwk, "y", which));
      key = crypto::JwsClientKey::FromEcP384(x, y);
      canonical["crv"] = "P-384";
      canonical["x"] = jwk["x"];
      canonical["y"] = jwk["y"];
    } else if (kty == "RSA") {
      ML_ASSIGN_OR_RETURN(std::string n, B64Member(jwk, "n", which));
      ML_ASSIGN_OR_RETURN(std::string e, B64Member(jwk, "e", which));
      key = crypto::JwsClientKey::FromRsa(n, e);
      canonical["n"] = jwk["n"];
      canonical["e"] = jwk["e"];
    }
    if (!key.ok()) return Invalid(which + ": " + key.error().message);
    if (auto a = jwk.find("alg"); a != jwk.end() && *a != key->alg_name()) {
      return Invalid(which + "'s alg must be " + key->alg_name() + " for its key type");
    }
    canonical["alg"] = key->alg_name();
    canonical["use"] = "sig";
    if (!kid.empty()) canonical["kid"] = kid;
    out.push_back({ClientKey{kid, std::move(*key)}, std::move(canonical)});
  }
  return out;
}

// A NumericDate claim, or nullopt when absent; error when present and not a number.
Result<std::optional<int64_t>> NumericDate(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  // Bounded before the conversion: a double outside int64's range does not convert (undefined behaviour).
  if (!it->is_number() || !(std::abs(it->get<double>()) < 1e12)) {
    return BadClient(std::string("the assertion's ") + name + " is not a NumericDate");
  }
  return std::optional<int64_t>(static_cast<int64_t>(it->get<double>()));
}

}  // namespace

Result<std::vector<ClientKey>> ParseClientJwks(std::string_view jwks_json) {
  ML_ASSIGN_OR_RETURN(auto parsed, ParseKeys(jwks_json));
  std::vector<ClientKey> out;
  for (auto& p : parsed) out.push_back(std::move(p.key));
  return out;
}

Result<std::string> CanonicalClientJwks(std::string_view jwks_json) {
  ML_ASSIGN_OR_RETURN(auto parsed, ParseKeys(jwks_json));
  json keys = json::array();
  for (auto& p : parsed) keys.push_back(std::move(p.canonical));
  return json{{"keys", std::move(keys)}}.dump();
}

int64_t ClientAssertionVerifier::Now() const {
  return options_.clock ? options_.clock() : Timestamp::Now().seconds;
}

size_t ClientAssertionVerifier::replay_size() const {
  std::lock_guard lock(mu_);
  return spent_.size();
}

Result<std::string> ClientAssertionVerifier::Verify(std::string_view assertion, const ClientJwksLookup& lookup) {
  if (assertion.empty()) return BadClient("client_assertion is required");
  if (assertion.size() > kMaxAssertionBytes) return BadClient("the client assertion is larger than 8 KiB");
  auto parts = SplitOn(assertion, '.');
  if (parts.size() != 3) return BadClient("the client assertion is not a compact JWS (three parts)");
  auto header_bytes = Base64UrlDecode(parts[0]);
  auto payload_bytes = Base64UrlDecode(parts[1]);
  auto signature = Base64UrlDecode(parts[2]);
  if (!header_bytes.ok() || !payload_bytes.ok() || !signature.ok()) {
    return BadClient("the client assertion is not base64url");
  }
  json header = json::parse(*header_bytes, nullptr, false);
  json claims = json::parse(*payload_bytes, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return BadClient("the client assertion's parts are not JSON objects");
  const std::string alg = header.value("alg", "");
  if (alg != "ES384" && alg != "RS384") return BadClient("the assertion's alg must be ES384 or RS384");
  // Keys come only from the registration: a key or key URL carried by the token itself proves nothing.
  for (const char* member : {"jwk", "jku", "x5u", "x5c", "crit"}) {
    if (header.contains(member)) {
      return BadClient(std::string("the assertion's header must not carry \"") + member + "\"");
    }
  }
  if (auto typ = header.find("typ"); typ != header.end() && *typ != "JWT") {
    return BadClient("the assertion's typ must be JWT");
  }
  std::string kid;
  if (auto k = header.find("kid"); k != header.end()) {
    if (!k->is_string()) return BadClient("the assertion's kid is not a string");
    kid = k->get<std::string>();
  }

  auto str = [&claims](const char* name) {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string iss = str("iss");
  if (iss.empty() || iss.size() > 64) return BadClient("the assertion's iss must be the client_id");
  if (str("sub") != iss) return BadClient("the assertion's sub must equal its iss (the client_id)");
  std::string jwks;
  if (!lookup(iss, &jwks)) return BadClient("no system client is registered with this client_id");

  bool aud_ok = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) aud_ok = *aud == options_.token_endpoint;
    if (aud->is_array()) aud_ok = std::find(aud->begin(), aud->end(), options_.token_endpoint) != aud->end();
  }
  if (!aud_ok) return BadClient("the assertion's aud must be the token endpoint " + options_.token_endpoint);

  const int64_t now = Now();
  ML_ASSIGN_OR_RETURN(auto exp, NumericDate(claims, "exp"));
  ML_ASSIGN_OR_RETURN(auto nbf, NumericDate(claims, "nbf"));
  ML_ASSIGN_OR_RETURN(auto iat, NumericDate(claims, "iat"));
  if (!exp) return BadClient("the assertion has no exp");
  if (*exp <= now) return BadClient("the assertion has expired");
  if (*exp > now + kMaxAssertionLifetimeSeconds) return BadClient("the assertion's exp is more than 5 minutes ahead");
  if (nbf && *nbf > now + options_.leeway_seconds) return BadClient("the assertion is not valid yet (nbf)");
  if (iat && *iat > now + options_.leeway_seconds) return BadClient("the assertion was issued in the future (iat)");
  const std::string jti = str("jti");
  if (jti.empty() || jti.size() > 256) return BadClient("the assertion needs a jti of 1 to 256 characters");

  auto keys = ParseClientJwks(jwks);
  if (!keys.ok()) return BadClient("the client's registered keys are unusable");
  const std::string signing_input = std::string(parts[0]) + "." + std::string(parts[1]);
  bool candidate = false, verified = false;
  for (const auto& k : *keys) {
    if (k.key.alg_name() != alg || (!kid.empty() && k.kid != kid)) continue;
    candidate = true;
    if (k.key.Verify(signing_input, *signature)) {
      verified = true;
      break;
    }
  }
  if (!candidate) {
    return BadClient(kid.empty() ? "no registered key of the client is an " + alg + " key"
                                 : "no registered " + alg + " key of the client has kid \"" + kid + "\"");
  }
  if (!verified) return BadClient("the assertion's signature does not verify with the client's registered key");

  std::lock_guard lock(mu_);
  for (auto it = spent_.begin(); it != spent_.end();) it = it->second <= now ? spent_.erase(it) : std::next(it);
  std::string key = iss + "\n" + jti;
  if (spent_.count(key) != 0) return BadClient("the assertion's jti was already used");
  if (spent_.size() >= options_.max_replay_entries) {
    return MakeError(ErrorKind::kUnavailable, "temporarily_unavailable", "too many recent assertions; try again");
  }
  spent_.emplace(std::move(key), *exp);
  return iss;
}

}  // namespace medledger::auth
