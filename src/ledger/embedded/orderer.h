// The ordering service: batches envelopes into blocks (cut at a maximum transaction count, a maximum
// size, or when the oldest pending envelope has waited the batch timeout), hash-chains each block to the
// previous one and signs it with the orderer identity (metadata SIGNATURES), as a Fabric orderer does.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "identity/signing_identity.h"
#include "ledger/ledger.h"

namespace medledger::ledger::embedded {

struct BatchConfig {
  uint32_t max_tx_count = 500;
  uint64_t max_bytes = 8 * 1024 * 1024;
  uint32_t timeout_ms = 2;
  // Adaptive group commit: while this many cut blocks are still being validated/committed, the orderer
  // keeps filling the next block instead of cutting (up to the count/size limits), so under load blocks
  // grow to what one fsync can carry instead of queueing many tiny blocks behind each other.
  uint32_t max_blocks_in_flight = 2;
  // With nothing in flight the pipeline is idle, so waiting out the timeout only adds latency: cut at once.
  // Under load blocks are in flight and batching comes from the rule above. Off: Fabric's plain timeout.
  bool cut_when_idle = true;
};

struct PendingTx {
  std::string envelope;
  bool trusted_endorsement = false;  // endorsed by this process's own endorser (see Validator)
  bool trusted_creator = false;      // the envelope signature was made by this process (see Validator)
  Ledger::SubmitCallback done;       // may be empty
};

struct OrderedBlock {
  uint64_t number = 0;
  std::string previous_hash;        // raw
  std::string data_hash;            // raw
  std::string header_hash;          // raw
  std::string signatures_metadata;  // serialized common.Metadata for BlockMetadataIndex SIGNATURES
  std::vector<PendingTx> txs;
};

class Orderer {
 public:
  using Sink = std::function<void(OrderedBlock)>;
  // Blocks start at `next_number`, chained to `previous_hash`. `sink` runs on the orderer thread.
  Orderer(const identity::SigningIdentity& signer, BatchConfig config, uint64_t next_number, std::string previous_hash,
          Sink sink);
  ~Orderer();  // Stop()
  Orderer(const Orderer&) = delete;
  Orderer& operator=(const Orderer&) = delete;

  // Takes `tx` (moves from it) and returns true; after Stop() returns false and leaves `tx` to the caller.
  bool Broadcast(PendingTx& tx);
  // Cuts what is pending into a last block, then stops the thread.
  void Stop();
  // The committer reports each block it has finished with (see BatchConfig::max_blocks_in_flight).
  void BlockDone();

 private:
  void Run();
  void Cut(std::vector<PendingTx> batch);
  // With mu_ held: whether what is pending should be cut now, without waiting for the batch timeout (a
  // full batch, or anything pending while the pipeline is idle). Run cuts on it; Broadcast wakes Run on it.
  bool ReadyToCut() const;

  const identity::SigningIdentity& signer_;
  const BatchConfig config_;
  uint64_t next_number_;
  std::string previous_hash_;
  Sink sink_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PendingTx> pending_;
  uint64_t pending_bytes_ = 0;
  uint32_t blocks_in_flight_ = 0;
  std::chrono::steady_clock::time_point oldest_;
  bool stopping_ = false;
  std::thread thread_;
};

// Signs a block as Fabric's orderer: signature over metadata.value || signature_header || BlockHeaderAsn1.
// Returns the serialized common.Metadata.
Result<std::string> SignBlock(const identity::SigningIdentity& signer, uint64_t number, std::string_view previous_hash,
                              std::string_view data_hash);

}  // namespace medledger::ledger::embedded
