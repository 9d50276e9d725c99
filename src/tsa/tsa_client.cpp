#include "tsa/tsa_client.h"

#include "crypto/random.h"
#include "tsa/timestamp_token.h"

namespace medledger::tsa {

Result<std::string> TsaClient::Timestamp(std::string_view sha256_digest) const {
  if (!transport_) return MakeError(ErrorKind::kInternal, "tsa_no_transport", "no transport to the TSA");
  // A random 64-bit nonce binds the reply to this request (RFC 3161 §2.4.1), so a replayed reply is refused.
  const std::string nonce_bytes = crypto::RandomBytes(8);
  uint64_t nonce = 0;
  for (unsigned char c : nonce_bytes) nonce = (nonce << 8) | c;
  ML_ASSIGN_OR_RETURN(std::string request, BuildRequest(sha256_digest, nonce));
  ML_ASSIGN_OR_RETURN(std::string reply, transport_(request));
  return TokenFromResponse(reply, request);
}

}  // namespace medledger::tsa
