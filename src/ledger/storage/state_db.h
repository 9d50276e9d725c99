// The state database, history index and transaction index (RocksDB). Derived data: everything here can
// be rebuilt from the block files, so blocks are fsynced first and the state is caught up on start.
// The block files serve as its write-ahead log: ApplyBlock writes one atomic batch to the memtables
// only (RocksDB's own WAL is off), and the column families are flushed together (atomic flush). A crash
// loses the unflushed batches as a whole, never part of one; the savepoint, flushed with the data it
// describes, tells the ledger which blocks to replay. A clean close flushes everything.
// All methods are safe to call from many threads; ApplyBlock calls are serialized internally.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "ledger/wire/rwset.h"

namespace medledger::ledger::storage {

struct VersionedValue {
  std::string value;
  wire::Version version;
};

struct TxUpdate {
  uint32_t tx_index = 0;
  std::string tx_id;
  Timestamp timestamp;
  int32_t validation_code = 0;  // protos TxValidationCode; 0 = VALID. Only valid txs' writes apply.
  std::vector<wire::KeyWrite> writes;
};

struct BlockUpdate {
  uint64_t block_number = 0;
  std::vector<TxUpdate> txs;
};

struct HistoryRecord {
  std::string tx_id;
  uint64_t block = 0;
  uint32_t tx = 0;
  Timestamp timestamp;
  std::optional<std::string> value;  // nullopt: the key was deleted by this transaction
};

struct TxLocation {
  uint64_t block = 0;
  uint32_t tx = 0;
  int32_t validation_code = 0;
};

struct StateDbOptions {
  uint64_t block_cache_bytes = 128ull << 20;  // shared by all column families
  uint64_t write_buffer_bytes = 32ull << 20;  // per column family memtable
  // Opens a snapshot without the write lock, next to a running ledger (medledger verify); the
  // database must exist, and ApplyBlock fails with "state_db_read_only".
  bool read_only = false;
};

class StateDb {
 public:
  static Result<std::unique_ptr<StateDb>> Open(const std::string& dir);
  static Result<std::unique_ptr<StateDb>> Open(const std::string& dir, const StateDbOptions& options);
  virtual ~StateDb() = default;

  virtual Result<std::optional<VersionedValue>> Get(std::string_view ns, std::string_view key) const = 0;
  // Keys in [start, end) ("" end = unbounded), in byte order, at most `limit` (0 = unbounded).
  virtual Result<std::vector<std::pair<std::string, VersionedValue>>> Range(std::string_view ns, std::string_view start,
                                                                            std::string_view end,
                                                                            uint32_t limit) const = 0;
  // Every write of the key by a valid transaction, oldest first.
  virtual Result<std::vector<HistoryRecord>> History(std::string_view ns, std::string_view key) const = 0;
  virtual Result<std::optional<TxLocation>> FindTx(std::string_view tx_id) const = 0;

  // Applies one block atomically: the writes of valid transactions, their history entries, the
  // transaction index for every transaction (valid or not), and the savepoint. Blocks must come in
  // order (0, then savepoint + 1): anything else is kInvalidArgument "unexpected_block_number".
  // A transaction ID already indexed keeps its first location (a replayed ID is committed invalid).
  // Namespaces must be non-empty without NUL bytes; keys must be non-empty.
  virtual Status ApplyBlock(const BlockUpdate& update) = 0;
  // The last block applied, or nullopt for an empty database.
  virtual Result<std::optional<uint64_t>> Savepoint() const = 0;
  // Every (ns, key, value) in the state, for `medledger verify` to compare with a replay.
  virtual Status ForEach(
      const std::function<void(std::string_view ns, std::string_view key, const VersionedValue& value)>& fn) const = 0;
};

}  // namespace medledger::ledger::storage
