#include "http/router.h"

#include <gtest/gtest.h>

namespace medledger::http {
namespace {

Handler Named(std::string name) {
  return [name](RequestContext&) {
    Response r;
    r.body = name;
    return r;
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/api/v1/reports/{id}", RouteAuth::kAuthenticated, Named("get-report"));
    router_.Add("GET", "/api/v1/reports/{id}/history", RouteAuth::kAuthenticated, Named("history"));
    router_.Add("POST", "/api/v1/reports", RouteAuth::kAuthenticated, Named("submit"));
    router_.Add("GET", "/api/v1/reports/search", RouteAuth::kAuthenticated, Named("search"));
    router_.Add("DELETE", "/api/v1/patients/{id}/consents/{consentId}", RouteAuth::kAuthenticated, Named("revoke"));
  }
  std::string Run(const std::string& method, const std::string& path) {
    auto m = router_.Match(method, path);
    if (!m.ok()) return "error:" + m.error().code;
    Request req;
    RequestContext ctx{req, m->params, std::nullopt, {}, {}};
    return m->route->handler(ctx).body;
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
  EXPECT_EQ(Run("GET", "/api/v1/reports/abc"), "get-report");
  EXPECT_EQ(Run("GET", "/api/v1/reports/abc/history"), "history");
  EXPECT_EQ(Run("POST", "/api/v1/reports"), "submit");
  EXPECT_EQ(Run("DELETE", "/api/v1/patients/p1/consents/c2"), "revoke");
  auto m = router_.Match("DELETE", "/api/v1/patients/p1/consents/c2");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->params["id"], "p1");
  EXPECT_EQ(m->params["consentId"], "c2");
}

TEST_F(RouterTest, LiteralSegmentsWinOverParameters) {
  EXPECT_EQ(Run("GET", "/api/v1/reports/search"), "search");
}

TEST_F(RouterTest, UnknownPathsAndMethods) {
  EXPECT_EQ(Run("GET", "/api/v1/nothing"), "error:route_not_found");
  EXPECT_EQ(Run("GET", "/api/v1/reports/"), "error:route_not_found");  // empty parameter
  EXPECT_EQ(Run("GET", "/api/v1/reports/a/b/c"), "error:route_not_found");
  EXPECT_EQ(Run("PUT", "/api/v1/reports/abc"), "error:method_not_allowed");
  EXPECT_EQ(router_.AllowedMethods("/api/v1/reports/abc"), std::vector<std::string>{"GET"});
  EXPECT_EQ(Run("GET", "relative"), "error:bad_path");
}

TEST_F(RouterTest, ParametersArePercentDecodedAfterSplitting) {
  auto m = router_.Match("GET", "/api/v1/reports/a%2Fb");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->params["id"], "a/b");  // an encoded slash stays inside the parameter
  EXPECT_EQ(m->route->pattern, "/api/v1/reports/{id}");
  EXPECT_EQ(Run("GET", "/api/v1/reports/%zz"), "error:bad_encoding");
  EXPECT_EQ(Run("GET", "/api/v1/reports/%00"), "error:bad_encoding");
  EXPECT_EQ(Run("GET", "/api/v1/reports/%4"), "error:bad_encoding");
}

TEST(MessageTest, QueryParametersAndHeaders) {
  Request r;
  r.SetTarget("/x?query=John+Smith&pageSize=20&empty&bad=%G0&enc=a%26b");
  EXPECT_EQ(r.path, "/x");
  EXPECT_EQ(r.QueryParam("query"), "John Smith");
  EXPECT_EQ(r.QueryParam("pageSize"), "20");
  EXPECT_EQ(r.QueryParam("empty"), "");
  EXPECT_EQ(r.QueryParam("enc"), "a&b");
  EXPECT_FALSE(r.QueryParam("bad").has_value());
  EXPECT_FALSE(r.QueryParam("missing").has_value());
  Response res;
  res.SetHeader("Content-Type", "a");
  res.SetHeader("content-type", "b");
  EXPECT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.Header("CONTENT-TYPE"), "b");
}

TEST(MessageTest, PercentDecodeRoundTripsEveryByteButNul) {
  for (int c = 1; c < 256; ++c) {
    char enc[4];
    std::snprintf(enc, sizeof(enc), "%%%02X", c);
    auto d = PercentDecode(enc, false);
    ASSERT_TRUE(d.ok()) << c;
    EXPECT_EQ(*d, std::string(1, static_cast<char>(c)));
  }
}

}  // namespace
}  // namespace medledger::http
