// The wallet: one file per identity, DIR/wallet/<name>.id, holding the certificate in clear and the private
// key sealed with AES-256-GCM under a key derived from the master key (see docs/IDENTITY.md).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/signing_identity.h"
#include "io/env.h"

namespace medledger::identity {

class Wallet {
 public:
  // Entries are written and read through `env` (null: io::Env::Default()).
  Wallet(std::filesystem::path dir, MasterKey master_key, io::Env* env = nullptr);

  // Identity names: [a-z0-9_][a-z0-9._-]{0,63}. Usernames cannot start with '_', which leaves "_ca",
  // "_peer", "_orderer" to the organisation's own identities.
  static bool IsValidName(std::string_view name);

  // Atomically writes (or replaces) the entry for `name`.
  Status Put(std::string_view name, const SigningIdentity& identity) const;
  // Fails with "wallet_entry_missing", "wallet_corrupt" (format) or "wallet_decrypt_failed" (tampered file
  // or wrong master key).
  Result<SigningIdentity> Load(std::string_view name) const;
  bool Contains(std::string_view name) const;
  std::vector<std::string> List() const;

  std::filesystem::path PathFor(std::string_view name) const;
  const MasterKey& master_key() const { return master_key_; }

  // The serialized entry format, exposed for tests and tools.
  Result<std::string> Seal(std::string_view name, const SigningIdentity& identity) const;
  Result<SigningIdentity> Open(std::string_view name, std::string_view file_contents) const;

 private:
  std::filesystem::path dir_;
  MasterKey master_key_;
  io::Env* env_;
};

}  // namespace medledger::identity
