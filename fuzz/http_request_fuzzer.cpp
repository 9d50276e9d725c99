// libFuzzer: raw request bytes through the HTTP/1.1 request parser configured as the server configures it
// (Beast's request_parser<string_body>, the default ServerOptions header and body limits), the Request built
// from it as Serve() builds it, then the router with every real /api/v1 and FHIR route registered, and the
// query and percent-decoding helpers the handlers use. Serve() itself is a coroutine on a socket; the head is
// copied into a Request by the same CopyHead it uses (src/http/beast_head.h).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/app.h"
#include "http/beast_head.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"

namespace {

namespace bhttp = boost::beast::http;
using namespace medledger::http;

const Router& Routes() {
  static const Router router = [] {
    Router r;
    AppDeps deps;  // the handlers are never called here: matching only needs the table
    AppOptions options;
    AddAuthRoutes(r, deps, options);
    AddPatientRoutes(r, deps);
    AddReportRoutes(r, deps);
    AddAuditRoutes(r, deps);
    AddDirectoryRoutes(r, deps);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ServerOptions opts;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
  parser.body_limit(opts.max_body_bytes);
  boost::beast::error_code ec;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // As async_read does: feed what has arrived until the message is done; the peer closing ends the input.
  while (!in.empty() && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
    if (ec == bhttp::error::need_more) {
      if (used == 0) break;
      ec = {};
    }
    if (ec) return 0;
    in.remove_prefix(used);
  }
  if (!parser.is_done()) {
    // put_eof's precondition is that some of the message arrived (the server sees an empty stream as a closed
    // connection, never as a message).
    if (!parser.got_some()) return 0;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto msg = parser.release();
  Request req;
  CopyHead(msg, req);
  req.body = std::move(msg.body());
  if (req.body.size() > opts.max_body_bytes) std::abort();

  auto match = Routes().Match(req.method, req.path);
  if (match.ok()) {
    if (match->route == nullptr) std::abort();
    for (const auto& [name, value] : match->params) {
      if (value.empty()) std::abort();  // "{name}" captures one non-empty segment
    }
  } else if (match.error().code == "method_not_allowed" && Routes().AllowedMethods(req.path).empty()) {
    std::abort();
  }
  for (const char* name : {"pageSize", "bookmark", "query", "purpose", "patientId", "from", "to"}) {
    (void)req.QueryParam(name);
  }
  (void)PercentDecode(req.query, true);
  (void)PercentDecode(req.path, false);
  (void)req.Header("content-type");
  return 0;
}
