// SMART App Launch 2.x (docs/FHIR.md, SMART on FHIR): discovery, the authorization and token endpoints, the
// consent screen's API, the administrator's app registry, and the gate that confines an app's token to /fhir/
// and to the scopes and patient it was granted. The flow itself is auth::SmartAuthorizer.
#include <algorithm>

#include "auth/smart_auth.h"
#include "common/encoding.h"
#include "common/time.h"
#include "http/api_backend.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"

namespace medledger::http {
namespace {

using auth::SmartAuthorizer;
namespace smart = auth::smart;

// Every name=value pair of a query or form body, percent-decoded (malformed pairs skipped).
std::vector<std::pair<std::string, std::string>> FormPairs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (key.ok() && value.ok()) out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::string SmartConfiguration(const auth::SmartConfig& c, bool backend_services) {
  json j = {{"issuer", c.issuer},
            {"jwks_uri", c.issuer + "/.well-known/jwks.json"},
            {"authorization_endpoint", c.issuer + "/oauth2/authorize"},
            {"token_endpoint", c.issuer + "/oauth2/token"},
            {"token_endpoint_auth_methods_supported", json::array({"client_secret_basic"})},
            {"grant_types_supported", json::array({"authorization_code", "refresh_token"})},
            {"response_types_supported", json::array({"code"})},
            {"scopes_supported",
             json::array({"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.rs", "user/*.rs",
                          "patient/DiagnosticReport.rs", "user/DiagnosticReport.rs", "user/DiagnosticReport.c",
                          "patient/Patient.rs", "user/Patient.rs", "patient/Provenance.rs", "user/Provenance.rs",
                          "patient/AuditEvent.rs", "user/AuditEvent.rs", "patient/Consent.crus", "user/Consent.rs"})},
            {"code_challenge_methods_supported", json::array({"S256"})},
            {"capabilities",
             json::array({"launch-standalone", "client-public", "client-confidential-symmetric",
                          "context-standalone-patient", "permission-v1", "permission-v2", "permission-patient",
                          "permission-user", "permission-offline", "sso-openid-connect"})}};
  if (backend_services) {
    // SMART Backend Services (docs/FHIR.md): private_key_jwt with the two algorithms the spec requires.
    j["token_endpoint_auth_methods_supported"].push_back("private_key_jwt");
    j["token_endpoint_auth_signing_alg_values_supported"] = json::array({"ES384", "RS384"});
    j["grant_types_supported"].push_back("client_credentials");
    j["capabilities"].push_back("client-confidential-asymmetric");
    for (const char* s : {"system/*.rs", "system/Patient.rs", "system/DiagnosticReport.rs", "system/Provenance.rs",
                          "system/Group.rs"}) {
      j["scopes_supported"].push_back(s);
    }
  }
  return j.dump();
}

Response OAuthError(int status, const std::string& error, const std::string& description) {
  Response r = JsonResponse(status, json{{"error", error}, {"error_description", description}}.dump());
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

Response TokenAnswer(const auth::TokenResponse& t) {
  json j = {
      {"access_token", t.access_token}, {"token_type", "Bearer"}, {"expires_in", t.expires_in}, {"scope", t.scope}};
  if (!t.patient.empty()) j["patient"] = t.patient;
  if (!t.refresh_token.empty()) j["refresh_token"] = t.refresh_token;
  if (!t.id_token.empty()) j["id_token"] = t.id_token;
  Response r = JsonResponse(200, j.dump());
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

Response TokenEndpoint(SmartAuthorizer* smart, auth::BackendServices* backend, const Request& req) {
  if (req.Header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0) {
    return OAuthError(400, "invalid_request", "the token request is application/x-www-form-urlencoded");
  }
  std::map<std::string, std::string> form;
  for (auto& [k, v] : FormPairs(req.body)) {
    // RFC 6749 3.2: parameters must not be included more than once.
    if (!form.emplace(k, v).second) return OAuthError(400, "invalid_request", "parameter " + k + " repeated");
  }
  auto param = [&form](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  if (param("grant_type") == "client_credentials") return ClientCredentialsToken(backend, req, form);
  auth::ClientCredentials client;
  client.client_id = param("client_id");
  std::string authz = req.Header("authorization");
  if (!authz.empty()) {
    if (authz.rfind("Basic ", 0) != 0) return OAuthError(401, "invalid_client", "only Basic client authentication");
    auto decoded = Base64Decode(std::string_view(authz).substr(6));
    auto colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return OAuthError(401, "invalid_client", "malformed Basic credentials");
    // RFC 6749 2.3.1: both halves are form-urlencoded before base64.
    auto id = PercentDecode(std::string_view(*decoded).substr(0, colon), true);
    auto secret = PercentDecode(std::string_view(*decoded).substr(colon + 1), true);
    if (!id.ok() || !secret.ok()) return OAuthError(401, "invalid_client", "malformed Basic credentials");
    if (!client.client_id.empty() && client.client_id != *id) {
      return OAuthError(400, "invalid_request", "client_id differs from the Basic credentials");
    }
    client = {*id, *secret, true};
  }
  if (!param("client_secret").empty()) {
    return OAuthError(400, "invalid_request", "send the client secret with client_secret_basic, not in the body");
  }
  std::string grant = param("grant_type");
  Result<auth::TokenResponse> answer =
      MakeError(ErrorKind::kInvalidArgument, "unsupported_grant_type",
                "grant_type is authorization_code, refresh_token or client_credentials");
  if (grant == "authorization_code") {
    answer = smart->ExchangeCode(client, param("code"), param("redirect_uri"), param("code_verifier"));
  } else if (grant == "refresh_token") {
    answer = smart->Refresh(client, param("refresh_token"), param("scope"));
  } else if (grant.empty()) {
    answer = MakeError(ErrorKind::kInvalidArgument, "invalid_request", "grant_type is required");
  }
  if (!answer.ok()) {
    const Error& e = answer.error();
    if (e.code == "invalid_client") {
      Response r = OAuthError(401, e.code, e.message);
      if (client.basic) r.SetHeader("WWW-Authenticate", "Basic realm=\"medledger\"");
      return r;
    }
    bool oauth_code = e.code == "invalid_request" || e.code == "invalid_grant" || e.code == "invalid_scope" ||
                      e.code == "unsupported_grant_type" || e.code == "unauthorized_client";
    if (oauth_code) return OAuthError(400, e.code, e.message);
    // The new refresh token could not be made durable: nothing was issued and the old one still works.
    if (e.kind == ErrorKind::kNoSpace || e.kind == ErrorKind::kIoError) {
      Response r = OAuthError(e.kind == ErrorKind::kNoSpace ? 507 : 503, "temporarily_unavailable",
                              "the token could not be stored; try again");
      r.SetHeader("Retry-After", "5");
      return r;
    }
    return OAuthError(500, "server_error", "the token could not be issued");
  }
  return TokenAnswer(*answer);
}

json AppJson(const auth::SmartApp& a) {
  json j = {{"clientId", a.client_id},
            {"name", a.name},
            {"redirectUris", a.redirect_uris},
            {"confidential", a.confidential},
            {"scope", a.scope},
            {"createdBy", a.created_by},
            {"createdAt", Timestamp{a.created_at, 0}.ToRfc3339()}};
  if (a.system()) {
    j["jwks"] = json::parse(a.jwks, nullptr, false);
    j["actsAs"] = a.acts_as;
  }
  return j;
}

std::optional<Response> AdminOnly(const RequestContext& ctx) {
  if (ctx.principal->role == identity::Role::kAdmin) return std::nullopt;
  return FromError(MakeError(ErrorKind::kPermissionDenied, "forbidden", "administrators only"));
}

Response InsufficientScope(const std::string& message) {
  Response r = ProblemResponse(MakeError(ErrorKind::kPermissionDenied, "insufficient_scope", message));
  r.SetHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\", error_description=\"" + message + "\"");
  return r;
}

// "Patient/p1", "p1", "http://host/fhir/r4/Patient/p1" -> "p1"; other resource types stay as they are.
std::string PatientIdOf(std::string_view ref) {
  if (auto slash = ref.rfind("Patient/"); slash != std::string_view::npos) return std::string(ref.substr(slash + 8));
  return std::string(ref);
}

}  // namespace

std::optional<Response> SmartScopeGate(const auth::Principal& who, const RequestContext& ctx) {
  if (IsSystemToken(who)) return SystemScopeGate(who, ctx);
  const Request& req = ctx.request;
  auto granted = smart::ParseScopes(who.scope);
  if (!granted.ok()) return InsufficientScope("the token's scope is unreadable");
  // "/fhir/r4/{Type}/..." -> Type; the interaction from the method and whether an id is named.
  auto segments = SplitOn(ctx.route, '/');
  if (segments.size() < 4) return InsufficientScope("no scope covers this route");
  const std::string type(segments[3]);
  // A bulk export's status and files: the job store answers only the job's owner (this client and user), and
  // the kick-off already passed this gate and checked every exported type against the scopes.
  if (type == "bulk-status" || type == "bulk-files") return std::nullopt;
  const bool instance = ctx.params.count("id") != 0;
  const bool search = req.method == "GET" ? !instance : segments.back() == "_search";
  smart::Permission need = search                   ? smart::kSearch
                           : req.method == "GET"    ? smart::kRead
                           : req.method == "POST"   ? smart::kCreate
                           : req.method == "DELETE" ? smart::kDelete
                                                    : smart::kUpdate;
  if (!granted->Allows(type, need)) return InsufficientScope("the app was not granted this interaction on " + type);

  std::string params_text = req.query;
  if (search && req.method == "POST" && !req.body.empty()) params_text += "&" + req.body;
  for (const auto& [key, value] : FormPairs(params_text)) {
    std::string_view base = std::string_view(key).substr(0, key.find(':'));
    if (key == "_include" || key == "_include:iterate") {
      auto parts = SplitOn(value, ':');
      std::string target = parts.size() >= 3 ? std::string(parts[2])
                           : parts.size() == 2 && (parts[1] == "subject" || parts[1] == "patient") ? "Patient"
                                                                                                   : "";
      if (target.empty() || !(granted->Allows(target, smart::kRead) || granted->Allows(target, smart::kSearch))) {
        return InsufficientScope("_include needs a scope for the included resources");
      }
    } else if (key == "_revinclude" || key == "_revinclude:iterate") {
      std::string target(SplitOn(value, ':')[0]);
      if (!(granted->Allows(target, smart::kRead) || granted->Allows(target, smart::kSearch))) {
        return InsufficientScope("_revinclude needs a scope for " + target);
      }
    } else if (!who.launch_patient.empty() && (base == "patient" || base == "subject" || base == "beneficiary")) {
      for (auto one : SplitOn(value, ',')) {
        if (PatientIdOf(one) != who.launch_patient) {
          return InsufficientScope("the app's token is limited to the patient in context");
        }
      }
    }
  }
  if (!who.launch_patient.empty() && type == "Patient" && instance && ctx.Param("id") != who.launch_patient) {
    return InsufficientScope("the app's token is limited to the patient in context");
  }
  return std::nullopt;
}

void AddSmartRoutes(Router& router, const AppDeps& deps) {
  SmartAuthorizer* smart = deps.smart;
  if (smart == nullptr) return;
  auto discovery = [smart, backend = deps.backend != nullptr](RequestContext&) {
    Response r = JsonResponse(200, SmartConfiguration(smart->config(), backend));
    r.SetHeader("Access-Control-Allow-Origin", "*");
    return r;
  };
  router.Add("GET", "/.well-known/smart-configuration", RouteAuth::kPublic, discovery);
  router.Add("GET", "/fhir/r4/.well-known/smart-configuration", RouteAuth::kPublic, discovery);

  router.Add("GET", "/oauth2/authorize", RouteAuth::kPublic, [smart](RequestContext& ctx) {
    const Request& req = ctx.request;
    auto p = [&req](const char* name) { return req.QueryParam(name).value_or(""); };
    auth::AuthorizeParams params{p("response_type"), p("client_id"), p("redirect_uri"),   p("scope"),
                                 p("state"),         p("aud"),       p("code_challenge"), p("code_challenge_method"),
                                 p("nonce")};
    auto outcome = smart->Begin(params, req.remote_address);
    Response r;
    r.status = 302;
    if (auto* id = std::get_if<std::string>(&outcome)) {
      // The web app shows the consent screen; the user signs in there first if needed.
      r.SetHeader("Location", "/smart/authorize?request=" + *id);
      return r;
    }
    const auto& failure = std::get<auth::AuthorizeFailure>(outcome);
    if (failure.redirect) {
      r.SetHeader("Location", failure.redirect_to);
      return r;
    }
    return OAuthError(400, failure.error, failure.description);
  });

  router.Add("POST", "/oauth2/token", RouteAuth::kPublic, [smart, backend = deps.backend](RequestContext& ctx) {
    Response r = TokenEndpoint(smart, backend, ctx.request);
    // Browser apps (public clients) call the token endpoint cross-origin; no cookies are involved.
    r.SetHeader("Access-Control-Allow-Origin", "*");
    return r;
  });

  router.Add("GET", "/api/v1/oauth2/requests/{id}", RouteAuth::kAuthenticated, [smart](RequestContext& ctx) {
    auto view = smart->Describe(ctx.Param("id"), *ctx.principal);
    if (!view.ok()) return FromError(view.error());
    json scopes = json::array();
    for (const auto& [scope, text] : view->descriptions) scopes.push_back({{"scope", scope}, {"description", text}});
    json j = {{"appName", view->app_name},
              {"clientId", view->client_id},
              {"redirectUri", view->redirect_uri},
              {"scope", view->scope},
              {"scopes", scopes},
              {"offlineAccess", view->offline_access}};
    if (!view->patient.empty()) j["patient"] = view->patient;
    return Json(200, j);
  });
  router.Add("POST", "/api/v1/oauth2/requests/{id}/decision", RouteAuth::kAuthenticated, [smart](RequestContext& ctx) {
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto approve = body->find("approve");
    if (approve == body->end() || !approve->is_boolean() || body->size() != 1) {
      return FromError(
          MakeError(ErrorKind::kInvalidArgument, "invalid_field", "the body is {\"approve\": true|false}"));
    }
    auto to = smart->Decide(ctx.Param("id"), *ctx.principal, approve->get<bool>());
    if (!to.ok()) return FromError(to.error());
    return Json(200, {{"redirectUri", *to}});
  });

  router.Add("GET", "/api/v1/apps", RouteAuth::kAuthenticated, [smart](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    json items = json::array();
    for (const auto& a : smart->apps().List()) items.push_back(AppJson(a));
    return Json(200, {{"items", items}});
  });
  router.Add("POST", "/api/v1/apps", RouteAuth::kAuthenticated, [smart, deps](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auth::SmartAppInput in;
    for (const auto& [key, value] : body->items()) {
      if (key != "name" && key != "redirectUris" && key != "confidential" && key != "scope" && key != "jwks" &&
          key != "actsAs") {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "unknown_field", "unexpected field " + key));
      }
    }
    auto name = StringField(*body, "name", true);
    auto scope = StringField(*body, "scope", true);
    for (auto* f : {&name, &scope}) {
      if (!f->ok()) return FromError(f->error());
    }
    in.name = *name;
    in.scope = *scope;
    if (auto system = SystemClientInput(deps, *body, in)) return std::move(*system);
    auto uris = body->find("redirectUris");
    if (uris != body->end() ? !uris->is_array() || uris->size() > auth::kMaxRedirectUris : in.jwks.empty()) {
      return FromError(
          MakeError(ErrorKind::kInvalidArgument, "invalid_field", "redirectUris: an array of 1 to 10 URIs"));
    }
    for (const auto& u : uris == body->end() ? json::array() : *uris) {
      if (!u.is_string()) {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "invalid_field", "redirectUris: strings only"));
      }
      in.redirect_uris.push_back(u.get<std::string>());
    }
    if (auto c = body->find("confidential"); c != body->end()) {
      if (!c->is_boolean()) {
        return FromError(MakeError(ErrorKind::kInvalidArgument, "invalid_field", "confidential must be a boolean"));
      }
      in.confidential = c->get<bool>();
    }
    auto created = smart->apps().Register(in, ctx.principal->username, Timestamp::Now().seconds);
    if (!created.ok()) return FromError(created.error());
    json j = AppJson(created->first);
    if (!created->second.empty()) j["clientSecret"] = created->second;  // shown this once, stored only hashed
    return Json(201, j);
  });
  router.Add("DELETE", "/api/v1/apps/{clientId}", RouteAuth::kAuthenticated, [smart](RequestContext& ctx) {
    if (auto refusal = AdminOnly(ctx)) return std::move(*refusal);
    auto s = smart->apps().Remove(ctx.Param("clientId"));
    if (!s.ok()) return FromError(s.error());
    return NoContent();
  });
}

}  // namespace medledger::http
