// Load generator for the server: async Beast clients (C++20 coroutines, one io thread) keeping N
// keep-alive connections busy with POST /api/v1/reports (4 KiB reports) or GET /api/v1/reports/{id}.
//
//   http_bench HOST PORT CREDENTIALS_FILE [post|get] [connections] [seconds]
//
// CREDENTIALS_FILE is the demo-credentials.txt of a `medledger serve --demo` data directory; the bench
// signs in as dr.house and writes to the first patient it finds.
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Target {
  std::string host;
  std::string port;
  std::string token;
};

bhttp::response<bhttp::string_body> Blocking(const Target& t, bhttp::verb verb, const std::string& path,
                                             const std::string& body) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve(t.host, t.port));
  bhttp::request<bhttp::string_body> req{verb, path, 11};
  req.set(bhttp::field::host, t.host);
  if (!t.token.empty()) req.set(bhttp::field::authorization, "Bearer " + t.token);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buf, res);
  return res;
}

std::string ReportBody(const std::string& patient, int n) {
  std::string content = "Benchmark report " + std::to_string(n) + ". ";
  while (content.size() < 4096) content += "Findings within normal limits; no acute abnormality. ";
  content.resize(4096);
  nlohmann::json j = {{"patientId", patient}, {"title", "Load test"}, {"diagnosis", "None"}, {"content", content}};
  return j.dump();
}

struct Stats {
  std::vector<double> latencies_ms;
  uint64_t errors = 0;
};

asio::awaitable<void> Worker(const Target& t, bool post, const std::string& patient, const std::string& report_id,
                             Clock::time_point until, Stats& stats, int id) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  beast::tcp_stream stream(ex);
  auto endpoints = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
  co_await stream.async_connect(endpoints, asio::use_awaitable);
  beast::flat_buffer buf;
  int n = 0;
  while (Clock::now() < until) {
    bhttp::request<bhttp::string_body> req{post ? bhttp::verb::post : bhttp::verb::get,
                                           post ? "/api/v1/reports" : "/api/v1/reports/" + report_id, 11};
    req.set(bhttp::field::host, t.host);
    req.set(bhttp::field::authorization, "Bearer " + t.token);
    if (post) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = ReportBody(patient, id * 1000000 + n++);
    }
    req.prepare_payload();
    auto start = Clock::now();
    beast::error_code ec;
    co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    bhttp::response<bhttp::string_body> res;
    if (!ec) co_await bhttp::async_read(stream, buf, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++stats.errors;
      co_return;
    }
    unsigned want = post ? 201 : 200;
    if (res.result_int() != want) {
      ++stats.errors;
      if (stats.errors < 3) std::cerr << "unexpected " << res.result_int() << ": " << res.body().substr(0, 200) << "\n";
      continue;
    }
    stats.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: http_bench HOST PORT CREDENTIALS_FILE [post|get] [connections] [seconds]\n";
    return 2;
  }
  Target t{argv[1], argv[2], ""};
  std::string mode = argc > 4 ? argv[4] : "post";
  int connections = argc > 5 ? std::atoi(argv[5]) : 16;
  int seconds = argc > 6 ? std::atoi(argv[6]) : 10;
  std::string password;
  {
    std::ifstream in(argv[3]);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string u, r, p;
      ss >> u >> r >> p;
      if (u == "dr.house") password = p;
    }
  }
  try {
    nlohmann::json login = {{"username", "dr.house"}, {"password", password}};
    auto res = Blocking(t, bhttp::verb::post, "/api/v1/auth/login", login.dump());
    t.token = nlohmann::json::parse(res.body()).value("accessToken", "");
    auto patients = nlohmann::json::parse(Blocking(t, bhttp::verb::get, "/api/v1/patients", "").body());
    std::string patient = patients["items"][0].value("patientId", "");
    std::string report_id;
    if (mode == "get") {
      auto r = Blocking(t, bhttp::verb::post, "/api/v1/reports", ReportBody(patient, 0));
      report_id = nlohmann::json::parse(r.body()).value("reportId", "");
    }
    asio::io_context ioc;
    std::vector<Stats> stats(static_cast<size_t>(connections));
    auto start = Clock::now();
    auto until = start + std::chrono::seconds(seconds);
    for (int i = 0; i < connections; ++i) {
      asio::co_spawn(ioc, Worker(t, mode == "post", patient, report_id, until, stats[static_cast<size_t>(i)], i),
                     asio::detached);
    }
    ioc.run();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    uint64_t errors = 0;
    for (auto& s : stats) {
      all.insert(all.end(), s.latencies_ms.begin(), s.latencies_ms.end());
      errors += s.errors;
    }
    std::printf("%s connections=%d seconds=%.1f ok=%zu errors=%llu throughput=%.0f/s p50=%.2fms p99=%.2fms\n",
                mode.c_str(), connections, elapsed, all.size(), static_cast<unsigned long long>(errors),
                static_cast<double>(all.size()) / elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
  } catch (const std::exception& e) {
    std::cerr << "http_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
