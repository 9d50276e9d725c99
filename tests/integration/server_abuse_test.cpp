// The real server under an anonymous attacker (issue 15, items 1, 2, 8 and 12): hostile JSON, oversized bodies
// to public routes, many body-holding clients, hostile method names, and slow connections from one address.
// Each test states the bound it checks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using namespace std::chrono_literals;

// VmRSS / VmHWM of a process in KiB (0 if unreadable).
size_t StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

// A raw client: the harness's libcurl cannot send a head and then stall, nor bind to 127.0.0.2.
class RawConn {
 public:
  RawConn(int port, const char* from = "127.0.0.1") : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~RawConn() { close(fd_); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool connected() const { return connected_; }
  // Sends as much as the peer takes; a server that answered early and closed stops it (that is the point).
  void Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Reads one response (head, and a Content-Length body); its status code, 0 if none came. Bytes after it (a
  // final answer right behind a "100 Continue") stay for the next call.
  int Status() {
    std::string data = std::move(pending_);
    pending_.clear();
    char buf[4096];
    size_t whole = std::string::npos;
    for (;;) {
      auto end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        auto cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) len = std::strtoull(data.c_str() + cl + 16, nullptr, 10);
        if (data.size() >= end + 4 + len) {
          whole = end + 4 + len;
          break;
        }
      }
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    if (whole != std::string::npos) {
      pending_ = data.substr(whole);
      data.resize(whole);
    }
    seen_ = data;
    return data.size() > 12 && data.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(data.c_str() + 9) : 0;
  }
  const std::string& seen() const { return seen_; }

  // A request whose head asks "Expect: 100-continue": the body goes only after "100 Continue", or, like
  // curl, after a wait without an answer (a server that never answers 100 gets the body anyway). A server that
  // refuses from the head is never sent the body. The wait is long (10 s) because this server always answers
  // the head, and on a loaded machine (ctest -j, sanitizers) a 1 s wait sent bodies before a refusal came.
  // Returns the final status.
  int Exchange(const std::string& head, const std::string& body) {
    Send(head);
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 10000) > 0) {
      int first = Status();
      if (first != 100) return first;
      if (!pending_.empty()) return 0;  // nothing may follow a 100 before the body was sent
    }
    Send(body);
    int status = Status();
    return status == 100 ? Status() : status;  // a 100 that came after the wait precedes the final answer
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string seen_;
  std::string pending_;
};

std::string PostHead(const std::string& path, size_t length, const std::string& token = "") {
  std::string head =
      "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n";
  if (!token.empty()) head += "Authorization: Bearer " + token + "\r\n";
  return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

// ASan keeps freed memory in a quarantine (256 MiB by default), which would count every served body towards
// RSS; the server under test gets a small one so that RSS measures what the server holds.
std::vector<std::string> SmallQuarantine() {
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=4").c_str(), 1);
  return {};
}

// Item 1. 32 anonymous clients at once, each sending 8 MiB of '[' to POST /auth/login (declared, and chunked),
// bodies of '[' just under the public limit, and 8 MiB bodies to authenticated routes without a token or with
// a forged one (401 from the head); and
// 16 signed-in clients sending 8 MiB of '[' each to POST /reports against a 32 MiB in-flight budget.
// Bound: the server's peak RSS (VmHWM) grows by less than 128 MiB (32 MiB budget + 96 MiB of slack for
// threads, buffers and allocator caches), and /healthz answers 200 throughout. Before the fix one of these
// requests alone took a Release server from ~30 MB to ~600 MB.
TEST(ServerAbuseTest, HostileBodiesKeepMemoryBoundedAndTheServerAnswers) {
  SmallQuarantine();
  ServerProcess server({"--max-body-bytes-in-flight", "33554432"});
  ASSERT_TRUE(server.ok());
  const std::string token = server.Login("dr.house");
  ASSERT_FALSE(token.empty());
  // The baseline is the settled server: the report log has folded the demo's blocks and published (and
  // anchored) its first checkpoint, so start-up work is not counted as the storm's growth.
  for (int i = 0; i < 100 && server.Get("/log/checkpoint").status != 200; ++i) std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(300ms);
  const size_t baseline_kib = StatusKiB(server.pid(), "VmRSS");
  ASSERT_GT(baseline_kib, 0u);

  const std::string deep(8u << 20, '[');
  const std::string just_under(60u << 10, '[');
  std::atomic<int> refused_413{0}, refused_401{0}, too_deep{0}, busy{0}, unexpected{0};
  // A body whose length is not declared (chunked) or fits the public limit reserves its bytes in the in-flight
  // budget, which the signed-in 8 MiB uploads below can fill: then 503 server_busy is the right answer, and how
  // often it comes depends on timing. A declared length over the limit is always 413, budget or not.
  std::atomic<int> public_busy{0}, too_deep_public{0};
  auto busy_or = [&](RawConn& c, int status, int want, std::atomic<int>& counter) {
    if (status == want) {
      ++counter;
    } else if (status == 503 && c.seen().find("server_busy") != std::string::npos) {
      ++public_busy;
    } else {
      ++unexpected;
    }
  };
  std::atomic<bool> storm{true};
  std::atomic<int> health_ok{0}, health_bad{0};
  std::atomic<size_t> sampled_peak_kib{baseline_kib};
  const size_t hwm_before_kib = StatusKiB(server.pid(), "VmHWM");
  std::thread health([&] {
    while (storm.load()) {
      auto h = server.Get("/healthz");
      (h.status == 200 ? health_ok : health_bad).fetch_add(1);
      sampled_peak_kib.store(std::max(sampled_peak_kib.load(), StatusKiB(server.pid(), "VmRSS")));
      std::this_thread::sleep_for(50ms);
    }
  });
  std::vector<std::thread> clients;
  for (int i = 0; i < 32; ++i) {
    clients.emplace_back([&, i] {
      for (int round = 0; round < 3; ++round) {
        {
          RawConn c(server.port());
          int s = c.Exchange(PostHead("/api/v1/auth/login", deep.size()), deep);
          (s == 413 ? refused_413 : unexpected).fetch_add(1);
        }
        {
          // Chunked, sent without waiting: the 8 MiB chunk is refused at its size line; the client has
          // sent 1 MiB of it by then, which the server reads and discards before closing.
          RawConn c(server.port());
          c.Send(
              "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n800000\r\n" +
              deep.substr(0, 1u << 20));
          busy_or(c, c.Status(), 413, refused_413);
        }
        {
          RawConn c(server.port());
          int s = c.Exchange(PostHead("/api/v1/auth/login", just_under.size()), just_under);
          if (s == 400 && c.seen().find("json_too_deep") == std::string::npos) s = 0;  // a 400 for another reason
          busy_or(c, s, 400, too_deep_public);
        }
        {
          RawConn c(server.port());
          int s = c.Exchange(PostHead("/api/v1/reports", deep.size(), i % 2 ? "forged.token.here" : ""), deep);
          (s == 401 ? refused_401 : unexpected).fetch_add(1);
        }
        if (i < 16) {
          RawConn c(server.port());
          int s = c.Exchange(PostHead("/api/v1/reports", deep.size(), token), deep);
          if (s == 400) {
            ++too_deep;
          } else if (s == 503) {
            ++busy;
          } else {
            ++unexpected;
          }
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  storm.store(false);
  health.join();

  // The peak: VmHWM if the storm raised it (start-up may have set it higher than the idle RSS), and the RSS
  // sampled every 50 ms during the storm.
  const size_t hwm_after_kib = StatusKiB(server.pid(), "VmHWM");
  const size_t peak_kib = std::max(sampled_peak_kib.load(), hwm_after_kib > hwm_before_kib ? hwm_after_kib : 0);
  const size_t growth_mib = (peak_kib - std::min(peak_kib, baseline_kib)) / 1024;
  RecordProperty("baseline_rss_kib", std::to_string(baseline_kib));
  RecordProperty("peak_rss_kib", std::to_string(peak_kib));
  std::cout << "baseline RSS " << baseline_kib / 1024 << " MiB, peak " << peak_kib / 1024 << " MiB\n";
  EXPECT_LT(growth_mib, 128u) << "baseline " << baseline_kib / 1024 << " MiB, peak " << peak_kib / 1024 << " MiB";
  EXPECT_EQ(unexpected.load(), 0) << "413: " << refused_413.load() << ", 401: " << refused_401.load()
                                  << ", too deep: " << too_deep.load() << ", busy: " << busy.load()
                                  << ", public busy: " << public_busy.load();
  // Every public request was refused (413, too deep) or, while the budget was full, told to retry (503); the
  // declared 8 MiB ones were all 413 (anything else counted as unexpected above).
  EXPECT_EQ(refused_413.load() + too_deep_public.load() + public_busy.load(), 32 * 3 * 3);
  EXPECT_GE(refused_413.load(), 32 * 3);
  // Every signed-in 8 MiB upload was read and refused at depth 32, or found the budget spent.
  EXPECT_EQ(too_deep.load() + busy.load(), 16 * 3);
  EXPECT_EQ(refused_401.load(), 32 * 3);  // answered from the head: no token, or one that does not verify
  EXPECT_GT(health_ok.load(), 0);
  EXPECT_EQ(health_bad.load(), 0);
  EXPECT_EQ(server.Get("/healthz").status, 200);
  // Signed in, the body is read in full (within the budget) and the parser stops at depth 32.
  auto deep_small = server.PostJson("/api/v1/reports", std::string(100000, '['), token);
  EXPECT_EQ(deep_small.status, 400);
  EXPECT_EQ(ProblemCode(deep_small), "json_too_deep");
}

// Item 12: a repeated key is refused, not resolved by "the last wins"; so are deep and broken bodies.
TEST(ServerAbuseTest, StrictJsonBodiesOnPublicAndSignedInRoutes) {
  ServerProcess server;
  ASSERT_TRUE(server.ok());
  const std::string pw = server.Password("alice");
  auto dup =
      server.PostJson("/api/v1/auth/login", R"({"username":"bob","username":"alice","password":")" + pw + R"("})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(ProblemCode(dup), "duplicate_json_key");
  EXPECT_EQ(ProblemCode(server.PostJson("/api/v1/auth/login", std::string(40, '[') + std::string(40, ']'))),
            "json_too_deep");
  EXPECT_EQ(ProblemCode(server.PostJson("/api/v1/auth/login", R"({"username":"alice",})")), "malformed_json");
  const std::string token = server.Login("admin");
  auto patient = server.PostJson("/api/v1/patients",
                                 R"({"mrn":"MRN-77","mrn":"MRN-78","name":"X Y","birthDate":"1980-01-01"})", token);
  EXPECT_EQ(patient.status, 400);
  EXPECT_EQ(ProblemCode(patient), "duplicate_json_key");
}

// Item 2: 2,000 invented method names add no metrics series, on the unauthenticated metrics listener nor
// on the API listener (where /metrics needs an admin or auditor token).
TEST(ServerAbuseTest, MetricsLabelsStayClosedAndMetricsNeedAuthOrTheOpsListener) {
  ServerProcess server({"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(server.ok());
  ASSERT_NE(server.metrics_port(), 0);
  for (int i = 0; i < 2000; ++i) {
    auto r = server.Request("METHOD" + std::to_string(i), i % 2 ? "/healthz" : "/no/such/" + std::to_string(i));
    ASSERT_TRUE(r.status == 404 || r.status == 405) << r.status;
  }
  const std::string metrics_url = "http://127.0.0.1:" + std::to_string(server.metrics_port()) + "/metrics";
  auto m = FetchUrl("GET", metrics_url);
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body.find("METHOD"), std::string::npos);
  EXPECT_EQ(m.body.find("/no/such"), std::string::npos);
  EXPECT_NE(m.body.find(R"(method="other",route="unmatched",status="405")"), std::string::npos);
  EXPECT_LT(m.body.size(), 64u * 1024);
  EXPECT_EQ(FetchUrl("GET", "http://127.0.0.1:" + std::to_string(server.metrics_port()) + "/healthz").status, 404);
  EXPECT_EQ(server.Get("/metrics").status, 401);
  EXPECT_EQ(server.Get("/metrics", server.Login("alice")).status, 403);
  EXPECT_EQ(server.Get("/metrics", server.Login("audrey")).status, 200);
}

// Item 8: 80 slow connections from 127.0.0.2 (more than the global cap of 64) take at most its per-address
// share of 16; the rest are refused at once, and 127.0.0.1 is still served.
TEST(ServerAbuseTest, SlowConnectionsFromOneAddressLeaveRoomForOthers) {
  ServerProcess server({"--max-connections", "64", "--max-connections-per-address", "16"});
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 80; ++i) {
    slow.push_back(std::make_unique<RawConn>(server.port(), "127.0.0.2"));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(server.Get("/healthz").status, 200);
  // The refused ones were answered 503 and closed; the held ones got nothing yet.
  int refused = 0;
  for (size_t i = 16; i < slow.size(); ++i) {
    if (slow[i]->Status() == 503 && slow[i]->seen().find("too_many_connections_from_address") != std::string::npos) {
      ++refused;
    }
  }
  EXPECT_EQ(refused, 64);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(server.Get("/healthz").status, 200);
}

}  // namespace
}  // namespace medledger::testing
