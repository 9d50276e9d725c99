#include "http/peer_api.h"

#include <spdlog/spdlog.h>

#include "http/problem.h"
#include "service/consortium_service.h"

namespace medledger::http {
namespace {

constexpr char kCarType[] = "application/vnd.ipld.car; version=1; order=unk; dups=n";

Response Json(std::string body) {
  Response r;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

// A member that cannot be served now (this hospital's peer or content node is down) retries later.
Response Problem(const Error& e) {
  Response r = ProblemResponse(e);
  if (r.status == 503) r.SetHeader("Retry-After", "5");
  return r;
}

}  // namespace

PeerApi::PeerApi(service::ConsortiumService& consortium) : consortium_(consortium) {
  router_.Add("POST", "/peer/v1/keys/release", RouteAuth::kPublic, [this](RequestContext& ctx) {
    auto answer = consortium_.ReleaseKey(ctx.request.peer_certificates_pem, ctx.request.body);
    return answer.ok() ? Json(std::move(*answer)) : Problem(answer.error());
  });
  router_.Add("POST", "/peer/v1/replicas", RouteAuth::kPublic, [this](RequestContext& ctx) {
    auto answer = consortium_.AcceptReplica(ctx.request.peer_certificates_pem, ctx.request.body);
    return answer.ok() ? Json(std::move(*answer)) : Problem(answer.error());
  });
  router_.Add("GET", "/ipfs/{cid}", RouteAuth::kPublic, [this](RequestContext& ctx) {
    // The trustless gateway answers CARs only (no deserialized responses): ?format=car or the Accept header.
    const bool car = ctx.request.QueryParam("format").value_or("") == "car" ||
                     ctx.request.Header("accept").find("application/vnd.ipld.car") != std::string::npos;
    if (!car) {
      return Problem(MakeError(ErrorKind::kUnsupportedType, "car_only", "this gateway answers ?format=car only"));
    }
    auto answer = consortium_.ServeCar(ctx.request.peer_certificates_pem, ctx.Param("cid"));
    if (!answer.ok()) return Problem(answer.error());
    Response r;
    r.SetHeader("Content-Type", kCarType);
    r.SetHeader("Cache-Control", "public, max-age=29030400, immutable");  // a CID's bytes never change
    r.body = std::move(*answer);
    return r;
  });
}

Response PeerApi::Handle(Request& req) {
  auto match = router_.Match(req.method, req.path);
  if (!match.ok()) {
    if (match.error().code == "method_not_allowed") {
      return ProblemResponse(MakeError(ErrorKind::kInvalidArgument, "method_not_allowed", "method not allowed"), 405);
    }
    return ProblemResponse(match.error());
  }
  RequestContext ctx{req, std::move(match->params), std::nullopt, "", match->route->pattern};
  Response r = match->route->handler(ctx);
  spdlog::info(R"({{"event":"peer_request","route":"{}","status":{}}})", ctx.route, r.status);
  return r;
}

}  // namespace medledger::http
