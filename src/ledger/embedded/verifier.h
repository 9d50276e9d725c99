// The chain verifier behind `medledger verify` and POST /ledger/verify: re-walks every block (framing,
// header hash chain, data hash, orderer signature), re-validates every transaction from scratch (creator
// and endorser signatures, endorsement policy, duplicates, MVCC against a replayed state) and checks the
// stored validation codes, then compares the replayed state with the state database.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "ledger/embedded/membership.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/state_db.h"

namespace medledger::ledger::embedded {

// What a full pass vouches for (docs/LEDGER.md, "Resuming from a checkpoint"): blocks 0..height-1, byte for
// byte (records_digest), and the state replayed from them (state_digest).
struct VerifiedPrefix {
  uint64_t height = 0;
  std::string last_hash;       // hex: header hash of block height-1
  std::string records_digest;  // hex: d(n+1) = SHA-256(d(n) || SHA-256(record n)), d(0) = ""
  std::string state_digest;    // hex: SHA-256 over the replayed keys, versions, value hashes and tx ids
  uint64_t txs_valid = 0;
  uint64_t txs_invalid = 0;
  uint64_t config_blocks = 0;
  std::string verified_at;  // RFC 3339, of the full pass the prefix goes back to
};

struct VerifyOptions {
  std::string channel_id = "medledger";
  std::string chaincode = "records";
  uint64_t progress_every = 1000;  // blocks between progress calls
  // Threads for the per-block checks that need no state (signatures, hashes); 0: one per core. The state
  // checks run in block order on the calling thread either way, so the report does not depend on it.
  size_t threads = 1;
  // Blocks 0..resume->height-1 were fully verified before: they are only re-read, hashed against the
  // digests and replayed (no signature is re-verified); every later block gets every check.
  std::optional<VerifiedPrefix> resume;
  // VerifyDataDir only: read DIR/ledger/verify-checkpoint.json into `resume` (when present), and write a new
  // one after a pass that succeeds.
  bool use_checkpoint = false;
  bool write_checkpoint = false;
  std::function<void(uint64_t blocks_done, uint64_t height)> progress;
};

struct VerifyReport {
  bool ok = false;
  uint64_t blocks = 0;  // blocks checked
  uint64_t txs_valid = 0;
  uint64_t txs_invalid = 0;
  uint64_t config_blocks = 0;  // 1 when the chain starts with a genesis (configuration) block
  uint64_t state_keys = 0;
  uint64_t state_lag = 0;
  uint64_t torn_tail_bytes = 0;  // an unacknowledged partial block after the last one (crash), not indexed  // blocks
                                 // stored but not yet applied to the state (replayed by the next open)
  std::string last_hash;         // hex
  uint64_t resumed_blocks = 0;   // blocks covered by the checkpoint (not re-verified, only re-hashed)
  std::string resumed_from;      // when that checkpoint's full pass ran
  VerifiedPrefix verified;       // when ok: what this pass vouches for
  std::string checkpoint_error;  // VerifyDataDir: why the new checkpoint could not be written ("" when it was)
  // Where the calling thread's time went (seconds), for benchmarks: waiting for prepared blocks, the
  // in-order state checks and replay, and the comparison with the state database.
  struct Timings {
    double waiting = 0;
    double state = 0;
    double compare = 0;
  } timings;
  // When !ok: where and why.
  std::optional<uint64_t> bad_block;
  std::optional<uint32_t> bad_tx;
  std::string problem;
};

// `requested`, or the hardware's concurrency for 0.
size_t VerifyThreads(size_t requested);

// Errors only when storage cannot be read; a chain that fails verification gives ok == false.
Result<VerifyReport> VerifyChain(const storage::BlockStore& blocks, const storage::StateDb& state,
                                 const Membership& membership, const VerifyOptions& options);

}  // namespace medledger::ledger::embedded
