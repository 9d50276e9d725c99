// A small blocking HTTP client for server-to-server calls (OIDC discovery, JWKS, token exchange, the witness's
// checkpoint fetches and cosignature posts): libcurl
// with a total timeout, http/https only, no redirects, and a cap on the response size.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace medledger::service {

struct HttpReply {
  long status = 0;
  std::string body;
};

struct HttpCall {
  std::string url;
  std::vector<std::pair<std::string, std::string>> form;  // non-empty: POST application/x-www-form-urlencoded
  int64_t timeout_ms = 5000;
  size_t max_bytes = 1 << 20;
  // Non-empty content_type: POST `body` as-is with that Content-Type (the witness's JSON); excludes `form`.
  std::string content_type;
  std::string body;
};

// "http_unavailable" (connection refused, DNS, TLS), "http_timeout", "http_response_too_large".
Result<HttpReply> HttpFetch(const HttpCall& call);

}  // namespace medledger::service
