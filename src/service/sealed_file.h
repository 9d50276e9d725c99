// Small secrets and records at rest: AES-256-GCM under a purpose key derived from the master key, written
// atomically with mode 0600. File format: "MLS1" || nonce(12) || ciphertext||tag; the AAD names the purpose.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/master_key.h"

namespace medledger::service {

class SealedFiles {
 public:
  static Result<SealedFiles> Create(const identity::MasterKey& master_key, std::string_view purpose);

  Result<std::string> Seal(std::string_view plaintext, std::string_view aad) const;
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;  // "sealed_data_corrupt"

  Status Write(const std::filesystem::path& file, std::string_view plaintext, std::string_view aad) const;
  Result<std::string> Read(const std::filesystem::path& file, std::string_view aad) const;  // "not_found"

 private:
  explicit SealedFiles(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// Writes `bytes` to `file` via a uniquely named temporary file, fsync, rename and an fsync of the directory;
// mode 0600 whatever the umask.
Status WriteFileAtomically(const std::filesystem::path& file, std::string_view bytes);
Result<std::string> ReadWholeFile(const std::filesystem::path& file);  // "not_found", "io_error"

}  // namespace medledger::service
