#include "http/metrics.h"

#include <cstdio>
#include <sstream>

namespace medledger::http {
namespace {

std::string Labels(const std::tuple<std::string, std::string, int>& k) {
  // Route patterns and methods come from our own router, never from the client, so no escaping is needed
  // beyond quotes, which they never contain.
  return "method=\"" + std::get<0>(k) + "\",route=\"" + std::get<1>(k) + "\",status=\"" +
         std::to_string(std::get<2>(k)) + "\"";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::Observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  Series& s = series_[{method, route, status}];
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
}

std::string Metrics::Render() const {
  std::ostringstream out;
  out << "# HELP medledger_http_requests_total HTTP requests by route and status.\n"
         "# TYPE medledger_http_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [k, s] : series_) out << "medledger_http_requests_total{" << Labels(k) << "} " << s.count << "\n";
  out << "# HELP medledger_http_request_duration_seconds Request latency.\n"
         "# TYPE medledger_http_request_duration_seconds histogram\n";
  for (const auto& [k, s] : series_) {
    std::string l = Labels(k);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "medledger_http_request_duration_seconds_bucket{" << l << ",le=\"" << Num(kBuckets[i]) << "\"} "
          << s.buckets[i] << "\n";
    }
    out << "medledger_http_request_duration_seconds_bucket{" << l << ",le=\"+Inf\"} " << s.count << "\n";
    out << "medledger_http_request_duration_seconds_sum{" << l << "} " << Num(s.sum) << "\n";
    out << "medledger_http_request_duration_seconds_count{" << l << "} " << s.count << "\n";
  }
  if (gauges_) {
    for (const auto& [name, value] : gauges_()) {
      out << "# TYPE " << name << " gauge\n" << name << " " << Num(value) << "\n";
    }
  }
  return out.str();
}

}  // namespace medledger::http
