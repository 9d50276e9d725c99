// HttpFetch against a one-shot HTTP server on 127.0.0.1 (a thread in the test): the raw-body POST sends exactly
// the bytes and the Content-Type it was given, and the reply's content type is checked when asked.
#include "service/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace medledger::service {
namespace {

// Accepts one connection, records the request (headers + body by Content-Length) and sends `response`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  // Valid after the client call returned (the thread has answered by then).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || request_.size() < need) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
      auto end = request_.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        auto cl = request_.find("Content-Length: ");
        size_t body = cl == std::string::npos || cl > end ? 0 : std::stoul(request_.substr(cl + 16));
        need = end + 4 + body;
      }
    }
    (void)!::write(c, response_.data(), response_.size());
    ::close(c);
  }

  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

std::string Reply(const std::string& status, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpClientTest, RawBodyPostSendsTheBytesAndTheContentType) {
  const std::string body("\x30\x00\x01\xff binary", 11);
  OneShotServer server(Reply("200 OK", "Application/Timestamp-Reply; x=1", std::string("\x30\x03\x02\x01\x00", 5)));
  HttpCall call;
  call.url = server.url();
  call.content_type = "application/timestamp-query";
  call.body = body;
  call.expect_content_type = "application/timestamp-reply";
  auto reply = HttpFetch(call);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->content_type, "Application/Timestamp-Reply; x=1");
  EXPECT_EQ(reply->body, std::string("\x30\x03\x02\x01\x00", 5));
  const std::string request = server.request();
  EXPECT_EQ(request.rfind("POST / HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nContent-Type: application/timestamp-query\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.substr(request.find("\r\n\r\n") + 4), body);
}

TEST(HttpClientTest, UnexpectedReplyContentTypeIsRefused) {
  OneShotServer server(Reply("200 OK", "text/html", "<html>proxy login</html>"));
  HttpCall call;
  call.url = server.url();
  call.content_type = "application/timestamp-query";
  call.body = "x";
  call.expect_content_type = "application/timestamp-reply";
  auto reply = HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_unexpected_content_type");
}

TEST(HttpClientTest, PostTransportRefusesANon200Reply) {
  OneShotServer server(Reply("503 Service Unavailable", "application/timestamp-reply", ""));
  auto transport = MakePostTransport(server.url(), "application/timestamp-query", "application/timestamp-reply");
  auto reply = transport("query");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_status");
}

TEST(HttpClientTest, PostTransportReturnsTheBodyOfA200Reply) {
  OneShotServer server(Reply("200 OK", "application/timestamp-reply", "reply-bytes"));
  auto transport = MakePostTransport(server.url(), "application/timestamp-query", "application/timestamp-reply");
  auto reply = transport("query");
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(*reply, "reply-bytes");
  EXPECT_NE(server.request().find("\r\n\r\nquery"), std::string::npos);
}

TEST(HttpClientTest, ARawBodyWithAFormOrAHeaderBreakIsRefused) {
  HttpCall call;
  call.url = "http://127.0.0.1:1/";
  call.content_type = "application/x\r\nX-Injected: 1";
  call.body = "x";
  auto reply = HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_bad_call");
  call.content_type = "application/octet-stream";
  call.form = {{"a", "b"}};
  reply = HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_bad_call");
}

}  // namespace
}  // namespace medledger::service
