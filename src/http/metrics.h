// Request counters and latency histograms by route and status, rendered in the Prometheus text format.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace medledger::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  void Observe(const std::string& method, const std::string& route, int status, double seconds);
  // Extra gauges computed at scrape time (ledger height, connections); name -> value.
  void SetGaugeSource(std::function<std::map<std::string, double>()> source) { gauges_ = std::move(source); }
  std::string Render() const;

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
  std::function<std::map<std::string, double>()> gauges_;
};

}  // namespace medledger::http
