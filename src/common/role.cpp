#include "common/role.h"

namespace medledger {

namespace {
constexpr Role kRoles[] = {Role::kAdmin, Role::kDoctor, Role::kPatient, Role::kAuditor, Role::kService};
}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kDoctor: return "doctor";
    case Role::kPatient: return "patient";
    case Role::kAuditor: return "auditor";
    case Role::kService: return "service";
  }
  return "unknown";  // not an enumerator: only a memory error makes one
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role r : kRoles) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

}  // namespace medledger
