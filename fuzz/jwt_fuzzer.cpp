// libFuzzer: the JWT verifier and the JWKS parser on arbitrary bytes. Nothing may crash or hang, and no
// input verifies (the fuzzer cannot sign with the keys generated here).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "service/jwt.h"

namespace {

medledger::service::JwtVerifier MakeVerifier() {
  medledger::service::JwtVerifyOptions o{"https://issuer", "client"};
  o.require_low_s = false;
  o.algorithms = {"ES256", "RS256", "PS256"};
  medledger::service::JwtVerifier v(o);
  v.AddKey("k1", medledger::crypto::EcPrivateKey::Generate()->PublicKey());
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const medledger::service::JwtVerifier verifier = MakeVerifier();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (verifier.Verify(in, 1'800'000'000).ok()) std::abort();
  (void)medledger::service::JwtVerifier::PeekKid(in);
  auto keys = medledger::service::ParseJwks(in);
  if (keys.ok()) {
    for (const auto& [kid, key] : *keys) {
      if (kid.empty()) std::abort();  // every key gets a kid (its thumbprint at worst)
    }
  }
  return 0;
}
