// libFuzzer: the RFC 3161 parsers a receipt verifier and the server run on bytes from outside
// (src/tsa/timestamp_token.cpp). The first byte picks the entry point:
//   0: TokenFromResponse(rest, a fixed request)            - a TSA's reply
//   1: [2-byte big-endian length][request][reply]          - both sides attacker-chosen
//   2: VerifyTokenDigest(rest, a fixed digest, a fixed CA)  - a receipt's token against an unrelated root
//   3: [2-byte big-endian length][root PEM][32-byte digest][token] - the full verification path (the seeds
//      carry a real token with its TSA's root, so signature, chain and ESSCertID checks are reached)
// Nothing may crash or leak; a token accepted in mode 3 must verify again with the same result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "test_identities.h"
#include "tsa/timestamp_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace tsa = medledger::tsa;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  static const std::string kDigest(32, '\x5a');
  static const std::string kRequest = tsa::BuildRequest(kDigest, 42).value();
  switch (data[0] % 4) {
    case 0: (void)tsa::TokenFromResponse(in, kRequest); break;
    case 1: {
      if (in.size() < 2) return 0;
      const size_t len = (static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1]);
      if (in.size() < 2 + len) return 0;
      (void)tsa::TokenFromResponse(in.substr(2 + len), in.substr(2, len));
      break;
    }
    case 2: (void)tsa::VerifyTokenDigest(in, kDigest, medledger::fuzz::kCaCertPem); break;
    case 3: {
      if (in.size() < 2) return 0;
      const size_t len = (static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1]);
      if (in.size() < 2 + len + 32) return 0;
      const std::string_view root = in.substr(2, len);
      const std::string_view digest = in.substr(2 + len, 32);
      const std::string_view token = in.substr(2 + len + 32);
      auto first = tsa::VerifyTokenDigest(token, digest, root);
      if (first.ok()) {
        auto again = tsa::VerifyTokenDigest(token, digest, root);
        if (!again.ok() || again->gen_time != first->gen_time || again->serial_hex != first->serial_hex) std::abort();
      }
      break;
    }
  }
  return 0;
}
