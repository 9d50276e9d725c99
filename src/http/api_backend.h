// SMART Backend Services over HTTP (api_backend.cpp, docs/FHIR.md, Backend services): the client_credentials
// branch of /oauth2/token, the gate that confines a system client's token to the bulk routes, and the
// administrator's Group API (/api/v1/bulk-groups).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "auth/smart_apps.h"
#include "http/app.h"
#include "http/handler_util.h"

namespace medledger::http {

// Whether a verified token is a backend-services client's: its scopes are system/ ones (App Launch grants never
// carry system/ scopes, and a system client is never granted anything else).
bool IsSystemToken(const auth::Principal& who);
// A system token on a matched route: allowed only on Group/{id} (with a system read scope on Group),
// Group/{id}/$export and the bulk status and file routes; 403 insufficient_scope elsewhere.
std::optional<Response> SystemScopeGate(const auth::Principal& who, const RequestContext& ctx);
// POST /oauth2/token with grant_type=client_credentials (the parsed form).
Response ClientCredentialsToken(auth::BackendServices* backend, const Request& req,
                                const std::map<std::string, std::string>& form);
// The system-client members of an app registration body ("jwks": a JWKS object, "actsAs": an active doctor's
// username) into `in`; the 400 when they are malformed or the account is not an active doctor.
std::optional<Response> SystemClientInput(const AppDeps& deps, const json& body, auth::SmartAppInput& in);
// GET/POST /api/v1/bulk-groups, GET/DELETE /api/v1/bulk-groups/{id}: administrators only.
void AddBackendRoutes(Router& router, const AppDeps& deps);

}  // namespace medledger::http
