// libFuzzer: the JWT verifier and the JWKS parser. Random bytes never get past the signature check, so the
// first input byte picks a mode, and two of the three sign what the fuzzer wrote with a fixed test key that
// the verifier trusts (kid "k1"): the header, alg/kid/crit handling and the claim checks (iss, aud, exp,
// nbf, iat, types) are all reached.
//   0: the rest is a token as received (seeds: validly signed tokens, so mutations hit each part);
//   1: the rest is a payload, signed under {"alg":"ES256","typ":"JWT","kid":"k1"};
//   2: the rest is "header\npayload", both fuzzed, then signed.
// Nothing may crash; whatever verifies must carry the configured issuer and a lifetime that holds now.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "common/encoding.h"
#include "crypto/ecdsa.h"
#include "test_identities.h"

namespace {

using medledger::auth::JwtVerifier;

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15: the seeds' tokens are valid then

const medledger::crypto::EcPrivateKey& SigningKey() {
  static const auto key = medledger::crypto::EcPrivateKey::FromPem(medledger::fuzz::kJwtKeyPem).value();
  return key;
}

JwtVerifier MakeVerifier() {
  medledger::auth::JwtVerifyOptions o{"https://issuer", "client"};
  o.require_low_s = false;
  o.algorithms = {"ES256", "RS256", "PS256"};
  JwtVerifier v(o);
  v.AddKey("k1", SigningKey().PublicKey());
  // Tokens from JwtSigner (the seeds) name the key by its thumbprint.
  v.AddKey(medledger::auth::JwkThumbprint(SigningKey().PublicKey()), SigningKey().PublicKey());
  return v;
}

std::string Sign(std::string_view header, std::string_view payload) {
  std::string input = medledger::Base64UrlEncode(header) + "." + medledger::Base64UrlEncode(payload);
  auto der = SigningKey().Sign(input);
  if (!der.ok()) std::abort();
  auto raw = medledger::crypto::DerSignatureToRaw(*der);
  if (!raw.ok()) std::abort();
  return input + "." + medledger::Base64UrlEncode(*raw);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const JwtVerifier verifier = MakeVerifier();
  if (size == 0 || size > 2 * medledger::auth::kMaxTokenBytes) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string token;
  switch (data[0] % 3) {
    case 0: token = in; break;
    case 1: token = Sign(R"({"alg":"ES256","typ":"JWT","kid":"k1"})", in); break;
    default: {
      size_t nl = in.find('\n');
      if (nl == std::string_view::npos) return 0;
      token = Sign(in.substr(0, nl), in.substr(nl + 1));
    }
  }
  auto claims = verifier.Verify(token, kNow);
  if (claims.ok()) {
    if (claims->iss != "https://issuer") std::abort();
    if (!verifier.CheckLifetime(*claims, kNow).ok()) std::abort();
  }
  (void)JwtVerifier::PeekKid(token);
  if (data[0] % 3 == 0) {
    auto keys = medledger::auth::ParseJwks(in);
    if (keys.ok()) {
      for (const auto& [kid, key] : *keys) {
        if (kid.empty()) std::abort();  // every key gets a kid (its thumbprint at worst)
      }
    }
  }
  return 0;
}
