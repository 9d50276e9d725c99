// ES256 JSON Web Tokens (RFC 7519/7515/7518) for the built-in issuer, and a strict verifier used for both
// the built-in issuer (ES256 only) and external OpenID Connect providers (keys from their JWKS; ES256, RS256
// or PS256, since most providers sign ID tokens with RSA by default).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "crypto/ecdsa.h"
#include "crypto/rsa.h"

namespace medledger::auth {

struct JwtClaims {
  std::string iss;
  std::string sub;
  std::string aud;
  std::string jti;
  std::string role;  // built-in issuer: the medledger role
  std::string name;  // display name
  std::string sid;   // built-in issuer: the session (refresh-token family) the token belongs to
  int64_t gen = 0;   // built-in issuer: the user's session epoch at issue (identity::User::token_generation)
  // Built-in issuer, SMART app tokens only: the app, its granted scopes and the patient in context.
  std::string client_id;
  std::string scope;
  std::string patient;
  // Built-in issuer, SMART OpenID Connect ID tokens only: the authorization request's nonce and the user's
  // FHIR resource as an absolute URL ("fhirUser").
  std::string nonce;
  std::string fhir_user;
  int64_t iat = 0;
  int64_t nbf = 0;
  int64_t exp = 0;
  std::string raw_payload;  // the verified payload JSON, for claim -> role mapping of external issuers
};

inline constexpr size_t kMaxTokenBytes = 8192;

// RFC 7638 thumbprint of the P-256 public key: the kid we publish.
std::string JwkThumbprint(const crypto::EcPublicKey& key);
// {"kty":"EC","crv":"P-256","x","y","kid","use":"sig","alg":"ES256"}
std::string PublicJwkJson(const crypto::EcPublicKey& key, std::string_view kid);

class JwtSigner {
 public:
  explicit JwtSigner(crypto::EcPrivateKey key);
  const std::string& kid() const { return kid_; }
  const crypto::EcPublicKey& public_key() const { return public_; }
  Result<std::string> Sign(const JwtClaims& claims) const;
  std::string JwksJson() const;  // {"keys":[...]}

 private:
  crypto::EcPrivateKey key_;
  crypto::EcPublicKey public_;
  std::string kid_;
};

struct JwtVerifyOptions {
  std::string issuer;
  std::string audience;
  int64_t leeway_seconds = 30;
  size_t max_token_bytes = kMaxTokenBytes;
  // Our own tokens are always low-S, so a high-S twin can only be a forgery attempt. Other issuers' ECDSA
  // signers (OpenSSL, Node) emit either half at random and JWS does not forbid it: false for them.
  bool require_low_s = true;
  // The "alg" values accepted at all; anything else (notably "none" and HS256) is refused before any key is
  // looked at. Each also has to match the type of the key its kid names.
  std::vector<std::string> algorithms = {"ES256"};
};

// A verification key. Which algorithm it verifies follows from its type (EC: ES256; RSA: RS256 or PS256)
// and, when its JWK names one, from that "alg" too; never from the token alone.
struct VerificationKey {
  std::variant<crypto::EcPublicKey, crypto::RsaPublicKey> key;
  std::string alg;  // the JWK's "alg", or empty
};

// Accepts only the configured algorithms, with a kid it knows whose key is of that algorithm's type;
// everything else ("none", HS256 with the public key as an HMAC secret, an RSA alg naming an EC key or the
// reverse, embedded jwk/jku/x5u keys, crit extensions) is "token_invalid". Expired tokens are
// "token_expired" so clients know to refresh.
class JwtVerifier {
 public:
  explicit JwtVerifier(JwtVerifyOptions options) : options_(std::move(options)) {}
  void AddKey(std::string kid, crypto::EcPublicKey key) { AddKey(std::move(kid), VerificationKey{std::move(key), ""}); }
  void AddKey(std::string kid, VerificationKey key) { keys_.insert_or_assign(std::move(kid), std::move(key)); }
  void ClearKeys() { keys_.clear(); }
  bool HasKey(std::string_view kid) const { return keys_.find(kid) != keys_.end(); }
  const JwtVerifyOptions& options() const { return options_; }

  Result<JwtClaims> Verify(std::string_view token, int64_t now_seconds) const;
  // The time checks Verify ends with, for claims that already verified: "token_expired" once exp (plus the
  // leeway) has passed, "token_invalid" before nbf or iat (minus the leeway). An absent nbf or iat is 0.
  Status CheckLifetime(const JwtClaims& claims, int64_t now_seconds) const;
  // The kid of a token's header, without verifying anything (to decide whether to refresh a JWKS).
  static Result<std::string> PeekKid(std::string_view token);

 private:
  JwtVerifyOptions options_;
  std::map<std::string, VerificationKey, std::less<>> keys_;
};

// Parses a JWKS document, keeping the P-256 and RSA (2048-8192 bit) signing keys; other key types, keys for
// encryption, keys naming another algorithm and malformed keys are skipped. A key without a kid gets its
// RFC 7638 thumbprint.
Result<std::vector<std::pair<std::string, VerificationKey>>> ParseJwks(std::string_view jwks_json);

}  // namespace medledger::auth
