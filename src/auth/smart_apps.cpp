#include "auth/smart_apps.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "auth/client_assertion.h"
#include "auth/smart_scopes.h"
#include "common/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace medledger::auth {
namespace {

using json = nlohmann::json;
constexpr std::string_view kAad = "medledger smart apps v1";

Error Invalid(const std::string& message) {
  return MakeError(ErrorKind::kInvalidArgument, "validation_failed", message);
}

bool LoopbackHost(std::string_view host_port) {
  std::string_view host =
      host_port.substr(0, host_port.rfind(':') == std::string_view::npos || host_port[0] == '[' ? host_port.size()
                                                                                                : host_port.rfind(':'));
  return host == "localhost" || host == "127.0.0.1" || host_port.rfind("[::1]", 0) == 0;
}

// A system client: keys, account and system/ scopes only (it has no user to delegate anything else).
Result<SmartApp> ValidateSystemClient(const SmartAppInput& input) {
  if (!input.redirect_uris.empty() || input.confidential) {
    return Invalid("a system client (jwks) has no redirectUris and no client secret");
  }
  if (input.acts_as.empty() || input.acts_as.size() > 128) return Invalid("actsAs: the doctor account it acts as");
  auto jwks = CanonicalClientJwks(input.jwks);
  if (!jwks.ok()) return Invalid(jwks.error().message);
  auto scopes = smart::ParseScopes(input.scope);
  if (!scopes.ok()) return Invalid("scope: " + scopes.error().message);
  if (scopes->resources.empty() || scopes->launch_patient || scopes->offline_access) {
    return Invalid("scope: a system client has system/ resource scopes only");
  }
  for (const auto& r : scopes->resources) {
    if (r.context != smart::Context::kSystem) return Invalid("scope: a system client has system/ scopes only");
  }
  SmartApp app;
  app.jwks = std::move(*jwks);
  app.acts_as = input.acts_as;
  return app;
}

}  // namespace

Status ValidateRedirectUri(std::string_view uri) {
  auto bad = [](const std::string& why) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_redirect_uri", "redirect URI " + why);
  };
  if (uri.empty() || uri.size() > kMaxRedirectUriBytes) return bad("is empty or too long");
  if (!std::all_of(uri.begin(), uri.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return bad("has spaces or characters outside ASCII");
  }
  if (uri.find('#') != std::string_view::npos) return bad("has a fragment");
  bool https = uri.rfind("https://", 0) == 0;
  bool http = uri.rfind("http://", 0) == 0;
  if (!https && !http) return bad("must be https (or http on a loopback host)");
  std::string_view rest = uri.substr(https ? 8 : 7);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty()) return bad("has no host");
  if (authority.find('@') != std::string_view::npos) return bad("has user information");
  if (http && !LoopbackHost(authority)) return bad("must be https unless the host is loopback");
  return OkStatus();
}

Result<std::unique_ptr<SmartAppRegistry>> SmartAppRegistry::Open(std::filesystem::path file,
                                                                 const identity::MasterKey& master_key, io::Env* env) {
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "smart-apps", env));
  std::unique_ptr<SmartAppRegistry> r(new SmartAppRegistry(std::move(file), std::move(sealer)));
  ML_RETURN_IF_ERROR(r->Load());
  return r;
}

Status SmartAppRegistry::Load() {
  auto text = sealer_.Read(file_, kAad);
  if (!text.ok()) return text.error().code == "not_found" ? OkStatus() : Status(text.error());
  json j = json::parse(*text, nullptr, false);
  auto corrupt = [] {
    return MakeError(ErrorKind::kCorruption, "smart_apps_corrupt", "the SMART app store is corrupt");
  };
  if (!j.is_object() || !j.contains("apps") || !j["apps"].is_array()) return corrupt();
  try {
    for (const auto& a : j["apps"]) {
      SmartApp app;
      app.client_id = a.at("clientId").get<std::string>();
      app.name = a.at("name").get<std::string>();
      app.redirect_uris = a.at("redirectUris").get<std::vector<std::string>>();
      app.confidential = a.at("confidential").get<bool>();
      app.secret_hash = a.at("secretHash").get<std::string>();
      app.scope = a.at("scope").get<std::string>();
      app.created_by = a.at("createdBy").get<std::string>();
      app.created_at = a.at("createdAt").get<int64_t>();
      app.jwks = a.value("jwks", "");
      app.acts_as = a.value("actsAs", "");
      apps_.push_back(std::move(app));
    }
  } catch (const json::exception&) {
    return corrupt();
  }
  return OkStatus();
}

Status SmartAppRegistry::PersistLocked() const {
  json apps = json::array();
  for (const auto& a : apps_) {
    apps.push_back({{"clientId", a.client_id},
                    {"name", a.name},
                    {"redirectUris", a.redirect_uris},
                    {"confidential", a.confidential},
                    {"secretHash", a.secret_hash},
                    {"scope", a.scope},
                    {"createdBy", a.created_by},
                    {"createdAt", a.created_at}});
    if (a.system()) {
      apps.back()["jwks"] = a.jwks;
      apps.back()["actsAs"] = a.acts_as;
    }
  }
  return sealer_.Write(file_, json{{"version", 1}, {"apps", std::move(apps)}}.dump(), kAad);
}

Result<std::pair<SmartApp, std::string>> SmartAppRegistry::Register(const SmartAppInput& input,
                                                                    const std::string& created_by, int64_t now) {
  if (input.name.empty() || input.name.size() > kMaxAppNameBytes || !IsValidUtf8(input.name) ||
      std::any_of(input.name.begin(), input.name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Invalid("name: 1 to 100 characters of text");
  }
  SmartApp app;
  if (!input.jwks.empty()) {
    ML_ASSIGN_OR_RETURN(app, ValidateSystemClient(input));
  } else if (input.redirect_uris.empty() || input.redirect_uris.size() > kMaxRedirectUris) {
    return Invalid("redirectUris: 1 to 10 URIs");
  }
  for (const auto& uri : input.redirect_uris) {
    if (Status s = ValidateRedirectUri(uri); !s.ok()) return Invalid("redirectUris: " + s.error().message);
  }
  auto scopes = smart::ParseScopes(input.scope);
  if (!scopes.ok()) return Invalid("scope: " + scopes.error().message);
  if (scopes->resources.empty()) return Invalid("scope: at least one resource scope this server supports");
  app.client_id = crypto::RandomHex(16);
  app.name = input.name;
  app.redirect_uris = input.redirect_uris;
  app.confidential = input.confidential;
  app.scope = scopes->ToString();
  app.created_by = created_by;
  app.created_at = now;
  std::string secret;
  if (app.confidential) {
    secret = Base64UrlEncode(crypto::RandomBytes(32));
    app.secret_hash = HexEncode(crypto::Sha256(secret));
  }
  std::lock_guard lock(mu_);
  if (apps_.size() >= kMaxSmartApps) {
    return MakeError(ErrorKind::kAlreadyExists, "too_many_apps", "at most 200 apps can be registered");
  }
  apps_.push_back(app);
  if (Status s = PersistLocked(); !s.ok()) {
    apps_.pop_back();
    return s.error();
  }
  return std::pair{std::move(app), std::move(secret)};
}

Status SmartAppRegistry::Remove(const std::string& client_id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(apps_.begin(), apps_.end(), [&](const SmartApp& a) { return a.client_id == client_id; });
  if (it == apps_.end()) return MakeError(ErrorKind::kNotFound, "app_not_found", "no app has this client ID");
  SmartApp removed = std::move(*it);
  apps_.erase(it);
  if (Status s = PersistLocked(); !s.ok()) {
    apps_.push_back(std::move(removed));
    return s;
  }
  return OkStatus();
}

std::vector<SmartApp> SmartAppRegistry::List() const {
  std::lock_guard lock(mu_);
  return apps_;
}

std::optional<SmartApp> SmartAppRegistry::Find(std::string_view client_id) const {
  std::lock_guard lock(mu_);
  for (const auto& a : apps_) {
    if (a.client_id == client_id) return a;
  }
  return std::nullopt;
}

bool SmartAppRegistry::SecretMatches(const SmartApp& app, std::string_view secret) {
  if (!app.confidential || app.secret_hash.empty() || secret.empty() || secret.size() > 256) return false;
  return crypto::ConstantTimeEquals(HexEncode(crypto::Sha256(secret)), app.secret_hash);
}

}  // namespace medledger::auth
