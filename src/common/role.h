// The roles of medledger, one type for the contract and everything above it. The certificate's "role"
// attribute carries the name; a person (a user of the directory) is an administrator, doctor, patient or
// auditor, and kService is the organisation's machine identity (the report log's anchoring key, the
// key-release service), which anchors checkpoints and records key releases and reads no report.
#pragma once

#include <optional>
#include <string_view>

namespace medledger {

enum class Role { kAdmin, kDoctor, kPatient, kAuditor, kService };

// "admin", "doctor", "patient", "auditor", "service".
const char* RoleName(Role role);
// The role a name denotes, or nothing: there is no fallback role, a caller decides what an unknown name means.
std::optional<Role> RoleFromName(std::string_view name);

}  // namespace medledger
