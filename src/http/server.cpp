#include "http/server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/beast_head.h"
#include "http/problem.h"

namespace medledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string BusyResponse(const std::string& code) {
  const std::string body = R"({"code":")" + code +
                           R"(","status":503,"title":"Service Unavailable","type":"https://medledger.dev/problems/)" +
                           code + R"("})";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

struct Server::Impl {
  explicit Impl(size_t workers_n) : workers(workers_n) {}

  ServerOptions opts;
  AppHandler handler;
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor{ioc};
  asio::thread_pool workers;
  std::vector<std::thread> io_threads;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> body_bytes{0};  // reserved by requests whose bodies are being read or handled
  std::mutex address_mu;
  std::unordered_map<std::string, size_t> per_address;  // live connections by AddressKey; no zero entries
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  uint16_t port = 0;
};

namespace {

using Impl = Server::Impl;

struct CountGuard {
  explicit CountGuard(std::atomic<size_t>& c) : counter(c) {}
  ~CountGuard() { counter.fetch_sub(1); }
  CountGuard(const CountGuard&) = delete;
  CountGuard& operator=(const CountGuard&) = delete;
  std::atomic<size_t>& counter;
};

// The address a per-address limit counts: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 prefix,
// since one client usually holds a whole /64 and could otherwise take a fresh address per connection.
std::string AddressKey(const asio::ip::address& address) {
  if (address.is_v6()) {
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return address.to_string();
}

// One connection's share of the per-address count; the entry goes when its last connection does, so the map
// holds one entry per live address and never more than max_connections.
class AddressSlot {
 public:
  AddressSlot(Impl* impl, std::string key) : impl_(impl), key_(std::move(key)) {}
  ~AddressSlot() {
    std::lock_guard lock(impl_->address_mu);
    auto it = impl_->per_address.find(key_);
    if (it != impl_->per_address.end() && --it->second == 0) impl_->per_address.erase(it);
  }
  AddressSlot(const AddressSlot&) = delete;
  AddressSlot& operator=(const AddressSlot&) = delete;

 private:
  Impl* impl_;
  std::string key_;
};

// Bytes of the in-flight body budget held by one request, returned when its response has been written.
class BodyReservation {
 public:
  BodyReservation() = default;
  ~BodyReservation() { Release(); }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;

  bool Reserve(std::atomic<size_t>& pool, size_t budget, size_t bytes) {
    Release();
    size_t current = pool.load();
    do {
      if (bytes > budget || current > budget - bytes) return false;
    } while (!pool.compare_exchange_weak(current, current + bytes));
    pool_ = &pool;
    bytes_ = bytes;
    return true;
  }
  void Release() {
    if (pool_ != nullptr) pool_->fetch_sub(bytes_);
    pool_ = nullptr;
    bytes_ = 0;
  }

 private:
  std::atomic<size_t>* pool_ = nullptr;
  size_t bytes_ = 0;
};

asio::awaitable<Response> RunHandler(Impl* impl, Request* req) {
  co_return impl->handler(*req);
}

asio::awaitable<BodyAdmission> RunAdmission(Impl* impl, const Request* head) {
  co_return impl->opts.admit_large_body(*head);
}

Response TransportProblem(int status, const char* code, const char* message) {
  ErrorKind kind = status == 413 || status == 431 ? ErrorKind::kTooLarge
                   : status == 503                ? ErrorKind::kUnavailable
                                                  : ErrorKind::kInvalidArgument;
  Response r = ProblemResponse(MakeError(kind, code, message), status);
  if (status == 503) r.SetHeader("Retry-After", "1");
  return r;
}

template <class Stream>
asio::awaitable<void> WriteResponse(Impl* impl, Stream& stream, Response res, unsigned version, bool keep_alive,
                                    beast::error_code& ec) {
  bhttp::response<bhttp::string_body> out;
  out.version(version);
  out.result(static_cast<unsigned>(res.status));
  for (auto& [k, v] : res.headers) out.set(k, v);
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(impl->opts.write_timeout);
  co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the error response
// still in flight (a client sending an oversized body would see a dropped connection instead of 413). So,
// like nginx's lingering close, read and discard for a bounded time and amount before closing.
asio::awaitable<void> DrainBeforeClose(beast::tcp_stream& stream) {
  constexpr auto kLingerTime = std::chrono::seconds(2);
  constexpr size_t kLingerBytes = 64u << 20;
  stream.expires_after(kLingerTime);
  std::array<char, 16384> sink{};
  size_t drained = 0;
  beast::error_code ec;
  while (!ec && drained < kLingerBytes) {
    drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
}

// The client's certificate chain as OpenSSL verified it, leaf first, as concatenated PEM; "" if none.
std::string VerifiedPeerChainPem(SSL* ssl) {
  STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
  if (chain == nullptr) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return {};
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    if (PEM_write_bio_X509(bio.get(), sk_X509_value(chain, i)) != 1) return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 && data != nullptr ? std::string(data, static_cast<size_t>(len)) : std::string();
}

template <class Stream>
asio::awaitable<void> Serve(Impl* impl, Stream& stream, std::string remote, bool tls, std::string peer_chain) {
  const auto& opts = impl->opts;
  beast::flat_buffer buffer;
  bool first = true;
  bool linger = false;  // the client may still be sending what we refused
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    beast::error_code ec;
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(first || buffer.size() > 0 ? opts.read_timeout : opts.idle_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    BodyReservation reservation;
    std::optional<Response> refusal;
    if (!ec && !parser.is_done()) {
      // The body's limit and its share of the in-flight budget are settled from the head, before a byte of
      // the body is read or buffered.
      lowest.expires_after(opts.read_timeout);
      std::optional<std::uint64_t> declared;
      if (auto length = parser.content_length()) declared = *length;
      size_t limit = opts.max_body_bytes;
      if (opts.admit_large_body) {
        limit = std::min(opts.public_body_bytes, opts.max_body_bytes);
        if (!declared || *declared > limit) {
          Request head;
          CopyHead(parser.get(), head);
          head.remote_address = remote;
          head.tls = tls;
          head.peer_certificates_pem = peer_chain;
          // May verify a token (a P-256 verify on a cache miss): a worker's job, not the I/O thread's.
          BodyAdmission admission;
          try {
            admission =
                co_await asio::co_spawn(impl->workers.get_executor(), RunAdmission(impl, &head), asio::use_awaitable);
          } catch (const std::exception&) {
            admission = BodyAdmission{};
          }
          if (admission.large) limit = opts.max_body_bytes;
          if (admission.answer) refusal = std::move(admission.answer);
        }
      }
      if (refusal) {
        // answered from the head
      } else if (declared && *declared > limit) {
        refusal = TransportProblem(413, "body_too_large", "request body too large");
      } else if (!reservation.Reserve(impl->body_bytes, opts.max_body_bytes_in_flight,
                                      declared ? static_cast<size_t>(*declared) : limit)) {
        refusal = TransportProblem(503, "server_busy", "too many request bodies in flight; retry shortly");
      } else {
        parser.body_limit(limit);
        if (bhttp::token_list(parser.get()[bhttp::field::expect]).exists("100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
        if (!ec) co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (refusal) {
      beast::error_code wec;
      co_await WriteResponse(impl, stream, std::move(*refusal), 11, false, wec);
      linger = true;
      break;
    }
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
        break;  // the client left, or was too slow: the connection is already unusable
      }
      Response problem =
          ec == bhttp::error::body_limit     ? TransportProblem(413, "body_too_large", "request body too large")
          : ec == bhttp::error::header_limit ? TransportProblem(431, "headers_too_large", "request headers too large")
                                             : TransportProblem(400, "malformed_request", "malformed HTTP request");
      beast::error_code wec;
      co_await WriteResponse(impl, stream, std::move(problem), 11, false, wec);
      linger = true;
      break;
    }
    auto msg = parser.release();
    Request req;
    CopyHead(msg, req);
    req.body = std::move(msg.body());
    req.remote_address = remote;
    req.tls = tls;
    req.peer_certificates_pem = peer_chain;
    bool keep_alive = msg.keep_alive() && !impl->stopping.load();

    impl->in_flight.fetch_add(1);
    Response res;
    try {
      res = co_await asio::co_spawn(impl->workers.get_executor(), RunHandler(impl, &req), asio::use_awaitable);
    } catch (const std::exception&) {
      res = ProblemResponse(MakeError(ErrorKind::kInternal, "internal_error", "handler failed"));
    }
    keep_alive = keep_alive && !impl->stopping.load();  // Stop() may have begun while the handler ran
    co_await WriteResponse(impl, stream, std::move(res), msg.version(), keep_alive, ec);
    impl->in_flight.fetch_sub(1);
    reservation.Release();
    if (ec || !keep_alive) break;
    first = false;
  }
  beast::error_code ignored;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (linger) co_await DrainBeforeClose(beast::get_lowest_layer(stream));
}

asio::awaitable<void> HandleConnection(Impl* impl, tcp::socket socket, std::string address_key) {
  CountGuard guard(impl->connections);
  AddressSlot slot(impl, std::move(address_key));
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  if (impl->ssl) {
    beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *impl->ssl);
    beast::get_lowest_layer(tls_stream).expires_after(impl->opts.read_timeout);
    co_await tls_stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::string peer_chain;
    if (!impl->opts.tls_client_ca_file.empty()) {
      // OpenSSL verified the chain in the handshake (verify_fail_if_no_peer_cert); an empty chain here would
      // mean a path that skipped verification, so the connection is dropped rather than served anonymously.
      peer_chain = VerifiedPeerChainPem(tls_stream.native_handle());
      if (peer_chain.empty()) co_return;
    }
    co_await Serve(impl, tls_stream, std::move(remote), true, std::move(peer_chain));
  } else {
    co_await Serve(impl, stream, std::move(remote), false, std::string());
  }
}

asio::awaitable<void> RejectConnection(tcp::socket socket, std::string code) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  beast::error_code ec;
  const std::string busy = BusyResponse(code);
  co_await asio::async_write(stream, asio::buffer(busy), asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> AcceptLoop(Impl* impl) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await impl->acceptor.async_accept(asio::make_strand(impl->ioc),
                                                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!impl->acceptor.is_open() || impl->stopping.load()) co_return;
      // Out of file descriptors and the like: back off instead of spinning.
      asio::steady_timer t(impl->ioc, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const char* refusal = nullptr;
    auto endpoint = socket.remote_endpoint(ec);
    std::string key = ec ? std::string("unknown") : AddressKey(endpoint.address());
    if (impl->connections.load() >= impl->opts.max_connections) {
      refusal = "too_many_connections";
    } else {
      const size_t per_address_cap = impl->opts.max_connections_per_address != 0
                                         ? impl->opts.max_connections_per_address
                                         : std::max<size_t>(1, impl->opts.max_connections / 8);
      std::lock_guard lock(impl->address_mu);
      size_t& count = impl->per_address[key];
      if (count >= per_address_cap) {
        refusal = "too_many_connections_from_address";
      } else {
        ++count;
      }
    }
    if (refusal != nullptr) {
      if (impl->ssl) continue;  // a TLS client cannot read a plain answer; closing is the message
      auto ex = socket.get_executor();
      asio::co_spawn(ex, RejectConnection(std::move(socket), refusal), asio::detached);
      continue;
    }
    impl->connections.fetch_add(1);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, HandleConnection(impl, std::move(socket), std::move(key)), asio::detached);
  }
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
namespace {

// Mutual TLS: only clients whose certificate chains to a CA of `tls_client_ca_file` complete the handshake.
Status RequireClientCertificates(asio::ssl::context& ssl, const ServerOptions& opts) {
  beast::error_code ec;
  ssl.load_verify_file(opts.tls_client_ca_file, ec);
  if (ec) {
    return MakeError(ErrorKind::kInvalidArgument, "tls_config_invalid",
                     "cannot load the client CA file " + opts.tls_client_ca_file + ": " + ec.message());
  }
  ssl.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return MakeError(ErrorKind::kInvalidArgument, "tls_config_invalid", "cannot require client certificates");
  SSL_CTX* ctx = ssl.native_handle();
  // The CA names the server announces, so a client holding several certificates picks the right one.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opts.tls_client_ca_file.c_str())) {
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  // A resumed session skips certificate verification and carries no verified chain: every connection makes a
  // full handshake, so every request's peer chain is one OpenSSL verified on that connection.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  static const unsigned char kContext[] = "medledger-mtls";
  SSL_CTX_set_session_id_context(ctx, kContext, sizeof(kContext) - 1);
  return OkStatus();
}

}  // namespace

Server::~Server() {
  Stop();
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, AppHandler handler) {
  auto impl = std::make_unique<Impl>(std::max<size_t>(1, options.worker_threads));
  impl->opts = std::move(options);
  impl->handler = std::move(handler);
  const auto& opts = impl->opts;
  if (!opts.tls_cert_file.empty() || !opts.tls_key_file.empty()) {
    if (opts.tls_cert_file.empty() || opts.tls_key_file.empty()) {
      return MakeError(ErrorKind::kInvalidArgument, "tls_config_invalid", "TLS needs both a certificate and a key");
    }
    impl->ssl.emplace(asio::ssl::context::tls_server);
    beast::error_code ec;
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                               asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                               asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                           ec);
    if (!ec) impl->ssl->use_certificate_chain_file(opts.tls_cert_file, ec);
    if (!ec) impl->ssl->use_private_key_file(opts.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return MakeError(ErrorKind::kInvalidArgument, "tls_config_invalid",
                       "cannot load TLS certificate/key: " + ec.message());
    }
    if (!opts.tls_client_ca_file.empty()) ML_RETURN_IF_ERROR(RequireClientCertificates(*impl->ssl, opts));
  } else if (!opts.tls_client_ca_file.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "tls_config_invalid", "client certificates need TLS");
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(opts.address, ec);
  if (ec) return MakeError(ErrorKind::kInvalidArgument, "bad_listen_address", "bad listen address " + opts.address);
  tcp::endpoint endpoint(address, opts.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return MakeError(ErrorKind::kUnavailable, "bind_failed", "cannot listen on " + opts.address + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(impl->ioc, AcceptLoop(impl.get()), asio::detached);
  for (size_t i = 0; i < std::max<size_t>(1, opts.io_threads); ++i) {
    impl->io_threads.emplace_back([raw = impl.get()] { raw->ioc.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const {
  return impl_->port;
}
bool Server::tls() const {
  return impl_->ssl.has_value();
}
size_t Server::active_connections() const {
  return impl_->connections.load();
}
size_t Server::body_bytes_in_flight() const {
  return impl_->body_bytes.load();
}

void Server::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + impl_->opts.drain_timeout;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->io_threads) t.join();
  impl_->io_threads.clear();
  impl_->workers.join();
}

}  // namespace medledger::http
