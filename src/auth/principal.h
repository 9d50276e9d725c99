// Who is calling: established only from a verified token (built-in issuer or an external OIDC provider).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "identity/user_directory.h"

namespace medledger::auth {

struct Principal {
  std::string username;  // the ledger identity (wallet entry) the caller's transactions are signed with
  identity::Role role = identity::Role::kPatient;
  std::string display_name;
  std::optional<std::string> patient_id;  // for patients: the record linked to their login
  std::string token_id;                   // jti, for logs and for revoking this very token at logout
  std::string session_id;                 // the token's session (sid), ended at logout
  int64_t token_expires_at = 0;           // the token's exp: how long its revocation must be remembered
  // A SMART app's token (docs/FHIR.md, SMART on FHIR): the registered client it was issued to, the scopes the
  // user granted it (v2 syntax) and the patient in context. Empty client_id: the web app's own token.
  std::string client_id;
  std::string scope;
  std::string launch_patient;
};

}  // namespace medledger::auth
