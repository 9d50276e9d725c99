#include "identity/password_file.h"

#include "identity/password.h"
#include "io/env.h"

namespace medledger::identity {

Result<std::string> ReadPasswordFile(const std::filesystem::path& path) {
  auto text = io::ReadFile(*io::Env::Default(), path, 4096);
  if (!text.ok()) {
    return MakeError(text.error().kind, "bad_password_file",
                     "cannot read password file " + path.string() + ": " + text.error().message);
  }
  std::string password = std::move(text).value();
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  ML_RETURN_IF_ERROR(ValidatePassword(password));
  return password;
}

}  // namespace medledger::identity
