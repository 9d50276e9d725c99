// The organisation's master key: 32 random bytes in DIR/keys/master.key (mode 0600). It never encrypts data
// directly; purpose-bound keys are derived from it with HKDF-SHA-256 and a per-use salt.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::identity {

class MasterKey {
 public:
  static constexpr size_t kSize = 32;

  // Creates the key file with O_EXCL (never overwrites an existing key) and mode 0600.
  static Result<MasterKey> Create(const std::filesystem::path& path);
  // Loads the key; refuses files of the wrong size or readable by group or others.
  static Result<MasterKey> Load(const std::filesystem::path& path);
  static MasterKey FromBytes(std::string bytes) { return MasterKey(std::move(bytes)); }  // for tests

  // HKDF-SHA-256(master, salt, info = purpose) -> 32 bytes.
  Result<std::string> Derive(std::string_view purpose, std::string_view salt) const;

  MasterKey(MasterKey&&) noexcept = default;
  MasterKey& operator=(MasterKey&&) noexcept = default;
  MasterKey(const MasterKey&) = default;
  ~MasterKey();

 private:
  explicit MasterKey(std::string bytes) : key_(std::move(bytes)) {}
  std::string key_;
};

}  // namespace medledger::identity
