#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>
#include <thread>
#include <vector>

#include "http/problem.h"

namespace medledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string BusyResponse() {
  const std::string body =
      R"({"code":"too_many_connections","status":503,"title":"Service Unavailable","type":"about:blank"})";
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

asio::awaitable<Response> RunHandler(Impl* impl, Request* req) {
  co_return impl->handler(*req);
}

Response TransportProblem(int status, const char* code, const char* message) {
  ErrorKind kind = status == 413 || status == 431 ? ErrorKind::kTooLarge : ErrorKind::kInvalidArgument;
  return ProblemResponse(MakeError(kind, code, message), status);
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

template <class Stream>
asio::awaitable<void> Serve(Impl* impl, Stream& stream, std::string remote, bool tls) {
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
    if (!ec && !parser.is_done()) {
      lowest.expires_after(opts.read_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
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
    req.method = std::string(msg.method_string());
    req.SetTarget(std::string(msg.target()));
    for (const auto& field : msg) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.remote_address = remote;
    req.tls = tls;
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

asio::awaitable<void> HandleConnection(Impl* impl, tcp::socket socket) {
  CountGuard guard(impl->connections);
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  if (impl->ssl) {
    beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *impl->ssl);
    beast::get_lowest_layer(tls_stream).expires_after(impl->opts.read_timeout);
    co_await tls_stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await Serve(impl, tls_stream, std::move(remote), true);
  } else {
    co_await Serve(impl, stream, std::move(remote), false);
  }
}

asio::awaitable<void> RejectConnection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  beast::error_code ec;
  const std::string busy = BusyResponse();
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
    if (impl->connections.load() >= impl->opts.max_connections) {
      if (impl->ssl) continue;  // a TLS client cannot read a plain answer; closing is the message
      auto ex = socket.get_executor();
      asio::co_spawn(ex, RejectConnection(std::move(socket)), asio::detached);
      continue;
    }
    impl->connections.fetch_add(1);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, HandleConnection(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
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
