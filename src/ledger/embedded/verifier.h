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
#include "ledger/embedded/block_store.h"
#include "ledger/embedded/membership.h"
#include "ledger/embedded/state_db.h"

namespace medledger::ledger::embedded {

struct VerifyOptions {
  std::string channel_id = "medledger";
  std::string chaincode = "records";
  uint64_t progress_every = 1000;  // blocks between progress calls
  // Threads for the per-block checks that need no state (signatures, hashes); 0: one per core. The state
  // checks run in block order on the calling thread either way, so the report does not depend on it.
  size_t threads = 1;
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
  // When !ok: where and why.
  std::optional<uint64_t> bad_block;
  std::optional<uint32_t> bad_tx;
  std::string problem;
};

// `requested`, or the hardware's concurrency for 0.
size_t VerifyThreads(size_t requested);

// Errors only when storage cannot be read; a chain that fails verification gives ok == false.
Result<VerifyReport> VerifyChain(const BlockStore& blocks, const StateDb& state, const Membership& membership,
                                 const VerifyOptions& options);

}  // namespace medledger::ledger::embedded
