// The SMART apps an administrator registered (docs/FHIR.md, SMART on FHIR): client ID, name, redirect URIs
// (matched exactly), public or confidential (the client secret is kept only as a SHA-256 hash: it is 256 random
// bits, so a slow hash adds nothing), and the scopes the app may ever be granted. Sealed at rest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/sealed_file.h"
#include "io/env.h"

namespace medledger::auth {

struct SmartApp {
  std::string client_id;
  std::string name;
  std::vector<std::string> redirect_uris;
  bool confidential = false;
  std::string secret_hash;  // hex SHA-256 of the secret; empty for a public client
  std::string scope;        // the registered (maximal) scopes, canonical v2 text
  std::string created_by;
  int64_t created_at = 0;
  // A backend-services (system) client (docs/FHIR.md, Backend services): its public keys (canonical JWKS,
  // auth/client_assertion.h) and the doctor account whose ledger identity and consents it acts with. Empty
  // jwks: an App Launch app.
  std::string jwks;
  std::string acts_as;
  bool system() const { return !jwks.empty(); }
};

struct SmartAppInput {
  std::string name;
  std::vector<std::string> redirect_uris;
  bool confidential = false;
  std::string scope;
  std::string jwks;     // set: a system client (no redirect URIs, system/ scopes only)
  std::string acts_as;  // a system client's account (the caller checks it is a doctor)
};

inline constexpr size_t kMaxSmartApps = 200;
inline constexpr size_t kMaxRedirectUris = 10;
inline constexpr size_t kMaxRedirectUriBytes = 2048;
inline constexpr size_t kMaxAppNameBytes = 100;

// A redirect URI an app may register: absolute https, or http on a loopback host (RFC 8252 7.3), no
// fragment, no userinfo, at most kMaxRedirectUriBytes. "invalid_redirect_uri" otherwise.
Status ValidateRedirectUri(std::string_view uri);

class SmartAppRegistry {
 public:
  // `file` (DATA/server/smart-apps.sealed); `env` null: io::Env::Default().
  static Result<std::unique_ptr<SmartAppRegistry>> Open(std::filesystem::path file,
                                                        const identity::MasterKey& master_key, io::Env* env = nullptr);

  // The new app and, for a confidential client, its secret (shown once, never stored). "validation_failed"
  // (with the field in the message), "too_many_apps" (409).
  Result<std::pair<SmartApp, std::string>> Register(const SmartAppInput& input, const std::string& created_by,
                                                    int64_t now);
  Status Remove(const std::string& client_id);  // "app_not_found"
  std::vector<SmartApp> List() const;
  std::optional<SmartApp> Find(std::string_view client_id) const;
  static bool SecretMatches(const SmartApp& app, std::string_view secret);

 private:
  SmartAppRegistry(std::filesystem::path file, identity::SealedFiles sealer)
      : file_(std::move(file)), sealer_(std::move(sealer)) {}
  Status Load();
  Status PersistLocked() const;

  std::filesystem::path file_;
  identity::SealedFiles sealer_;
  mutable std::mutex mu_;
  std::vector<SmartApp> apps_;
};

}  // namespace medledger::auth
