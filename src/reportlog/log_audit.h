// The report log checked against the chain (`medledger verify`): every leaf is re-derived from the committed
// blocks and compared with the stored tree, every AnchorCheckpoint on the ledger must name the root the
// blocks before it imply, and every saved checkpoint must be signed by the log key over the re-derived root.
// The log is a pure function of the blocks, so any disagreement is tampering or a bug, never a matter of
// timing (the stored log may only lag: blocks after its cursor are not folded in yet).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "tlog/note.h"
#include "tlog/tree_store.h"

namespace medledger::reportlog {

// The serialized common.Block `number` (0 <= number < height).
using BlockSource = std::function<Result<std::string>(uint64_t number)>;

// One entry of DATA/log/checkpoints.json.
struct SavedCheckpoint {
  std::string note;                       // the log-signed note
  std::vector<std::string> cosignatures;  // "— <witness> <base64>" lines the server verified when it kept them
};

// What DATA/log holds.
struct StoredLog {
  const tlog::TreeStore* tree = nullptr;      // null: the log was never started here
  std::vector<uint64_t> block_ends;           // DATA/log/block-ends: tree size after each folded block
  std::vector<SavedCheckpoint> checkpoints;   // DATA/log/checkpoints.json
  std::optional<tlog::NoteVerifier> log_key;  // DATA/log/trust.json's logVkey
  std::vector<tlog::NoteVerifier> witnesses;  // DATA/log/trust.json's witnessVkeys
};

struct LogAuditOptions {
  std::string chaincode = "records";
  uint64_t progress_every = 1000;  // blocks between progress calls
  std::function<void(uint64_t blocks_done, uint64_t height)> progress;
};

struct LogAuditReport {
  bool ok = false;
  uint64_t blocks = 0;       // blocks read
  uint64_t leaves = 0;       // leaves re-derived from them
  bool stored = false;       // a stored tree was checked
  uint64_t stored_size = 0;  // its committed size
  uint64_t stored_cursor = 0;
  uint64_t anchors = 0;               // AnchorCheckpoint transactions checked
  uint64_t checkpoints = 0;           // saved checkpoints checked
  uint64_t cosignatures = 0;          // their cosignatures verified with a listed witness key
  uint64_t unknown_cosignatures = 0;  // from witnesses trust.json does not list (not checked, not counted)
  // When !ok, the first failure: a stable code (log_leaf_mismatch, log_hash_mismatch, log_root_mismatch,
  // log_size_mismatch, log_ahead_of_chain, log_block_index_mismatch, anchor_root_mismatch,
  // anchor_ahead_of_log, anchor_origin_mismatch, checkpoint_signature_invalid, checkpoint_root_mismatch,
  // checkpoint_ahead_of_chain, cosignature_invalid, log_key_missing), what it is about (a leaf index, a tree size or a
  // block number, as the code says) and a sentence.
  std::string problem;
  std::optional<uint64_t> at;
  std::string detail;
};

// Errors only when a block cannot be read or parsed; a log that disagrees with the chain gives ok == false.
Result<LogAuditReport> AuditLog(const BlockSource& blocks, uint64_t height, const StoredLog& stored,
                                const LogAuditOptions& options);

// DATA/log opened for an audit. The tree store is opened (and so locked) for the audit's duration: a running
// server holding it gives "log_in_use". A directory without a tree gives an empty StoredLog.
struct OpenedLog {
  std::unique_ptr<tlog::TreeStore> tree;
  StoredLog stored;
};
// "log_in_use", "log_corrupt" (unreadable block index, checkpoints.json or trust.json), "io_error".
Result<OpenedLog> OpenStoredLog(const std::filesystem::path& log_dir);

}  // namespace medledger::reportlog
