// The user directory: username -> role, display name, certificate, Argon2id password hash, disabled flag.
// Stored as one JSON file (mode 0600), replaced atomically on every change. Writers take an inter-process
// lock and re-read the file first, so the CLI and a running server can both add users.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/role.h"
#include "identity/password.h"
#include "io/env.h"

namespace medledger::identity {

using medledger::Role;
using medledger::RoleName;
// A person's role from its name: admin, doctor, patient or auditor ("bad_role" otherwise; "service" is the
// organisation's machine identity, never a user of the directory).
Result<Role> ParseRole(std::string_view name);

// [a-z0-9][a-z0-9._-]{0,63}: safe as a file name, a certificate CN and a URL path segment.
bool IsValidUsername(std::string_view username);
Status ValidateUsername(std::string_view username);

struct User {
  std::string username;
  Role role = Role::kPatient;
  std::string display_name;
  std::string cert_pem;
  bool disabled = false;
  bool has_password = false;
  std::string created;  // RFC 3339
  // Session epoch: every access and refresh token carries the value it was issued under, and tokens from an
  // older epoch are refused. Bumped by SetPassword and SetDisabled (either way), so a password change,
  // reset, disable or re-enable ends every session the user had, including ones a CLI process ends while a
  // server runs (the server re-reads this file when it changes).
  uint64_t token_generation = 0;
};

class UserDirectory {
 public:
  // Opens (or starts empty if the file does not exist yet) the directory stored at `file`.
  // The file and its lock go through `env` (null: io::Env::Default()).
  static Result<std::unique_ptr<UserDirectory>> Open(std::filesystem::path file, PasswordCost cost,
                                                     io::Env* env = nullptr);

  // `password` is hashed here; without one the user cannot log in until SetPassword.
  // "user_exists" if the name is taken.
  Status AddUser(const User& user, const std::optional<std::string>& password);
  Result<User> GetUser(std::string_view username) const;  // "user_not_found"
  std::vector<User> ListUsers() const;                    // sorted by username
  // Same error ("invalid_credentials") and the same Argon2id cost for unknown users, disabled users, users
  // without a password and wrong passwords, so neither the answer nor its timing reveals which it was.
  Result<User> VerifyPassword(std::string_view username, std::string_view password) const;
  // Both end the user's sessions (token_generation + 1).
  Status SetPassword(std::string_view username, std::string_view password);
  Status SetDisabled(std::string_view username, bool disabled);
  // Ends the user's sessions without another change.
  Status EndSessions(std::string_view username);

 private:
  struct Record {
    User user;
    std::string password_hash;
  };
  using Map = std::map<std::string, Record, std::less<>>;

  UserDirectory(std::filesystem::path file, PasswordCost cost, io::Env* env);
  const std::string& DummyHash() const;
  Result<Map> ReadFile() const;
  Status WriteFile(const Map& users) const;
  // Picks up changes another process wrote since we last read the file.
  void RefreshIfChanged() const;
  // Runs `mutate` on the freshest copy under both locks, persists it and publishes it.
  template <class F>
  Status Update(F&& mutate);

  std::filesystem::path file_;
  std::filesystem::path lock_file_;
  io::Env* env_;
  PasswordCost cost_;
  // Verified against for unknown users; computed on first use so opening the directory (CLI, `verify`)
  // does not pay for an Argon2id hash it may never need.
  mutable std::once_flag dummy_once_;
  // Each Argon2id run holds memlimit bytes (64 MiB by default): a burst of logins must queue, not
  // allocate gigabytes.
  static constexpr int kMaxConcurrentHashes = 4;
  mutable std::counting_semaphore<kMaxConcurrentHashes> hash_slots_{kMaxConcurrentHashes};
  mutable std::string dummy_hash_;

  std::mutex write_mu_;
  mutable std::shared_mutex mu_;
  mutable Map users_;
  mutable std::string file_stamp_;  // mtime/size/inode when users_ was read
};

}  // namespace medledger::identity
