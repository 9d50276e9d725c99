// The transport against raw sockets: keep-alive, limits, malformed requests, the connection cap, slow
// clients, handler failures and graceful stop.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace medledger::http {
namespace {

using namespace std::chrono_literals;

class Conn {
 public:
  // `from`: the local address to connect from (all of 127/8 is loopback), for per-address limits.
  explicit Conn(uint16_t port, const char* from = nullptr) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    if (from != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, from, &local.sin_addr);
      bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Conn() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& s) { ASSERT_EQ(write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  // Reads one response (headers + Content-Length body); "" if the peer closed first.
  std::string ReadResponse() {
    std::string data;
    char buf[4096];
    while (true) {
      auto end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        auto cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) len = std::stoul(data.substr(cl + 16));
        if (data.size() >= end + 4 + len) return data.substr(0, end + 4 + len);
      }
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return data;
      data.append(buf, static_cast<size_t>(n));
    }
  }
  bool ClosedByPeer() {
    char c;
    return read(fd_, &c, 1) <= 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
}

template <class F>
bool EventuallyZero(F value) {
  for (int i = 0; i < 200; ++i) {
    if (value() == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    o.port = 0;
    auto s = Server::Start(o, [this](Request& req) {
      ++handled_;
      if (req.path == "/slow") std::this_thread::sleep_for(300ms);
      if (req.path == "/throw") throw std::runtime_error("boom");
      Response r;
      r.body = req.method + " " + req.path + " " + std::to_string(req.body.size()) + " " + req.Header("x-a");
      return r;
    });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = std::move(*s);
  }
  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST_F(ServerTest, ServesKeepAliveRequestsOnOneConnection) {
  Start();
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n");
  auto r1 = c.ReadResponse();
  EXPECT_EQ(StatusOf(r1), 200);
  EXPECT_NE(r1.find("GET /a 0 1"), std::string::npos);
  c.Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  auto r2 = c.ReadResponse();
  EXPECT_NE(r2.find("POST /b 5 "), std::string::npos);
  c.Send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_EQ(handled_.load(), 3);
}

TEST_F(ServerTest, EnforcesBodyAndHeaderLimits) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  o.max_header_bytes = 512;
  Start(o);
  {
    Conn c(server_->port());
    c.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 413);
    EXPECT_NE(r.find("body_too_large"), std::string::npos);
  }
  {
    Conn c(server_->port());
    c.Send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 431);
    EXPECT_NE(r.find("headers_too_large"), std::string::npos);
  }
  {
    Conn c(server_->port());
    c.Send("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
  }
  EXPECT_EQ(handled_.load(), 0);  // nothing reached the application
}

TEST_F(ServerTest, ConnectionCapAnswers503) {
  ServerOptions o;
  o.max_connections = 2;
  o.max_connections_per_address = 2;
  Start(o);
  Conn a(server_->port()), b(server_->port());
  a.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  b.Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(a.ReadResponse()), 200);
  EXPECT_EQ(StatusOf(b.ReadResponse()), 200);
  Conn c(server_->port());
  auto r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 503);
  EXPECT_NE(r.find("too_many_connections"), std::string::npos);
}

TEST_F(ServerTest, PerAddressCapLeavesRoomForOtherAddresses) {
  ServerOptions o;
  o.max_connections = 64;
  o.max_connections_per_address = 3;
  Start(o);
  // Three slow clients from 127.0.0.2, each mid-request, hold that address's share.
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::make_unique<Conn>(server_->port(), "127.0.0.2"));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n");
  }
  std::this_thread::sleep_for(100ms);
  {
    Conn excess(server_->port(), "127.0.0.2");
    auto r = excess.ReadResponse();
    EXPECT_EQ(StatusOf(r), 503);
    EXPECT_NE(r.find("too_many_connections_from_address"), std::string::npos);
  }
  {
    Conn other(server_->port(), "127.0.0.1");
    other.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(StatusOf(other.ReadResponse()), 200);
  }
  // A slot comes back when its connection goes: the address is counted by live connections only.
  slow.pop_back();
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    std::this_thread::sleep_for(20ms);
    Conn again(server_->port(), "127.0.0.2");
    again.Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    status = StatusOf(again.ReadResponse());
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerTest, LargeBodiesOnlyWhenThePolicySaysSoFromTheHead) {
  ServerOptions o;
  o.max_body_bytes = 100000;
  o.public_body_bytes = 1024;
  std::atomic<int> asked{0};
  o.admit_large_body = [&asked](const Request& head) {
    ++asked;
    BodyAdmission a;
    a.large = head.Header("x-auth") == "yes" && head.path == "/upload" && head.body.empty();
    if (head.Header("x-auth") == "expired") a.answer = JsonResponse(401, R"({"code":"token_expired"})");
    return a;
  };
  Start(o);
  {
    Conn c(server_->port());  // small bodies never ask
    c.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'a'));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
    EXPECT_EQ(asked.load(), 0);
  }
  {
    Conn c(server_->port());  // refused from the head: nothing of the body is sent, let alone read
    c.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 413);
    EXPECT_NE(r.find("body_too_large"), std::string::npos);
  }
  {
    Conn c(server_->port());  // chunked: held to the public limit as it arrives
    std::string chunk(800, 'b');
    c.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk + "\r\n320\r\n" +
           chunk + "\r\n0\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 413);
  }
  {
    Conn c(server_->port());  // the policy may answer from the head itself (the App: 401 for a bad token)
    c.Send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Auth: expired\r\nContent-Length: 5000\r\n\r\n");
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 401);
    EXPECT_NE(r.find("token_expired"), std::string::npos);
  }
  const int handled_before = handled_.load();
  {
    Conn c(server_->port());
    c.Send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Auth: yes\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'c'));
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200);
    EXPECT_NE(r.find("POST /upload 5000"), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), handled_before + 1);
  EXPECT_EQ(asked.load(), 4);
  EXPECT_TRUE(EventuallyZero([this] { return server_->body_bytes_in_flight(); }));
}

TEST_F(ServerTest, BodiesInFlightShareOneBudget) {
  ServerOptions o;
  o.max_body_bytes = 100000;
  o.max_body_bytes_in_flight = 10000;
  Start(o);
  Conn holder(server_->port());
  holder.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 8000\r\n\r\n" + std::string(100, 'a'));
  for (int i = 0; i < 100 && server_->body_bytes_in_flight() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->body_bytes_in_flight(), 8000u);
  {
    Conn c(server_->port());
    c.Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    auto r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 503);
    EXPECT_NE(r.find("server_busy"), std::string::npos);
    EXPECT_NE(r.find("Retry-After: 1"), std::string::npos);
  }
  {
    Conn c(server_->port());  // what still fits is served
    c.Send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'c'));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }
  holder.Send(std::string(7900, 'a'));
  EXPECT_EQ(StatusOf(holder.ReadResponse()), 200);
  // Returned once the response was written (just after the client can read it, hence the wait).
  EXPECT_TRUE(EventuallyZero([this] { return server_->body_bytes_in_flight(); }));
  Conn c(server_->port());
  c.Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredOnlyOnceTheBodyIsWelcome) {
  ServerOptions o;
  o.max_body_bytes = 2000;
  Start(o);
  {
    Conn c(server_->port());
    c.Send("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 100);
    c.Send("0123456789");
    EXPECT_NE(c.ReadResponse().find("POST /x 10"), std::string::npos);
  }
  Conn c(server_->port());
  c.Send("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 413);
}

TEST_F(ServerTest, SlowAndIdleClientsAreCutOff) {
  ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 300ms;
  Start(o);
  Conn slow(server_->port());
  slow.Send("GET /x HTTP/1.1\r\nHo");  // and then nothing
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.ClosedByPeer());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 2s);
  Conn idle(server_->port());
  idle.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(idle.ReadResponse()), 200);
  EXPECT_TRUE(idle.ClosedByPeer());  // the kept-alive connection does not stay forever
  for (int i = 0; i < 100 && server_->active_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, HandlerExceptionsBecome500AndTheServerLives) {
  Start();
  Conn c(server_->port());
  c.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 500);
  EXPECT_EQ(r.find("boom"), std::string::npos);
  c.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(ServerTest, StopLetsRequestsInFlightFinish) {
  Start();
  Conn c(server_->port());
  c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  std::thread stopper([this] { server_->Stop(); });
  auto r = c.ReadResponse();
  stopper.join();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);  // no keep-alive while stopping
}

TEST(ServerStartTest, RefusesBadConfiguration) {
  ServerOptions o;
  o.address = "not-an-address";
  EXPECT_EQ(Server::Start(o, [](Request&) { return Response{}; }).error().code, "bad_listen_address");
  ServerOptions t;
  t.port = 0;
  t.tls_cert_file = "/nonexistent/cert.pem";
  t.tls_key_file = "/nonexistent/key.pem";
  EXPECT_EQ(Server::Start(t, [](Request&) { return Response{}; }).error().code, "tls_config_invalid");
}

}  // namespace
}  // namespace medledger::http
