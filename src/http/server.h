// The HTTP/1.1 transport: Boost.Beast on Asio C++20 coroutines, optional TLS. It owns sockets, limits and
// timeouts; everything else is the AppHandler, which runs on a worker pool so that blocking ledger and
// store calls never stall the I/O threads. Beast stays inside server.cpp (and beast_head.h, the
// head-to-Request copy it shares with the HTTP request fuzzer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/message.h"

namespace medledger::http {

// What a request head earns: a body up to max_body_bytes (large), or only up to public_body_bytes; or, with
// `answer`, that response at once and the body never read.
struct BodyAdmission {
  bool large = false;
  std::optional<Response> answer;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port())
  size_t max_connections = 1024;
  // One address may hold at most this many of them (IPv6: one /64 prefix), so that one client cannot
  // take every connection; 0 means max_connections / 8 (at least 1).
  size_t max_connections_per_address = 0;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Bodies up to public_body_bytes are read from anyone. A larger body (or a chunked one) is read only if
  // admit_large_body allows it from the request head, before any of the body is read (the App: an
  // authenticated route with a bearer token that verifies; a bad token gets its 401 at once). Unset: every
  // request may send max_body_bytes.
  size_t public_body_bytes = 64 * 1024;
  std::function<BodyAdmission(const Request& head)> admit_large_body;
  // All request bodies being read or handled together may hold at most this many bytes: each request
  // reserves its Content-Length (or its limit, when chunked) before its body is read and returns it when
  // its response is written. Over budget: 503 "server_busy" with Retry-After.
  size_t max_body_bytes_in_flight = 256u * 1024 * 1024;
  // A request (headers and body) must arrive within read_timeout; a kept-alive connection may wait
  // idle_timeout for its next request. Slow clients are cut off, not waited for.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds drain_timeout{5000};  // on Stop(), for requests in flight
  size_t io_threads = 1;
  size_t worker_threads = 8;
  std::string tls_cert_file;  // PEM chain; TLS is on when both are set
  std::string tls_key_file;
  // Mutual TLS (needs TLS): a PEM bundle of CAs. Set, the handshake requires a client certificate that chains
  // to one of them, and each request carries the verified chain in Request::peer_certificates_pem.
  std::string tls_client_ca_file;
};

using AppHandler = std::function<Response(Request&)>;

class Server {
 public:
  // Binds and starts serving on background threads. "bind_failed", "tls_config_invalid".
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, AppHandler handler);
  ~Server();  // Stop()

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  bool tls() const;
  size_t active_connections() const;
  size_t body_bytes_in_flight() const;
  // Stops accepting, lets requests in flight finish (up to drain_timeout), then closes everything.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::http
