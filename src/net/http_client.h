// The one blocking HTTP client for every outbound call (OIDC discovery, JWKS, token exchange, the Kubo RPC API,
// the witness's checkpoint fetches and cosignature posts, RFC 3161 time-stamping, the consortium's mutual-TLS
// calls): libcurl with a total timeout, http/https only, no redirects, a cap on the response size, and retries
// of transient failures when the caller asks for them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace medledger::net {

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
  // Time to connect; 0: timeout_ms.
  int64_t connect_timeout_ms = 0;
  // POST even with no body (the Kubo RPC API takes every call as a POST).
  bool post = false;
  // A multipart/form-data POST of one file part (Kubo's `add`); excludes `form` and a raw body. The bytes are
  // the caller's and must outlive the call.
  struct FilePart {
    std::string field = "file";
    std::string filename = "blob";
    std::string content_type = "application/octet-stream";
    std::string_view data;
  };
  std::optional<FilePart> file;
  // Attempts for transient failures: no connection, a connection dropped before an answer, or a 502/503/504
  // (then the last such reply is returned). The wait before the next attempt starts at retry_backoff_ms and
  // doubles. 1: no retry. Timeouts, TLS failures and other statuses are never retried.
  int attempts = 1;
  int64_t retry_backoff_ms = 100;
};

// "http_unavailable" (connection refused, DNS, TLS, a refused client certificate), "http_timeout",
// "http_response_too_large", "http_unexpected_content_type", "http_bad_call" (both a form and a raw body, or a
// client certificate without its key, more than one kind of body).
Result<HttpReply> HttpFetch(const HttpCall& call);

// A request/response transport over POST for a binary protocol: POSTs the body with `content_type` and returns
// the body of a 200 reply of `reply_content_type`; "http_status" (kUnavailable) for any other status. This is
// the shape tsa::TsaClient takes (tsa::kQueryContentType / tsa::kReplyContentType).
std::function<Result<std::string>(std::string)> MakePostTransport(std::string url, std::string content_type,
                                                                  std::string reply_content_type,
                                                                  int64_t timeout_ms = 5000,
                                                                  size_t max_bytes = 64 * 1024);

}  // namespace medledger::net
