// The running report log (docs/RECEIPTS.md): follows the committed blocks of either ledger, appends one leaf
// per valid report event to a durable Merkle tree, and publishes signed checkpoints, at most one a second
// while the log grows. Each checkpoint is anchored on the ledger, time-stamped by a TSA when one is
// configured, and collects witnesses' cosignatures. Receipts are assembled from here.
//
// The log is a pure function of the blocks: after a crash it resumes from its last committed cursor (the
// next block to fold in) and re-derives the rest, so a kill -9 never leaves it disagreeing with the chain.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "io/env.h"
#include "ledger/ledger.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/tree_store.h"

namespace medledger::service {

// One published checkpoint and what was gathered about it.
struct PublishedCheckpoint {
  tlog::Checkpoint checkpoint;
  std::string note;                       // the log-signed note (body, blank line, log signature)
  std::vector<std::string> cosignatures;  // verified cosignature lines, "— <name> <base64>"
  std::string timestamp_token;            // DER RFC 3161 token over SHA-256(note); empty without a TSA
  std::string anchor_tx_id;               // the AnchorCheckpoint transaction, once committed
  int64_t published_unix = 0;
};

struct ReportLogOptions {
  std::filesystem::path dir;  // DATA/log
  std::string origin;         // also the log key's name
  std::string chaincode = "records";
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds checkpoint_interval{1000};
  // Cosigners whose signatures are accepted (type 0x04 verifiers).
  std::vector<tlog::NoteVerifier> witnesses;
  // RFC 3161: the DER token over SHA-256(note); unset means no TSA. Called on the checkpoint thread.
  std::function<Result<std::string>(std::string_view note)> timestamper;
  // Submits AnchorCheckpoint for the checkpoint and returns its transaction ID once committed; unset: no anchor.
  std::function<Result<std::string>(const tlog::Checkpoint&)> anchor;
  size_t kept_checkpoints = 64;  // the recent checkpoints receipts can cite (cosignatures arrive later)
  // The tree's lock and meta and the saved checkpoints go through this (null: io::Env::Default()); the
  // tree's hash and entry files and the block ends are written by descriptor.
  io::Env* env = nullptr;
};

// Where one leaf sits in the log, with the proof to a published checkpoint.
struct LeafProof {
  uint64_t index = 0;
  std::string leaf;  // the canonical bytes
  std::vector<std::string> inclusion_proof;
  PublishedCheckpoint checkpoint;
};

class ReportLog {
 public:
  // Opens (or creates) the tree under options.dir and loads the log key; Start() begins following.
  static Result<std::unique_ptr<ReportLog>> Open(ledger::Ledger& ledger, tlog::NoteSigner log_key,
                                                 ReportLogOptions options);
  ~ReportLog();  // Stop()
  ReportLog(const ReportLog&) = delete;
  ReportLog& operator=(const ReportLog&) = delete;

  void Start();
  void Stop();

  // Folds in every committed block not yet in the log (the follower's step; tests call it directly); the leaves
  // become durable with the next checkpoint's commit. Returns the tree size, pending leaves included.
  Result<uint64_t> CatchUp();
  // Commits the tree (what a checkpoint may sign must be durable) and signs and publishes a checkpoint of it if
  // it grew (the checkpointer's step).
  Status PublishIfGrown();
  // Makes every folded block durable (Stop does it too).
  Status Commit();

  uint64_t Size() const;  // committed leaves: what checkpoints and proofs may cover
  const tlog::NoteVerifier& verifier() const { return verifier_; }
  const std::string& origin() const { return options_.origin; }
  std::optional<PublishedCheckpoint> Latest() const;

  // The leaf of transaction `tx_id` committed in `block_number`, proved against the newest published
  // checkpoint that covers it, preferring one with the most cosignatures. "leaf_not_found" when the
  // transaction has no leaf; "receipt_not_ready" while no published checkpoint covers it yet.
  Result<LeafProof> ProveTransaction(const std::string& tx_id, uint64_t block_number) const;

  // A witness's cosignature of a published checkpoint (its note text as cosigned and the line).
  // "checkpoint_unknown" (not one this log published recently), "cosignature_unknown_key",
  // "cosignature_invalid".
  Status AddCosignature(std::string_view checkpoint_note, std::string_view line);

  // Tree reads for the HTTP layer (tlog-tiles and proofs), all against committed or published sizes.
  Result<std::string> Tile(int level, uint64_t n, uint64_t width) const;
  Result<std::string> EntryBundle(uint64_t n, uint64_t width) const;
  Result<std::vector<std::string>> InclusionProof(uint64_t index, uint64_t size) const;
  Result<std::vector<std::string>> ConsistencyProof(uint64_t from, uint64_t to) const;

 private:
  ReportLog(ledger::Ledger& ledger, tlog::NoteSigner log_key, ReportLogOptions options);
  Status LoadState();
  Status SaveCheckpoints() const;  // callers hold mu_
  Result<std::pair<uint64_t, uint64_t>> LeafRangeOfBlock(uint64_t block_number) const;
  Status FoldBlock(uint64_t block_number, uint64_t* size);  // appends the block's leaves (pending)
  Status CommitLocked();                                    // fold_mu_ held
  void RollBackLocked();                                    // fold_mu_ held: back to the last commit
  void FollowLoop();
  void CheckpointLoop();

  ledger::Ledger& ledger_;
  tlog::NoteSigner log_key_;
  tlog::NoteVerifier verifier_;
  ReportLogOptions options_;
  std::unique_ptr<tlog::TreeStore> tree_;

  mutable std::mutex mu_;
  // block_ends_[b] = tree size after block b: the leaves of block b are [block_ends_[b-1], block_ends_[b]).
  // Kept in memory (8 bytes a block) and rebuilt from the tree on open.
  std::vector<uint64_t> block_ends_;
  std::vector<PublishedCheckpoint> recent_;  // oldest first, at most options_.kept_checkpoints

  std::mutex fold_mu_;             // one folder or committer at a time
  UniqueFd ends_fd_;               // DATA/log/block-ends, appended per fold, synced per commit
  uint64_t committed_blocks_ = 0;  // blocks covered by the tree's last commit
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread follower_;
  std::thread checkpointer_;
};

}  // namespace medledger::service
