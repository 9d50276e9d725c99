#include "http/metrics.h"

#include <cstdio>
#include <sstream>

namespace medledger::http {
namespace {

std::string Labels(const std::tuple<std::string, std::string, int>& k) {
  // Methods come from MethodLabel's closed set and routes from the router's own patterns, never from the
  // client, so no escaping is needed beyond quotes, which they never contain.
  return "method=\"" + std::get<0>(k) + "\",route=\"" + std::get<1>(k) + "\",status=\"" +
         std::to_string(std::get<2>(k)) + "\"";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

const char* MethodLabel(std::string_view method) {
  static constexpr const char* kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (const char* m : kKnown) {
    if (method == m) return m;
  }
  return "other";
}

void Metrics::Observe(std::string_view method, const std::string& route, int status, double seconds) {
  std::tuple<std::string, std::string, int> key{MethodLabel(method), route, status >= 100 && status < 600 ? status : 0};
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) {
    if (series_.size() >= kMaxSeries) {
      ++overflowed_;
      key = {"other", "overflow", 0};
    }
    it = series_.try_emplace(std::move(key)).first;
  }
  Series& s = it->second;
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
  out << "# HELP medledger_http_series_overflow_total Requests counted in the overflow series (label cap hit).\n"
         "# TYPE medledger_http_series_overflow_total counter\n"
         "medledger_http_series_overflow_total "
      << overflowed_ << "\n";
  if (gauges_) {
    for (const auto& [name, value] : gauges_()) {
      out << "# TYPE " << name << " gauge\n" << name << " " << Num(value) << "\n";
    }
  }
  return out.str();
}

size_t Metrics::series_count() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

}  // namespace medledger::http
