// /api/v1/auth/*, /api/v1/me, /api/v1/users, /api/v1/doctors and the built-in issuer's .well-known files.
#include <algorithm>

#include "auth/auth_service.h"
#include "auth/oidc.h"
#include "common/time.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "service/user_admin.h"

namespace medledger::http {
namespace {

json UserJson(const identity::User& u, const std::optional<std::string>& patient) {
  json j = {{"username", u.username}, {"role", identity::RoleName(u.role)}, {"displayName", u.display_name}};
  if (patient) j["patientId"] = *patient;
  return j;
}

Response TokenResponse(const auth::TokenPair& t, const std::optional<std::string>& patient) {
  return Json(200, {{"accessToken", t.access_token},
                    {"refreshToken", t.refresh_token},
                    {"tokenType", "Bearer"},
                    {"expiresIn", t.expires_in},
                    {"user", UserJson(t.user, patient)}});
}

}  // namespace

void AddAuthRoutes(Router& router, const AppDeps& deps, const AppOptions& options) {
  auth::AuthService* auth = deps.auth;

  router.Add("GET", "/.well-known/openid-configuration", RouteAuth::kPublic,
             [auth](RequestContext&) { return JsonResponse(200, auth->OpenIdConfigurationJson()); });
  router.Add("GET", "/.well-known/jwks.json", RouteAuth::kPublic,
             [auth](RequestContext&) { return JsonResponse(200, auth->signer().JwksJson()); });
  auth::OidcProvider* oidc = options.oidc;
  router.Add("GET", "/api/v1/auth/config", RouteAuth::kPublic, [oidc](RequestContext&) {
    if (oidc == nullptr) return JsonResponse(200, "{}");
    auto cfg = oidc->PublicConfigJson();
    // Password sign-in keeps working while the provider is down; the button just does not show.
    return JsonResponse(200, cfg.ok() ? *cfg : R"({"oidcUnavailable":true})");
  });

  // The second half of the authorization-code flow: the browser brings the code, the server redeems it.
  router.Add("POST", "/api/v1/auth/oidc/token", RouteAuth::kPublic, [auth, oidc](RequestContext& ctx) {
    if (oidc == nullptr) {
      return FromError(MakeError(ErrorKind::kNotFound, "oidc_not_configured", "no sign-in provider is configured"));
    }
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auth::ExternalSignIn in;
    for (auto [name, target] : {std::pair{"code", &in.code}, std::pair{"codeVerifier", &in.code_verifier},
                                std::pair{"redirectUri", &in.redirect_uri}, std::pair{"nonce", &in.nonce}}) {
      auto v = StringField(*body, name, true);
      if (!v.ok()) return FromError(v.error());
      if (v->size() > 2048) return FromError(MakeError(ErrorKind::kInvalidArgument, "invalid_field", "too long"));
      *target = std::move(*v);
    }
    auto who = oidc->SignIn(in, Timestamp::Now().seconds);
    if (!who.ok()) return FromError(who.error());
    auto tokens = auth->LoginExternal(*who);
    if (!tokens.ok()) return FromError(tokens.error());
    auto principal = auth->Authenticate(tokens->access_token);
    return TokenResponse(*tokens, principal.ok() ? principal->patient_id : std::nullopt);
  });

  router.Add("POST", "/api/v1/auth/login", RouteAuth::kPublic, [auth](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto username = StringField(*body, "username", true);
    if (!username.ok()) return FromError(username.error());
    auto password = StringField(*body, "password", true);
    if (!password.ok()) return FromError(password.error());
    if (username->size() > 128 || password->size() > 1024) {
      return FromError(MakeError(ErrorKind::kUnauthenticated, "invalid_credentials", "wrong username or password"));
    }
    int64_t retry_after = 0;
    auto tokens = auth->Login(*username, *password, ctx.request.remote_address, &retry_after);
    if (!tokens.ok()) {
      Response r = FromError(tokens.error());
      if (retry_after > 0) r.SetHeader("Retry-After", std::to_string(retry_after));
      return r;
    }
    auto principal = auth->Authenticate(tokens->access_token);
    return TokenResponse(*tokens, principal.ok() ? principal->patient_id : std::nullopt);
  });

  router.Add("POST", "/api/v1/auth/refresh", RouteAuth::kPublic, [auth](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto token = StringField(*body, "refreshToken", true);
    if (!token.ok()) return FromError(token.error());
    auto tokens = auth->Refresh(*token);
    if (!tokens.ok()) return FromError(tokens.error());
    auto principal = auth->Authenticate(tokens->access_token);
    return TokenResponse(*tokens, principal.ok() ? principal->patient_id : std::nullopt);
  });

  // Ends the session of the bearer token and revokes that token itself; a refresh token in the body (optional)
  // ends its session too.
  router.Add("POST", "/api/v1/auth/logout", RouteAuth::kAuthenticated, [auth](RequestContext& ctx) {
    std::string token;
    if (!ctx.request.body.empty()) {
      auto body = JsonBody(ctx.request);
      if (!body.ok()) return FromError(body.error());
      auto field = StringField(*body, "refreshToken", false);
      if (!field.ok()) return FromError(field.error());
      token = std::move(*field);
    }
    auto s = auth->Logout(*ctx.principal, token);
    if (!s.ok()) return FromError(s.error());
    return NoContent();
  });

  router.Add("GET", "/api/v1/me", RouteAuth::kAuthenticated, [](RequestContext& ctx) {
    const auto& p = *ctx.principal;
    json j = {{"username", p.username}, {"role", identity::RoleName(p.role)}, {"displayName", p.display_name}};
    if (p.patient_id) j["patientId"] = *p.patient_id;
    return Json(200, j);
  });

  service::UserAdminService* users = deps.users;
  router.Add("GET", "/api/v1/users", RouteAuth::kAuthenticated, [users](RequestContext& ctx) {
    auto list = users->ListUsers(*ctx.principal);
    if (!list.ok()) return FromError(list.error());
    json items = json::array();
    for (const auto& u : *list) {
      items.push_back({{"username", u.username},
                       {"role", identity::RoleName(u.role)},
                       {"displayName", u.display_name},
                       {"disabled", u.disabled}});
    }
    return Json(200, {{"items", items}});
  });

  router.Add("POST", "/api/v1/users", RouteAuth::kAuthenticated, [users](RequestContext& ctx) {
    if (auto s = service::UserAdminService::MayAdminister(*ctx.principal); !s.ok()) return FromError(s.error());
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto username = StringField(*body, "username", true);
    auto role = StringField(*body, "role", true);
    auto display = StringField(*body, "displayName", false);
    auto password = StringField(*body, "password", true);
    for (auto* r : {&username, &role, &display, &password}) {
      if (!r->ok()) return FromError(r->error());
    }
    std::vector<service::FieldIssue> issues;
    auto enrolled = users->Enroll(*ctx.principal, {*username, *role, *display, *password}, &issues);
    if (!enrolled.ok()) return FromError(enrolled.error(), issues);
    const identity::User& user = enrolled->user;
    json out = {
        {"username", user.username}, {"role", identity::RoleName(user.role)}, {"displayName", user.display_name}};
    if (enrolled->pending_approval) out["pendingApproval"] = true;
    return Json(201, out);
  });

  // The second administrator's approval of a clinical account (two-person rule). The contract refuses the
  // enrolling administrator, so the check does not rest on this server alone.
  router.Add("POST", "/api/v1/users/{username}/approve", RouteAuth::kAuthenticated, [users](RequestContext& ctx) {
    auto user = users->Approve(*ctx.principal, ctx.Param("username"));
    if (!user.ok()) return FromError(user.error());
    return Json(200, {{"username", user->username},
                      {"role", identity::RoleName(user->role)},
                      {"displayName", user->display_name},
                      {"approvedBy", ctx.principal->username}});
  });

  router.Add("GET", "/api/v1/doctors", RouteAuth::kAuthenticated, [users](RequestContext&) {
    json items = json::array();
    for (const auto& u : users->ListDoctors()) {
      items.push_back({{"username", u.username}, {"displayName", u.display_name}});
    }
    return Json(200, {{"items", items}});
  });
}

}  // namespace medledger::http
