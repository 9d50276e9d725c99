// SMART App Launch 2.x scopes (docs/FHIR.md, SMART on FHIR): parsing the v2 syntax (`patient/DiagnosticReport.rs`,
// `user/*.cruds`; v1 `.read`/`.write`/`.*` read as their v2 equivalents), narrowing a request to what the app
// is registered for and what the user can delegate, and the check every FHIR interaction of an app passes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::auth::smart {

// v2 permissions, in the order the scope text spells them ("cruds").
enum Permission : uint8_t { kCreate = 1, kRead = 2, kUpdate = 4, kDelete = 8, kSearch = 16 };

enum class Context { kPatient, kUser, kSystem };

struct ResourceScope {
  Context context = Context::kPatient;
  std::string type;         // a FHIR resource type, or "*"
  uint8_t permissions = 0;  // Permission bits, never 0
};

struct ScopeSet {
  std::vector<ResourceScope> resources;
  bool launch_patient = false;
  bool openid = false;
  bool fhir_user = false;
  bool offline_access = false;

  // Whether some resource scope (of any context) grants `permission` on `type`.
  bool Allows(std::string_view type, Permission permission) const;
  // Canonical text: space-separated, v2 spelling, in a stable order.
  std::string ToString() const;
};

inline constexpr size_t kMaxScopeTextBytes = 2048;
inline constexpr size_t kMaxScopes = 64;

// "invalid_scope" for text that is too long, has too many scopes or characters outside the scope-token
// grammar (RFC 6749 3.3). Scopes this server does not know (or v2 scopes with query parameters, which it
// does not support) are left out rather than refused: RFC 6749 lets the server grant less than asked.
Result<ScopeSet> ParseScopes(std::string_view text);

// What may be granted: the requested scopes, cut to the app's registered scopes and to what the user can
// delegate. patient/ scopes and launch/patient need a patient in context: only a patient user has one
// (a clinician's launch/patient would need a patient picker, which this server does not have). system/
// scopes are for backend services and never granted here. openid (an ID token) is granted like the others;
// fhirUser only with openid and a patient in context, since the only FHIR resource a user can be here is
// their own Patient (there is no Practitioner resource for a clinician to point at).
ScopeSet Narrow(const ScopeSet& requested, const ScopeSet& registered, bool has_patient_context);

// One sentence a patient understands, for the consent screen.
std::string Describe(const ResourceScope& scope);
// The same for the identity scopes: "openid" and "fhirUser".
std::string DescribeIdentity(std::string_view scope);

}  // namespace medledger::auth::smart
