// A small blocking HTTP client for server-to-server calls (OIDC discovery, JWKS, token exchange, the witness's
// checkpoint fetches and cosignature posts, RFC 3161 time-stamping): libcurl with a total timeout, http/https
// only, no redirects, and a cap on the response size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace medledger::service {

struct HttpReply {
  long status = 0;
  std::string content_type;  // the Content-Type header as sent, "" when absent
  std::string body;
};

struct HttpCall {
  std::string url;
  std::vector<std::pair<std::string, std::string>> form;  // non-empty: POST application/x-www-form-urlencoded
  int64_t timeout_ms = 5000;
  size_t max_bytes = 1 << 20;
  // Non-empty content_type: POST `body` as-is with that Content-Type (the witness's JSON, RFC 3161 queries);
  // excludes `form`.
  std::string content_type;
  std::string body;
  // Non-empty: a reply whose media type (case-insensitive, parameters ignored) differs fails with
  // "http_unexpected_content_type", whatever its status.
  std::string expect_content_type;
  // Mutual TLS (the consortium's server-to-server calls): the client certificate chain and its key, PEM files;
  // both or neither. A server certificate is always verified for https; ca_file (a PEM bundle) replaces the
  // system's trust store for that, so a member's server is trusted only through the consortium's CAs.
  std::string client_cert_file;
  std::string client_key_file;
  std::string ca_file;
};

// "http_unavailable" (connection refused, DNS, TLS, a refused client certificate), "http_timeout",
// "http_response_too_large", "http_unexpected_content_type", "http_bad_call" (both a form and a raw body, or a
// client certificate without its key).
Result<HttpReply> HttpFetch(const HttpCall& call);

// A request/response transport over POST for a binary protocol: POSTs the body with `content_type` and returns
// the body of a 200 reply of `reply_content_type`; "http_status" (kUnavailable) for any other status. This is
// the shape tsa::TsaClient takes (tsa::kQueryContentType / tsa::kReplyContentType).
std::function<Result<std::string>(std::string)> MakePostTransport(std::string url, std::string content_type,
                                                                  std::string reply_content_type,
                                                                  int64_t timeout_ms = 5000,
                                                                  size_t max_bytes = 64 * 1024);

}  // namespace medledger::service
