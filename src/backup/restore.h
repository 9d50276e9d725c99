// `medledger restore`: rebuilds a data directory from a chain of backups. Every chunk is authenticated and every
// file's SHA-256 checked while it is written into NEW.restoring; only a complete, verified copy is renamed to
// NEW, so a refused restore leaves no NEW behind. The state database is not in a backup: the caller opens the
// ledger afterwards, which replays the blocks into a fresh one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backup/backup.h"
#include "common/result.h"

namespace medledger::backup {

struct RestoreOptions {
  std::filesystem::path from;  // the --out of `medledger backup`
  std::string secret;
  std::filesystem::path data_dir;  // NEW: absent or empty
  std::optional<uint64_t> number;  // default: the newest backup
  ProgressFn progress;
  io::Env* env = io::Env::Default();  // every file the restore reads, writes, syncs or renames
};

struct RestoreSummary {
  uint64_t number = 0;
  std::string backup_id;
  std::vector<uint64_t> chain;  // the backups read, newest first; size 1 for a full backup
  uint64_t height = 0;
  std::string last_block_hash;
  std::string created;
  size_t files = 0;
  uint64_t bytes = 0;  // plaintext bytes written
};

// The ".restoring" sibling a restore builds in.
std::filesystem::path RestoringDirFor(const std::filesystem::path& data_dir);

Result<RestoreSummary> RunRestore(const RestoreOptions& options);

}  // namespace medledger::backup
