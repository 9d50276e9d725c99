// Small secrets and records at rest: AES-256-GCM under a purpose key derived from the master key, written
// atomically with mode 0600. File format: "MLS1" || nonce(12) || ciphertext||tag; the AAD names the purpose.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/master_key.h"
#include "io/env.h"

namespace medledger::identity {

class SealedFiles {
 public:
  // Files are written and read through `env` (null: io::Env::Default()), which must outlive this.
  static Result<SealedFiles> Create(const identity::MasterKey& master_key, std::string_view purpose,
                                    io::Env* env = nullptr);

  Result<std::string> Seal(std::string_view plaintext, std::string_view aad) const;
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;  // "sealed_data_corrupt"

  // io::WriteFileAtomic: mode 0600, the old or the new content after a crash.
  Status Write(const std::filesystem::path& file, std::string_view plaintext, std::string_view aad) const;
  Result<std::string> Read(const std::filesystem::path& file, std::string_view aad) const;  // "not_found"

 private:
  SealedFiles(std::string key, io::Env* env) : key_(std::move(key)), env_(env) {}
  std::string key_;
  io::Env* env_;
};

}  // namespace medledger::identity
