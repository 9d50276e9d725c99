// SMART Backend Services and Bulk Data Groups over HTTP (docs/FHIR.md, Backend services). The work is
// auth::BackendServices (the assertion and the token) and service::BulkGroupRegistry (the Groups).
#include "http/api_backend.h"

#include "auth/backend_services.h"
#include "auth/smart_scopes.h"
#include "common/encoding.h"
#include "common/time.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "service/bulk_groups.h"
#include "service/user_admin.h"

namespace medledger::http {
namespace {

namespace smart = auth::smart;

Response OAuthError(int status, const std::string& error, const std::string& description) {
  Response r = JsonResponse(status, json{{"error", error}, {"error_description", description}}.dump());
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

Response InsufficientScope(const std::string& message) {
  Response r = ProblemResponse(MakeError(ErrorKind::kPermissionDenied, "insufficient_scope", message));
  r.SetHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\", error_description=\"" + message + "\"");
  return r;
}

std::optional<Response> AdminOnly(const RequestContext& ctx) {
  if (ctx.principal->role == identity::Role::kAdmin && ctx.principal->client_id.empty()) return std::nullopt;
  return FromError(MakeError(ErrorKind::kPermissionDenied, "forbidden", "administrators only"));
}

json GroupJson(const service::BulkGroup& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"clientId", g.client_id},
          {"members", g.members},
          {"createdBy", g.created_by},
          {"createdAt", Timestamp{g.created_at, 0}.ToRfc3339()}};
}

}  // namespace

bool IsSystemToken(const auth::Principal& who) {
  if (who.client_id.empty()) return false;
  auto scopes = smart::ParseScopes(who.scope);
  if (!scopes.ok()) return false;
  return std::any_of(scopes->resources.begin(), scopes->resources.end(),
                     [](const smart::ResourceScope& r) { return r.context == smart::Context::kSystem; });
}

std::optional<Response> SystemScopeGate(const auth::Principal& who, const RequestContext& ctx) {
  const std::string& route = ctx.route;
  const std::string& method = ctx.request.method;
  if ((method == "GET" || method == "DELETE") && route == "/fhir/r4/bulk-status/{id}") return std::nullopt;
  if (method == "GET" && (route == "/fhir/r4/bulk-files/{id}/{name}" || route == "/fhir/r4/Group/{id}/$export")) {
    return std::nullopt;  // the job store answers only the owner; the kick-off checks every exported type
  }
  if (method == "GET" && route == "/fhir/r4/Group/{id}") {
    auto scopes = smart::ParseScopes(who.scope);
    if (scopes.ok() && scopes->Allows("Group", smart::kRead)) return std::nullopt;
    return InsufficientScope("reading a Group needs system/Group.r");
  }
  return InsufficientScope("a backend-services token is only for Group export and its bulk status and files");
}

std::optional<Response> SystemClientInput(const AppDeps& deps, const json& body, auth::SmartAppInput& in) {
  auto bad = [](const std::string& message) {
    return FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed", message));
  };
  auto jwks = body.find("jwks");
  auto acts_as = body.find("actsAs");
  if (jwks == body.end()) {
    if (acts_as != body.end()) return bad("actsAs is for a system client (with jwks)");
    return std::nullopt;
  }
  if (!jwks->is_object()) return bad("jwks: a JSON Web Key Set object {\"keys\":[...]}");
  if (acts_as == body.end() || !acts_as->is_string()) return bad("actsAs: the doctor account the client acts as");
  in.jwks = jwks->dump();
  in.acts_as = acts_as->get<std::string>();
  if (deps.users == nullptr) return bad("actsAs: no user directory");
  if (!deps.users->IsActiveDoctor(in.acts_as)) {
    return bad("actsAs: " + in.acts_as.substr(0, 64) + " is not an active doctor account");
  }
  return std::nullopt;
}

Response ClientCredentialsToken(auth::BackendServices* backend, const Request& req,
                                const std::map<std::string, std::string>& form) {
  auto param = [&form](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  if (backend == nullptr) {
    return OAuthError(400, "unsupported_grant_type", "client_credentials is not enabled on this server");
  }
  if (!req.Header("authorization").empty() || !param("client_secret").empty()) {
    return OAuthError(400, "invalid_request",
                      "a system client authenticates with client_assertion (private_key_jwt) only");
  }
  auto answer = backend->ClientCredentials(param("client_assertion_type"), param("client_assertion"), param("scope"),
                                           param("client_id"));
  if (!answer.ok()) {
    const Error& e = answer.error();
    if (e.code == "invalid_client") return OAuthError(401, e.code, e.message);
    if (e.code == "temporarily_unavailable") {
      Response r = OAuthError(503, e.code, e.message);
      r.SetHeader("Retry-After", "5");
      return r;
    }
    if (e.code == "invalid_request" || e.code == "invalid_grant" || e.code == "invalid_scope") {
      return OAuthError(400, e.code, e.message);
    }
    return OAuthError(500, "server_error", "the token could not be issued");
  }
  Response r = JsonResponse(200, json{{"access_token", answer->access_token},
                                      {"token_type", "Bearer"},
                                      {"expires_in", answer->expires_in},
                                      {"scope", answer->scope}}
                                     .dump());
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

void AddBackendRoutes(Router& router, const AppDeps& deps) {
  service::BulkGroupRegistry* groups = deps.groups;
  auth::SmartAuthorizer* smart = deps.smart;
  if (groups == nullptr || smart == nullptr) return;
  router.Add("GET", "/api/v1/bulk-groups", RouteAuth::kAuthenticated, [groups](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    json items = json::array();
    for (const auto& g : groups->List()) items.push_back(GroupJson(g));
    return Json(200, {{"items", items}});
  });
  router.Add("GET", "/api/v1/bulk-groups/{id}", RouteAuth::kAuthenticated, [groups](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    auto g = groups->Find(ctx.Param("id"));
    if (!g) return FromError(MakeError(ErrorKind::kNotFound, "group_not_found", "no group has this ID"));
    return Json(200, GroupJson(*g));
  });
  router.Add("DELETE", "/api/v1/bulk-groups/{id}", RouteAuth::kAuthenticated, [groups](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    if (auto s = groups->Remove(ctx.Param("id")); !s.ok()) return FromError(s.error());
    return NoContent();
  });
  router.Add("POST", "/api/v1/bulk-groups", RouteAuth::kAuthenticated, [groups, smart](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    for (const auto& [key, value] : body->items()) {
      if (key != "name" && key != "clientId" && key != "members") {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "unknown_field", "unexpected field " + key));
      }
    }
    auto name = StringField(*body, "name", true);
    auto client = StringField(*body, "clientId", true);
    for (auto* f : {&name, &client}) {
      if (!f->ok()) return FromError(f->error());
    }
    auto app = smart->apps().Find(*client);
    if (!app || !app->system()) {
      return FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed",
                                 "clientId: not a registered system (backend services) client"));
    }
    auto members = body->find("members");
    if (members == body->end() || !members->is_array() || members->size() > service::kMaxGroupMembers) {
      return FromError(
          MakeError(ErrorKind::kInvalidArgument, "validation_failed", "members: an array of 1 to 1000 patient IDs"));
    }
    service::BulkGroupInput in{*name, *client, {}};
    for (const auto& m : *members) {
      if (!m.is_string()) {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed", "members: strings only"));
      }
      in.members.push_back(m.get<std::string>());
    }
    auto created = groups->Create(in, ctx.principal->username, Timestamp::Now().seconds);
    if (!created.ok()) return FromError(created.error());
    return Json(201, GroupJson(*created));
  });
}

}  // namespace medledger::http
