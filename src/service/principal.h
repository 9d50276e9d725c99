// Who is calling: established only from a verified token (built-in issuer or an external OIDC provider).
#pragma once

#include <optional>
#include <string>

#include "identity/user_directory.h"

namespace medledger::service {

struct Principal {
  std::string username;  // the ledger identity (wallet entry) the caller's transactions are signed with
  identity::Role role = identity::Role::kPatient;
  std::string display_name;
  std::optional<std::string> patient_id;  // for patients: the record linked to their login
  std::string token_id;                   // jti, for logs
};

}  // namespace medledger::service
