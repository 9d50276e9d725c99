// Asks a Time-Stamping Authority for a token over a SHA-256 digest (RFC 3161 over HTTP, RFC 3161 §3.4):
// POST application/timestamp-query, reply application/timestamp-reply. The HTTP exchange is the caller's
// transport, so this layer stays below the HTTP client; the server passes one built on net::HttpFetch
// (net::MakePostTransport in net/http_client.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::tsa {

inline constexpr const char* kQueryContentType = "application/timestamp-query";
inline constexpr const char* kReplyContentType = "application/timestamp-reply";

// Sends a DER TimeStampReq and returns the body of a 200 reply whose content type is kReplyContentType; any
// other outcome is an error (the transport's codes, e.g. "http_timeout").
using TsaTransport = std::function<Result<std::string>(std::string body)>;

class TsaClient {
 public:
  explicit TsaClient(TsaTransport transport) : transport_(std::move(transport)) {}

  // A DER TimeStampToken over `sha256_digest`, checked against the request (imprint, fresh random nonce) by
  // TokenFromResponse. The token's signature is not trusted here: receipts are checked with VerifyToken.
  Result<std::string> Timestamp(std::string_view sha256_digest) const;

 private:
  TsaTransport transport_;
};

}  // namespace medledger::tsa
