// The committing peer's validation, as Fabric: a stateless part per transaction (structure, creator
// signature, endorsement policy and signatures) that runs in parallel, and a stateful part per block
// (duplicate transaction IDs, MVCC and phantom reads against the state plus the block's earlier valid
// transactions) that runs in order. Shared by the live pipeline and by `medledger verify`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "ledger/embedded/membership.h"
#include "ledger/storage/state_db.h"
#include "ledger/wire/transaction.h"

namespace medledger::ledger::embedded {

class WorkerPool;

// What the stateful checks read: the committed state (StateDb) in the live pipeline, a replay in verify.
class StateView {
 public:
  virtual ~StateView() = default;
  virtual Result<std::optional<wire::Version>> GetVersion(std::string_view ns, std::string_view key) const = 0;
  // Keys in [start, end) with their versions, at most `limit` (0 = unbounded).
  virtual Result<std::vector<std::pair<std::string, wire::Version>>> RangeVersions(std::string_view ns,
                                                                                   std::string_view start,
                                                                                   std::string_view end,
                                                                                   uint32_t limit) const = 0;
  virtual Result<bool> HasTx(std::string_view tx_id) const = 0;
};

class StateDbView final : public StateView {
 public:
  explicit StateDbView(const storage::StateDb& db) : db_(db) {}
  Result<std::optional<wire::Version>> GetVersion(std::string_view ns, std::string_view key) const override;
  Result<std::vector<std::pair<std::string, wire::Version>>> RangeVersions(std::string_view ns, std::string_view start,
                                                                           std::string_view end,
                                                                           uint32_t limit) const override;
  Result<bool> HasTx(std::string_view tx_id) const override;

 private:
  const storage::StateDb& db_;
};

struct CheckedTx {
  int32_t code = 0;  // TxCode
  wire::ParsedTx tx;
};

// Whether a transaction with this code claims its tx_id in the index: only codes given after the creator's
// signature verified and the tx_id was found unused, so a forged or replayed transaction can neither claim
// nor shadow someone else's ID. Recovery and verify derive the same index from the stored codes.
bool IndexesTxId(int32_t code);

class Validator {
 public:
  Validator(const Membership& membership, std::string channel_id, std::string ns)
      : membership_(membership), channel_id_(std::move(channel_id)), ns_(std::move(ns)) {}

  // Which signatures of a transaction were made by this process moments ago and need no re-verification.
  // Identities (membership, the endorser being the peer) are checked regardless.
  struct Trust {
    bool endorsement = false;
    bool creator = false;
  };

  // Stateless checks of one envelope. Thread-safe.
  CheckedTx CheckStateless(std::string_view envelope, Trust trust) const;

  // Runs CheckStateless over every envelope on `pool` (or inline when null); `trust` empty = trust nothing.
  std::vector<CheckedTx> CheckBlockStateless(const std::vector<std::string_view>& envelopes,
                                             const std::vector<Trust>& trust, WorkerPool* pool) const;

  // The stateful checks, in block order, updating each tx's code. Fails only when the state cannot be read.
  Status CheckBlockState(std::vector<CheckedTx>& txs, const StateView& state) const;

  // The StateDb update for a validated block: writes of valid txs only; every tx has an index entry,
  // keyed by its tx_id only when IndexesTxId(code).
  static storage::BlockUpdate MakeUpdate(uint64_t block_number, std::vector<CheckedTx>& txs);

 private:
  const Membership& membership_;
  std::string channel_id_;
  std::string ns_;
};

}  // namespace medledger::ledger::embedded
