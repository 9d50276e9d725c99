// Method + path-pattern routing ("/api/v1/reports/{id}"). Segments are matched percent-decoded, so an
// encoded '/' inside a parameter never changes which route is taken.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "http/message.h"

namespace medledger::http {

struct RequestContext {
  Request& request;
  std::map<std::string, std::string, std::less<>> params;
  std::optional<auth::Principal> principal;
  std::string request_id;
  std::string route;  // the matched pattern, for metrics and logs (never the raw path: it may hold ids)

  const std::string& Param(std::string_view name) const;
};

using Handler = std::function<Response(RequestContext&)>;

enum class RouteAuth { kPublic, kAuthenticated };

struct Route {
  std::string method;
  std::string pattern;
  RouteAuth auth = RouteAuth::kAuthenticated;
  Handler handler;
  std::vector<std::string> segments;  // pattern split on '/'
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string, std::less<>> params;
};

class Router {
 public:
  // Patterns start with '/'; a segment "{name}" captures one non-empty path segment.
  void Add(std::string method, std::string pattern, RouteAuth auth, Handler handler);

  // The route for `method` and raw `path`, or an error: "route_not_found" (404), "method_not_allowed"
  // (kUnsupportedType is not right for 405, so the caller checks the code), "bad_encoding" (400).
  Result<RouteMatch> Match(std::string_view method, std::string_view raw_path) const;
  // Methods allowed on `raw_path` (for 405's Allow header).
  std::vector<std::string> AllowedMethods(std::string_view raw_path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  bool MatchSegments(const Route& route, const std::vector<std::string>& segs,
                     std::map<std::string, std::string, std::less<>>* params) const;
  std::vector<Route> routes_;
};

// Splits a raw path into percent-decoded segments; "/a//b/" -> {"a", "", "b", ""}.
Result<std::vector<std::string>> SplitPath(std::string_view raw_path);

}  // namespace medledger::http
