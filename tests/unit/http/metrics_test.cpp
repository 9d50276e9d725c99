// Metrics labels come from closed sets whatever the client sends, and the series map is bounded.
#include "http/metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "http/app.h"

namespace medledger::http {
namespace {

TEST(MetricsTest, MethodLabelIsAClosedSet) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) EXPECT_STREQ(MethodLabel(m), m);
  for (const char* m : {"get", "PROPFIND", "BREW", "", "GET ", "CONNECT", "TRACE"}) {
    EXPECT_STREQ(MethodLabel(m), "other") << m;
  }
}

TEST(MetricsTest, TwoThousandMethodNamesMakeOneSeries) {
  Metrics metrics;
  for (int i = 0; i < 2000; ++i) metrics.Observe("M" + std::to_string(i), "unmatched", 405, 0.001);
  EXPECT_EQ(metrics.series_count(), 1u);
  std::string text = metrics.Render();
  EXPECT_NE(text.find(R"(medledger_http_requests_total{method="other",route="unmatched",status="405"} 2000)"),
            std::string::npos);
  EXPECT_EQ(text.find("M1999"), std::string::npos);
  EXPECT_LT(text.size(), 4096u);
}

TEST(MetricsTest, TheSeriesMapIsCappedEvenIfACallerPassesOpenLabels) {
  Metrics metrics;
  for (size_t i = 0; i < Metrics::kMaxSeries + 500; ++i) metrics.Observe("GET", "/r" + std::to_string(i), 200, 0.01);
  metrics.Observe("GET", "/r0", 999, 0.01);  // a status outside 100-599 becomes 0
  EXPECT_EQ(metrics.series_count(), Metrics::kMaxSeries + 1);
  std::string text = metrics.Render();
  EXPECT_NE(text.find(R"(route="overflow")"), std::string::npos);
  EXPECT_NE(text.find("medledger_http_series_overflow_total 501"), std::string::npos);
}

// Through the App: arbitrary methods on known, unknown and would-be static paths collapse to a handful of
// series (the routes that need services are never reached by these requests).
TEST(MetricsTest, AppRequestsWithHostileMethodsAndPathsStayBounded) {
  App app(AppDeps{}, AppOptions{});
  for (int i = 0; i < 2000; ++i) {
    for (const char* path : {"/healthz", "/no/such/path", "/assets/x.js", "/api/v1/reports/abc"}) {
      Request req;
      req.method = "X" + std::to_string(i);
      req.SetTarget(std::string(path) + "?n=" + std::to_string(i));
      req.remote_address = "127.0.0.1";
      app.Handle(req);
    }
    Request req;
    req.method = "GET";
    req.SetTarget("/static/file" + std::to_string(i) + ".js");
    app.Handle(req);
  }
  // method "other" x route "unmatched" x status {404, 405}, plus GET unmatched 404.
  EXPECT_LE(app.metrics().series_count(), 4u);
  EXPECT_EQ(app.metrics().Render().find("X1999"), std::string::npos);
  EXPECT_EQ(app.metrics().Render().find("file"), std::string::npos);
}

TEST(MetricsTest, MetricsOnTheApiListenerNeedAToken) {
  App app(AppDeps{}, AppOptions{});
  Request req;
  req.method = "GET";
  req.SetTarget("/metrics");
  EXPECT_EQ(app.Handle(req).status, 401);
  // The ops listener's handler serves them without one, and nothing else.
  EXPECT_EQ(app.HandleOps(req).status, 200);
  Request other;
  other.method = "GET";
  other.SetTarget("/healthz");
  EXPECT_EQ(app.HandleOps(other).status, 404);
  Request post;
  post.method = "POST";
  post.SetTarget("/metrics");
  EXPECT_EQ(app.HandleOps(post).status, 405);
}

}  // namespace
}  // namespace medledger::http
