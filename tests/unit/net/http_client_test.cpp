// HttpFetch against a one-shot HTTP server on 127.0.0.1 (a thread in the test): the raw-body POST sends exactly
// the bytes and the Content-Type it was given, and the reply's content type is checked when asked.
#include "net/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace medledger::net {
namespace {

// Accepts one connection per response, in order; records each request (headers + body by Content-Length) and
// answers it with the next response.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : OneShotServer(std::vector<std::string>{std::move(response)}) {}
  explicit OneShotServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (const auto& r : responses_) Serve(r);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  // Valid after the client call returned (the thread has answered by then): the last request.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return requests_.empty() ? "" : requests_.back();
  }
  size_t requests() {
    if (thread_.joinable()) thread_.join();
    return requests_.size();
  }

 private:
  void Serve(const std::string& response) {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string request;
    char buf[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || request.size() < need) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
      auto end = request.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        auto cl = request.find("Content-Length: ");
        size_t body = cl == std::string::npos || cl > end ? 0 : std::stoul(request.substr(cl + 16));
        need = end + 4 + body;
      }
    }
    requests_.push_back(std::move(request));
    (void)!::write(c, response.data(), response.size());
    ::close(c);
  }

  std::vector<std::string> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::vector<std::string> requests_;
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

TEST(HttpClientTest, AFilePartIsAMultipartPostOfOneFile) {
  OneShotServer server(Reply("200 OK", "application/json", "{}"));
  const std::string bytes("\x00\x01 report envelope \xff", 21);
  HttpCall call;
  call.url = server.url() + "api/v0/add";
  call.file = HttpCall::FilePart{.data = bytes};
  auto reply = HttpFetch(call);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  const std::string req = server.request();
  EXPECT_EQ(req.rfind("POST /api/v0/add HTTP/1.1", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: multipart/form-data; boundary="), std::string::npos) << req;
  EXPECT_NE(req.find("name=\"file\"; filename=\"blob\""), std::string::npos) << req;
  EXPECT_NE(req.find(bytes), std::string::npos);
}

TEST(HttpClientTest, PostWithoutABodyIsAnEmptyPost) {
  OneShotServer server(Reply("200 OK", "application/json", "{}"));
  HttpCall call;
  call.url = server.url() + "api/v0/pin/add?arg=x";
  call.post = true;
  ASSERT_TRUE(HttpFetch(call).ok());
  const std::string req = server.request();
  EXPECT_EQ(req.rfind("POST /api/v0/pin/add?arg=x HTTP/1.1", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Length: 0"), std::string::npos) << req;
}

TEST(HttpClientTest, AGatewayStatusIsRetriedOnlyWhenAsked) {
  {
    OneShotServer server({Reply("503 Service Unavailable", "text/plain", "busy"), Reply("200 OK", "text/plain", "ok")});
    HttpCall call;
    call.url = server.url();
    call.attempts = 3;
    call.retry_backoff_ms = 1;
    auto reply = HttpFetch(call);
    ASSERT_TRUE(reply.ok()) << reply.error().ToString();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "ok");
    EXPECT_EQ(server.requests(), 2u);
  }
  {
    OneShotServer server(Reply("503 Service Unavailable", "text/plain", "busy"));
    HttpCall call;
    call.url = server.url();
    auto reply = HttpFetch(call);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->status, 503);  // one attempt: the status is the caller's to interpret
    EXPECT_EQ(server.requests(), 1u);
  }
}

TEST(HttpClientTest, ARefusedConnectionIsRetriedWithBackoffThenReported) {
  int port = 0;
  {
    OneShotServer closed(std::vector<std::string>{});  // a port that was ours and is closed again
    port = std::stoi(closed.url().substr(17));
  }
  HttpCall call;
  call.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  call.attempts = 3;
  call.retry_backoff_ms = 20;
  const auto start = std::chrono::steady_clock::now();
  auto reply = HttpFetch(call);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_unavailable");
  EXPECT_GE(waited, std::chrono::milliseconds(60));  // 20 + 40 between the three attempts
}

TEST(HttpClientTest, MoreThanOneKindOfBodyIsRefused) {
  const std::string bytes = "x";
  HttpCall call;
  call.url = "http://127.0.0.1:1/";
  call.file = HttpCall::FilePart{.data = bytes};
  call.form = {{"a", "b"}};
  auto reply = HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_bad_call");
  call.form.clear();
  call.file->filename = "a\r\nX-Injected: 1";
  reply = HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_bad_call");
}

}  // namespace
}  // namespace medledger::net
