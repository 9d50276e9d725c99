// `medledger backup`: an encrypted, consistent, incremental copy of a data directory, taken while the server
// serves. Layout: OUT/backup-NNNNNN/{files/<relative path>, manifest.json.enc}; the manifest is written last,
// so a backup without one is incomplete and restore refuses it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backup/snapshot.h"
#include "common/result.h"
#include "io/env.h"

namespace medledger::backup {

// Called as bytes are read: (done, total). The total can grow while the backup runs.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct BackupOptions {
  std::filesystem::path data_dir;
  std::filesystem::path out_dir;
  std::string secret;                 // 32 bytes, from LoadBackupSecret
  bool force_full = false;            // do not chain to the previous backup
  BlockHashFn block_hash;             // may be null: the manifest then records no last block hash
  ProgressFn progress;                // may be null
  io::Env* env = io::Env::Default();  // every file the backup reads, writes, syncs or locks
};

struct BackupSummary {
  uint64_t number = 0;
  std::string backup_id;
  std::filesystem::path dir;
  std::optional<uint64_t> parent;  // nullopt: a full backup
  uint64_t height = 0;
  std::string last_block_hash;
  size_t files = 0;                  // in the manifest
  size_t files_copied = 0;           // with bytes in this backup
  uint64_t bytes_total = 0;          // plaintext size of every file
  uint64_t bytes_copied = 0;         // plaintext bytes this backup holds
  uint64_t bytes_stored = 0;         // bytes written under backup-NNNNNN (chunks and manifest)
  std::vector<uint64_t> incomplete;  // earlier backup directories without a manifest (killed backups)
};

Result<BackupSummary> RunBackup(const BackupOptions& options);

// The backup-NNNNNN numbers present under `out_dir`, ascending (complete or not).
Result<std::vector<uint64_t>> ListBackups(const std::filesystem::path& out_dir);

}  // namespace medledger::backup
