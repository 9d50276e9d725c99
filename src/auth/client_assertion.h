// SMART Backend Services client authentication (docs/FHIR.md, Backend services; RFC 7523, RFC 7521): a system
// client's registered public keys (an inline JWKS of ES384 and/or RS384 keys) and the verification of its
// `private_key_jwt` client assertion, with the bounded cache of spent `jti` values that makes each assertion
// single use. Token issuance is auth::BackendServices; this module only answers "which client signed this".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/jws_client_key.h"

namespace medledger::auth {

inline constexpr size_t kMaxClientJwksBytes = 16 * 1024;
inline constexpr size_t kMaxClientKeys = 5;
inline constexpr size_t kMaxAssertionBytes = 8192;
inline constexpr int64_t kMaxAssertionLifetimeSeconds = 300;  // the SMART spec's 5 minutes

struct ClientKey {
  std::string kid;  // may be empty: then only an assertion without a kid selects it
  crypto::JwsClientKey key;
};

// A JWKS a client registers: 1 to kMaxClientKeys public signing keys, each EC P-384 (ES384) or RSA 2048-8192
// bits (RS384); a JWK's "alg", "use" and "key_ops" must agree when present; private members ("d", ...) are
// refused, as are duplicate kids. "validation_failed" naming the offending key.
Result<std::vector<ClientKey>> ParseClientJwks(std::string_view jwks_json);

// The JWKS in a stable, minimal form (only the public members), for storage and display.
Result<std::string> CanonicalClientJwks(std::string_view jwks_json);

struct AssertionVerifierOptions {
  std::string token_endpoint;  // the only aud accepted
  size_t max_replay_entries = 10000;
  int64_t leeway_seconds = 30;     // clock skew tolerated for nbf/iat in the future
  std::function<int64_t()> clock;  // unix seconds; empty: the system clock
};

// Finds a client's registered JWKS by client ID; false: no such system client.
using ClientJwksLookup = std::function<bool(std::string_view client_id, std::string* jwks)>;

class ClientAssertionVerifier {
 public:
  explicit ClientAssertionVerifier(AssertionVerifierOptions options) : options_(std::move(options)) {}

  // The authenticated client ID. Errors are RFC 6749 5.2 codes: "invalid_client" for every assertion or key
  // failure (with a precise message), "temporarily_unavailable" (kUnavailable) when the replay cache is full of
  // live entries. The jti is remembered (until the assertion's exp) only once the signature verified, so
  // forged assertions cannot fill the cache.
  Result<std::string> Verify(std::string_view assertion, const ClientJwksLookup& lookup);

  size_t replay_size() const;

 private:
  int64_t Now() const;

  AssertionVerifierOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> spent_;  // client_id "\n" jti -> exp
};

}  // namespace medledger::auth
