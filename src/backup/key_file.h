// The backup secret: a file holding base64 of exactly 32 random bytes (`openssl rand -base64 32 > K`), readable
// by its owner only. It is kept apart from the data and the backups; whoever holds it can read every backup.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace medledger::backup {

inline constexpr size_t kBackupSecretSize = 32;

// The 32 raw bytes. "key_file_invalid" when the file is missing, group/world accessible, not base64, or not
// exactly 32 bytes once decoded.
Result<std::string> LoadBackupSecret(const std::filesystem::path& key_file);

}  // namespace medledger::backup
