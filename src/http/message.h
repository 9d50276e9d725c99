// Plain HTTP request/response values. Handlers, the router and middleware work on these, so only the
// transport (server.cpp) includes Boost.Beast.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace medledger::http {

struct Request {
  std::string method;                                       // upper case, e.g. "GET"
  std::string target;                                       // as received: path and query
  std::string path;                                         // the raw (still percent-encoded) path
  std::string query;                                        // the raw query string, without '?'
  std::map<std::string, std::string, std::less<>> headers;  // names lower case
  std::string body;
  std::string remote_address;
  bool tls = false;
  // Mutual TLS only: the client certificate chain the handshake verified (leaf first, PEM), set by the server
  // from the TLS session, never from anything the client sends in the request. Empty otherwise.
  std::string peer_certificates_pem;

  // Splits `target` into path and query.
  void SetTarget(std::string target_in);
  std::string Header(std::string_view lower_name) const;
  // The first value of `name` in the query string, percent-decoded; nullopt if absent or malformed.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void SetHeader(std::string_view name, std::string value);
  std::string Header(std::string_view name) const;  // case-insensitive; "" if absent
};

Response JsonResponse(int status, std::string json_body);
Response NoContent();

// RFC 3986 percent-decoding of one path segment or query component. "bad_encoding" for stray '%',
// bad hex digits and NUL bytes; `plus_as_space` for application/x-www-form-urlencoded queries.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

}  // namespace medledger::http
