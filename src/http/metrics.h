// Request counters and latency histograms by route and status, rendered in the Prometheus text format.
// Every label comes from a closed set, whatever the client sends: the method is one of the seven the API
// knows or "other", the route is a pattern registered with the router (or "static" / "unmatched", which the
// App supplies), the status is a number the server itself chose. The series map is capped as well, so a
// mistake upstream costs one overflow series, not memory.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace medledger::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  // Beyond this many series, new label sets are counted in one overflow series (route "overflow").
  static constexpr size_t kMaxSeries = 2048;

  // `method` as received (it is mapped to the closed set here); `route` must come from the server's own set.
  void Observe(std::string_view method, const std::string& route, int status, double seconds);
  // Extra gauges computed at scrape time (ledger height, connections); name -> value.
  void SetGaugeSource(std::function<std::map<std::string, double>()> source) { gauges_ = std::move(source); }
  std::string Render() const;
  size_t series_count() const;

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
  std::function<std::map<std::string, double>()> gauges_;
  uint64_t overflowed_ = 0;
};

// GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS as given (methods are case-sensitive, RFC 9110 section
// 9.1), anything else "other". For metrics and logs.
const char* MethodLabel(std::string_view method);

}  // namespace medledger::http
