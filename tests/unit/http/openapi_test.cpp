// Every routed path must be documented in src/http/openapi.json (the web engineer codes against it).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/app.h"

namespace medledger::http {
namespace {

TEST(OpenApiTest, EveryRouteIsDocumentedWithItsMethod) {
  // Handlers are never invoked here, so the dependencies can stay empty.
  App app(AppDeps{}, AppOptions{});
  auto doc = nlohmann::json::parse(OpenApiDocument());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  ASSERT_GT(app.router().routes().size(), 30u);
  for (const auto& route : app.router().routes()) {
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern;
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(doc["paths"][route.pattern].contains(method)) << route.method << " " << route.pattern;
    bool documented_public = doc["paths"][route.pattern][method]["security"].empty();
    EXPECT_EQ(documented_public, route.auth == RouteAuth::kPublic) << route.method << " " << route.pattern;
  }
}

}  // namespace
}  // namespace medledger::http
