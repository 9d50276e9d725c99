#include "auth/smart_scopes.h"

#include <algorithm>
#include <map>

namespace medledger::auth::smart {
namespace {

constexpr std::string_view kLetters = "cruds";

bool ScopeTokenChar(char c) {
  // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

bool ResourceTypeName(std::string_view t) {
  if (t == "*") return true;
  if (t.empty() || t.size() > 64 || !(t[0] >= 'A' && t[0] <= 'Z')) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// "rs" -> kRead|kSearch; the letters must be in "cruds" order, each at most once. v1 names map to v2.
uint8_t ParsePermissions(std::string_view p) {
  if (p == "read") return kRead | kSearch;
  if (p == "write") return kCreate | kUpdate | kDelete;
  if (p == "*") return kCreate | kRead | kUpdate | kDelete | kSearch;
  uint8_t bits = 0;
  size_t next = 0;
  for (char c : p) {
    auto at = kLetters.find(c, next);
    if (at == std::string_view::npos) return 0;
    bits |= static_cast<uint8_t>(1u << at);
    next = at + 1;
  }
  return bits;
}

std::string PermissionText(uint8_t bits) {
  std::string out;
  for (size_t i = 0; i < kLetters.size(); ++i) {
    if (bits & (1u << i)) out.push_back(kLetters[i]);
  }
  return out;
}

const char* ContextText(Context c) {
  switch (c) {
    case Context::kPatient: return "patient";
    case Context::kUser: return "user";
    case Context::kSystem: return "system";
  }
  return "patient";
}

bool Covers(const ResourceScope& allowed, Context context, std::string_view type) {
  return allowed.context == context && (allowed.type == "*" || allowed.type == type);
}

}  // namespace

bool ScopeSet::Allows(std::string_view type, Permission permission) const {
  return std::any_of(resources.begin(), resources.end(), [&](const ResourceScope& s) {
    return (s.type == "*" || s.type == type) && (s.permissions & permission) != 0;
  });
}

std::string ScopeSet::ToString() const {
  std::vector<std::string> parts;
  for (const auto& r : resources) {
    parts.push_back(std::string(ContextText(r.context)) + "/" + r.type + "." + PermissionText(r.permissions));
  }
  std::sort(parts.begin(), parts.end());
  if (launch_patient) parts.insert(parts.begin(), "launch/patient");
  if (openid) parts.push_back("openid");
  if (fhir_user) parts.push_back("fhirUser");
  if (offline_access) parts.push_back("offline_access");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

Result<ScopeSet> ParseScopes(std::string_view text) {
  auto invalid = [](std::string msg) { return MakeError(ErrorKind::kInvalidArgument, "invalid_scope", msg); };
  if (text.size() > kMaxScopeTextBytes) return invalid("the scope is too long");
  ScopeSet set;
  // Merged per (context, type): "patient/Observation.r patient/Observation.s" is one scope "rs".
  std::map<std::pair<Context, std::string>, uint8_t> merged;
  size_t count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view token = text.substr(pos, end - pos);
    pos = end;
    if (++count > kMaxScopes) return invalid("too many scopes");
    if (!std::all_of(token.begin(), token.end(), ScopeTokenChar)) return invalid("a scope has a forbidden character");
    if (token == "launch/patient") {
      set.launch_patient = true;
    } else if (token == "openid") {
      set.openid = true;
    } else if (token == "fhirUser") {
      set.fhir_user = true;
    } else if (token == "offline_access") {
      set.offline_access = true;
    } else {
      auto slash = token.find('/');
      auto dot = token.rfind('.');
      if (slash == std::string_view::npos || dot == std::string_view::npos || dot < slash) continue;
      std::string_view ctx = token.substr(0, slash);
      std::string_view type = token.substr(slash + 1, dot - slash - 1);
      std::string_view perms = token.substr(dot + 1);
      Context context;
      if (ctx == "patient") {
        context = Context::kPatient;
      } else if (ctx == "user") {
        context = Context::kUser;
      } else if (ctx == "system") {
        context = Context::kSystem;
      } else {
        continue;
      }
      uint8_t bits = ParsePermissions(perms);  // a '?' query (finer-grained v2 scopes) makes it 0: not granted
      if (bits == 0 || !ResourceTypeName(type)) continue;
      merged[{context, std::string(type)}] |= bits;
    }
  }
  for (auto& [key, bits] : merged) set.resources.push_back({key.first, key.second, bits});
  return set;
}

ScopeSet Narrow(const ScopeSet& requested, const ScopeSet& registered, bool has_patient_context) {
  ScopeSet out;
  for (const auto& want : requested.resources) {
    if (want.context == Context::kSystem) continue;
    if (want.context == Context::kPatient && !has_patient_context) continue;
    uint8_t allowed = 0;
    for (const auto& reg : registered.resources) {
      if (Covers(reg, want.context, want.type)) allowed |= reg.permissions;
    }
    uint8_t bits = want.permissions & allowed;
    if (bits != 0) out.resources.push_back({want.context, want.type, bits});
  }
  out.launch_patient = requested.launch_patient && registered.launch_patient && has_patient_context;
  out.offline_access = requested.offline_access && registered.offline_access;
  out.openid = requested.openid && registered.openid;
  out.fhir_user = out.openid && requested.fhir_user && registered.fhir_user && has_patient_context;
  return out;
}

std::string Describe(const ResourceScope& scope) {
  std::string what = scope.type == "*"                  ? "all of the records"
                     : scope.type == "DiagnosticReport" ? "medical reports"
                     : scope.type == "Patient"          ? "patient details"
                     : scope.type == "Consent"          ? "sharing consents"
                     : scope.type == "AuditEvent"       ? "access history"
                     : scope.type == "Provenance"       ? "record signatures"
                                                        : scope.type + " records";
  std::vector<std::string> verbs;
  if (scope.permissions & kRead) verbs.push_back("read");
  if (scope.permissions & kSearch) verbs.push_back("search");
  if (scope.permissions & kCreate) verbs.push_back("create");
  if (scope.permissions & kUpdate) verbs.push_back("change");
  if (scope.permissions & kDelete) verbs.push_back("delete");
  std::string verb;
  for (size_t i = 0; i < verbs.size(); ++i) {
    verb += (i == 0 ? "" : i + 1 == verbs.size() ? " and " : ", ") + verbs[i];
  }
  std::string whose = scope.context == Context::kPatient ? "your " : "the ";
  std::string tail = scope.context == Context::kUser ? " you can see" : "";
  return "The app can " + verb + " " + whose + what + tail + ".";
}

std::string DescribeIdentity(std::string_view scope) {
  if (scope == "fhirUser") return "The app can learn which patient record is yours.";
  return "The app can learn who you are (your user name here).";
}

}  // namespace medledger::auth::smart
