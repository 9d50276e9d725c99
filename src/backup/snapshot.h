// Which files of a data directory a backup copies, in which order, and how much of each (docs/OPERATIONS.md,
// "The data directory and what is derived").
//
// Order is what makes a copy taken while the server writes consistent:
//   1. the report log (log/): its small files, then the tree's meta (which names the committed size), then its
//      append-only files, so every size the copied meta and checkpoints name is present in the copied data;
//   2. the ledger height H is fixed after the log is copied (the log only folds in committed blocks, so it is
//      never ahead of the copied chain), and block files are copied up to the record boundary of block H-1;
//   3. everything else (content packs, pin log, keystore, identities, patients, configuration) is listed and
//      copied after H is fixed: a report's content and key are durable before its transaction is submitted,
//      so everything committed in blocks < H is in the copy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::backup {

inline constexpr char kBlocksDir[] = "ledger/blocks";
inline constexpr char kLogDir[] = "log";
inline constexpr char kKeystoreDir[] = "server/keystore";

// Derived or short-lived state that is never copied: the ledger's state database (rebuilt by replay), request
// idempotency records and refresh tokens (a restore signs everyone out), lock files, and the temporary files
// of atomic replaces in progress.
bool Excluded(std::string_view relative_path);

// Every regular file under `data_dir` that a backup copies, as sorted '/'-separated relative paths.
// Entries that vanish while the directory is walked are skipped.
Result<std::vector<std::string>> ListDataFiles(const std::filesystem::path& data_dir);

// Within log/: 0 small files, 1 the tree's meta, 2 the append-only files (see the order above).
int LogCopyRank(std::string_view relative_path);

struct FileRange {
  std::string path;  // relative
  uint64_t length = 0;
};
struct LedgerCut {
  uint64_t height = 0;
  std::string last_block_hash;  // hex, "" when height is 0 or no hash function was given
  std::vector<FileRange> block_files;
};
// Opens DATA/ledger/blocks read-only (the server may hold it) and fixes the height: every block file up to
// the one holding block H-1, that one up to the end of its record. `block_hash` (may be null) turns a block's
// bytes into its header hash (hex); the ledger library knows the block format, this one does not.
using BlockHashFn = std::function<Result<std::string>(std::string_view block_bytes)>;
Result<LedgerCut> CutLedger(const std::filesystem::path& data_dir, const BlockHashFn& block_hash);

}  // namespace medledger::backup
