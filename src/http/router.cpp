#include "http/router.h"

#include <algorithm>

#include "common/encoding.h"

namespace medledger::http {
namespace {

std::vector<std::string> SplitRaw(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::vector<std::string> out;
  for (std::string_view segment : SplitOn(path, '/')) out.emplace_back(segment);
  return out;
}

bool IsParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

const std::string& RequestContext::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Result<std::vector<std::string>> SplitPath(std::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') {
    return MakeError(ErrorKind::kInvalidArgument, "bad_path", "the path must start with '/'");
  }
  std::vector<std::string> out;
  for (auto& seg : SplitRaw(raw_path)) {
    ML_ASSIGN_OR_RETURN(auto decoded, PercentDecode(seg, false));
    out.push_back(std::move(decoded));
  }
  return out;
}

void Router::Add(std::string method, std::string pattern, RouteAuth auth, Handler handler) {
  Route r;
  r.segments = SplitRaw(pattern);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.auth = auth;
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::MatchSegments(const Route& route, const std::vector<std::string>& segs,
                           std::map<std::string, std::string, std::less<>>* params) const {
  if (route.segments.size() != segs.size()) return false;
  std::map<std::string, std::string, std::less<>> found;
  for (size_t i = 0; i < segs.size(); ++i) {
    const auto& p = route.segments[i];
    if (IsParam(p)) {
      if (segs[i].empty()) return false;
      found[p.substr(1, p.size() - 2)] = segs[i];
    } else if (p != segs[i]) {
      return false;
    }
  }
  if (params) *params = std::move(found);
  return true;
}

Result<RouteMatch> Router::Match(std::string_view method, std::string_view raw_path) const {
  ML_ASSIGN_OR_RETURN(auto segs, SplitPath(raw_path));
  bool path_known = false;
  // Literal segments win over parameters ("/reports/search" before "/reports/{id}"): first pass exact.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& route : routes_) {
      bool has_param = std::any_of(route.segments.begin(), route.segments.end(), IsParam);
      if ((pass == 0) == has_param) continue;
      RouteMatch m;
      if (!MatchSegments(route, segs, &m.params)) continue;
      path_known = true;
      if (route.method != method) continue;
      m.route = &route;
      return m;
    }
  }
  if (path_known) return MakeError(ErrorKind::kInvalidArgument, "method_not_allowed", "method not allowed");
  return MakeError(ErrorKind::kNotFound, "route_not_found", "no such endpoint");
}

std::vector<std::string> Router::AllowedMethods(std::string_view raw_path) const {
  std::vector<std::string> out;
  auto segs = SplitPath(raw_path);
  if (!segs.ok()) return out;
  for (const auto& route : routes_) {
    if (MatchSegments(route, *segs, nullptr) && std::find(out.begin(), out.end(), route.method) == out.end()) {
      out.push_back(route.method);
    }
  }
  return out;
}

}  // namespace medledger::http
