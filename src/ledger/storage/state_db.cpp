// StateDb on RocksDB. Column families: "state" (ns \0 key -> version, value), "history" (ns \0 len(key)
// key block tx -> write), "txid" (tx id -> location), and the default one for the savepoint and format.
// Layout details and the reasons for them: docs/LEDGER_STORAGE.md.
#include "ledger/storage/state_db.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <unordered_set>

#include "common/encoding.h"
#include "common/private_dir.h"

namespace medledger::ledger::storage {
namespace {

constexpr char kSavepointKey[] = "savepoint";
constexpr char kFormatKey[] = "format";
constexpr char kFormatVersion[] = "medledger-state-1";
constexpr size_t kStateValueHeader = 12;  // block u64, tx u32

Error FromRocks(const rocksdb::Status& s, const std::string& what) {
  const ErrorKind kind = s.IsCorruption() ? ErrorKind::kCorruption : ErrorKind::kIoError;
  return MakeError(kind, s.IsCorruption() ? "state_db_corrupt" : "state_db_error", what + ": " + s.ToString());
}

Status CheckNamespace(std::string_view ns) {
  if (ns.empty() || ns.find('\0') != std::string_view::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_namespace", "a namespace must be non-empty without NUL bytes");
  }
  return OkStatus();
}

std::string StateKey(std::string_view ns, std::string_view key) {
  std::string k;
  k.reserve(ns.size() + 1 + key.size());
  k.append(ns).push_back('\0');
  k.append(key);
  return k;
}

// Length-prefixed key: with keys that contain NUL (composite keys do), "ns \0 key \0" would also be a
// prefix of the history of longer keys.
std::string HistoryPrefix(std::string_view ns, std::string_view key) {
  std::string k;
  k.reserve(ns.size() + 5 + key.size() + 12);
  k.append(ns).push_back('\0');
  PutFixed32(&k, static_cast<uint32_t>(key.size()));
  k.append(key);
  return k;
}

// The smallest string greater than every string starting with `prefix` ("" when there is none).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::string EncodeStateValue(wire::Version v, std::string_view value) {
  std::string out;
  out.reserve(kStateValueHeader + value.size());
  PutFixed64(&out, v.block);
  PutFixed32(&out, v.tx);
  out.append(value);
  return out;
}

Result<VersionedValue> DecodeStateValue(std::string_view bytes) {
  if (bytes.size() < kStateValueHeader) {
    return MakeError(ErrorKind::kCorruption, "state_db_corrupt", "state value shorter than its version");
  }
  return VersionedValue{std::string(bytes.substr(kStateValueHeader)),
                        wire::Version{DecodeFixed64(bytes.data()), DecodeFixed32(bytes.data() + 8)}};
}

// kind u8 (1 put, 0 delete), seconds u64, nanos u32, txid length u32, txid, value.
std::string EncodeHistoryValue(const TxUpdate& tx, const wire::KeyWrite& w) {
  std::string out;
  out.reserve(17 + tx.tx_id.size() + (w.value ? w.value->size() : 0));
  out.push_back(w.value ? '\1' : '\0');
  PutFixed64(&out, static_cast<uint64_t>(tx.timestamp.seconds));
  PutFixed32(&out, static_cast<uint32_t>(tx.timestamp.nanos));
  PutFixed32(&out, static_cast<uint32_t>(tx.tx_id.size()));
  out.append(tx.tx_id);
  if (w.value) out.append(*w.value);
  return out;
}

Result<HistoryRecord> DecodeHistory(std::string_view key_suffix, std::string_view v) {
  const Error bad = MakeError(ErrorKind::kCorruption, "state_db_corrupt", "malformed history entry");
  if (key_suffix.size() != 12 || v.size() < 17 || static_cast<unsigned char>(v[0]) > 1) return bad;
  const uint32_t id_len = DecodeFixed32(v.data() + 13);
  if (id_len > v.size() - 17) return bad;
  HistoryRecord r;
  r.block = DecodeFixed64(key_suffix.data());
  r.tx = DecodeFixed32(key_suffix.data() + 8);
  r.timestamp.seconds = static_cast<int64_t>(DecodeFixed64(v.data() + 1));
  r.timestamp.nanos = static_cast<int32_t>(DecodeFixed32(v.data() + 9));
  r.tx_id = std::string(v.substr(17, id_len));
  if (v[0] == '\1') r.value = std::string(v.substr(17 + id_len));
  return r;
}

std::string EncodeTxLocation(const TxLocation& loc) {
  std::string out;
  PutFixed64(&out, loc.block);
  PutFixed32(&out, loc.tx);
  PutFixed32(&out, static_cast<uint32_t>(loc.validation_code));
  return out;
}

rocksdb::CompressionType BestCompression() {
  const auto supported = rocksdb::GetSupportedCompressions();
  for (auto type : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), type) != supported.end()) return type;
  }
  return rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions TableOptions(const StateDbOptions& o, const std::shared_ptr<rocksdb::Cache>& cache,
                                          bool point_lookups) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.format_version = 5;
  // Index and filter blocks live with each open table, not in the block cache. Cached, they were evicted
  // and read back (decompressed, checksummed) on most Gets once compaction made large tables: at 256 in
  // flight the ledger fell from ~10,000 to ~4,000 tx/s after ~100,000 transactions, with 60% of its CPU in
  // LZ4 and XXH3 under ReadIndexBlock (docs/BENCHMARKS.md, "Ledger"). Their memory grows with the data
  // (~1.25 bytes per key for the filters), which is small next to the state itself.
  t.cache_index_and_filter_blocks = false;
  if (point_lookups) {
    // Most Gets in a transaction are for keys that may not exist yet (uniqueness checks): the bloom
    // filter answers those without touching data blocks.
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  }
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = 3;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.compression = BestCompression();
  return cf;
}

class RocksStateDb final : public StateDb {
 public:
  ~RocksStateDb() override {
    // Without a write-ahead log the memtables are the only copy of recent blocks' state: flushing them on
    // a clean close spares the next Open a replay. A failure here only means that replay happens.
    if (db_ && !read_only_) (void)db_->Flush(rocksdb::FlushOptions(), handles_);
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    if (db_) (void)db_->Close();
  }

  Status Init(const std::string& dir, const StateDbOptions& options);

  Result<std::optional<VersionedValue>> Get(std::string_view ns, std::string_view key) const override;
  Result<std::vector<std::pair<std::string, VersionedValue>>> Range(std::string_view ns, std::string_view start,
                                                                    std::string_view end,
                                                                    uint32_t limit) const override;
  Result<std::vector<HistoryRecord>> History(std::string_view ns, std::string_view key) const override;
  Result<std::optional<TxLocation>> FindTx(std::string_view tx_id) const override;
  Status ApplyBlock(const BlockUpdate& update) override;
  Result<std::optional<uint64_t>> Savepoint() const override;
  Status ForEach(const std::function<void(std::string_view ns, std::string_view key, const VersionedValue& value)>& fn)
      const override;

 private:
  rocksdb::ColumnFamilyHandle* meta() const { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* state() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* history() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* txid() const { return handles_[3]; }
  Status CheckBlock(const BlockUpdate& update) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_
  rocksdb::WriteOptions write_options_;
  bool read_only_ = false;
  std::mutex apply_mu_;
  std::atomic<int64_t> savepoint_{-1};  // -1: nothing applied
};

Status RocksStateDb::Init(const std::string& dir, const StateDbOptions& options) {
  read_only_ = options.read_only;
  if (!read_only_) {
    // RocksDB creates only the last component, with its own mode; its files get 0644 & ~umask. The data
    // directory (0700) and `medledger`'s umask 077 keep them private.
    Status made = CreatePrivateDirectories(dir);
    if (!made.ok()) return MakeError(ErrorKind::kIoError, "state_db_error", made.error().message);
  }
  rocksdb::DBOptions db;
  db.create_if_missing = !read_only_;
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  // The block files are this database's write-ahead log: ApplyBlock writes no WAL, and a crash loses at
  // most the memtables, which Open replays from the blocks after the savepoint. Atomic flush keeps that
  // sound: the column families reach disk together, so a flushed savepoint never runs ahead of (or
  // behind) the state, history and tx index it belongs to. A read-only opener (medledger verify beside a
  // running ledger) sees the state as of the last flush and reports the lag.
  db.atomic_flush = true;
  db.bytes_per_sync = 1 << 20;
  db.keep_log_file_num = 3;
  db.info_log_level = rocksdb::WARN_LEVEL;
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, TableOptions(options, cache, true)},
      {"state", TableOptions(options, cache, true)},
      {"history", TableOptions(options, cache, false)},
      {"txid", TableOptions(options, cache, true)},
  };
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only_ ? rocksdb::DB::OpenForReadOnly(db, dir, cfs, &handles_, &raw)
                                 : rocksdb::DB::Open(db, dir, cfs, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, "open state database " + dir);
  db_.reset(raw);
  write_options_.disableWAL = true;

  std::string value;
  s = db_->Get(rocksdb::ReadOptions(), meta(), kFormatKey, &value);
  if (s.IsNotFound() && !read_only_) {
    s = db_->Put(rocksdb::WriteOptions(), meta(), kFormatKey, kFormatVersion);
    if (!s.ok()) return FromRocks(s, "write format marker");
  } else if (!s.ok() && !s.IsNotFound()) {
    return FromRocks(s, "read format marker");
  } else if (s.ok() && value != kFormatVersion) {
    return MakeError(ErrorKind::kCorruption, "state_db_format",
                     "state database format " + value + " is not " + kFormatVersion);
  }
  s = db_->Get(rocksdb::ReadOptions(), meta(), kSavepointKey, &value);
  if (s.ok()) {
    if (value.size() != 8) return MakeError(ErrorKind::kCorruption, "state_db_corrupt", "malformed savepoint");
    savepoint_ = static_cast<int64_t>(DecodeFixed64(value.data()));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read savepoint");
  }
  return OkStatus();
}

Result<std::optional<VersionedValue>> RocksStateDb::Get(std::string_view ns, std::string_view key) const {
  ML_RETURN_IF_ERROR(CheckNamespace(ns));
  rocksdb::PinnableSlice value;
  const std::string k = StateKey(ns, key);
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), state(), k, &value);
  if (s.IsNotFound()) return std::optional<VersionedValue>();
  if (!s.ok()) return FromRocks(s, "get state");
  ML_ASSIGN_OR_RETURN(VersionedValue v, DecodeStateValue(value.ToStringView()));
  return std::optional<VersionedValue>(std::move(v));
}

Result<std::vector<std::pair<std::string, VersionedValue>>> RocksStateDb::Range(std::string_view ns,
                                                                                std::string_view start,
                                                                                std::string_view end,
                                                                                uint32_t limit) const {
  ML_RETURN_IF_ERROR(CheckNamespace(ns));
  std::vector<std::pair<std::string, VersionedValue>> out;
  if (!end.empty() && end <= start) return out;
  const std::string lower = StateKey(ns, start);
  const std::string upper = end.empty() ? PrefixSuccessor(StateKey(ns, "")) : StateKey(ns, end);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, state()));
  const size_t prefix = ns.size() + 1;
  for (it->Seek(lower); it->Valid() && (limit == 0 || out.size() < limit); it->Next()) {
    ML_ASSIGN_OR_RETURN(VersionedValue v, DecodeStateValue(it->value().ToStringView()));
    out.emplace_back(std::string(it->key().ToStringView().substr(prefix)), std::move(v));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "range scan");
  return out;
}

Result<std::vector<HistoryRecord>> RocksStateDb::History(std::string_view ns, std::string_view key) const {
  ML_RETURN_IF_ERROR(CheckNamespace(ns));
  const std::string prefix = HistoryPrefix(ns, key);
  const std::string upper = PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, history()));
  std::vector<HistoryRecord> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ML_ASSIGN_OR_RETURN(HistoryRecord r,
                        DecodeHistory(it->key().ToStringView().substr(prefix.size()), it->value().ToStringView()));
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "history scan");
  return out;
}

Result<std::optional<TxLocation>> RocksStateDb::FindTx(std::string_view tx_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), txid(), tx_id, &value);
  if (s.IsNotFound()) return std::optional<TxLocation>();
  if (!s.ok()) return FromRocks(s, "find transaction");
  if (value.size() != 16) return MakeError(ErrorKind::kCorruption, "state_db_corrupt", "malformed tx index entry");
  return std::optional<TxLocation>(TxLocation{DecodeFixed64(value.data()), DecodeFixed32(value.data() + 8),
                                              static_cast<int32_t>(DecodeFixed32(value.data() + 12))});
}

Status RocksStateDb::CheckBlock(const BlockUpdate& update) const {
  const int64_t sp = savepoint_.load();
  const uint64_t expected = sp < 0 ? 0 : static_cast<uint64_t>(sp) + 1;
  if (update.block_number != expected) {
    return MakeError(
        ErrorKind::kInvalidArgument, "unexpected_block_number",
        "applying block " + std::to_string(update.block_number) + " but the next block is " + std::to_string(expected));
  }
  for (const TxUpdate& tx : update.txs) {
    if (tx.validation_code != 0) continue;
    for (const wire::KeyWrite& w : tx.writes) {
      ML_RETURN_IF_ERROR(CheckNamespace(w.ns));
      if (w.key.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_key", "a key must be non-empty");
    }
  }
  return OkStatus();
}

Status RocksStateDb::ApplyBlock(const BlockUpdate& update) {
  if (read_only_) {
    return MakeError(ErrorKind::kInvalidArgument, "state_db_read_only", "the state database was opened read-only");
  }
  std::lock_guard lock(apply_mu_);
  ML_RETURN_IF_ERROR(CheckBlock(update));

  // First location wins for a tx id, as in Fabric's block index: look up the ids already stored.
  std::vector<rocksdb::Slice> ids;
  ids.reserve(update.txs.size());
  for (const TxUpdate& tx : update.txs) ids.emplace_back(tx.tx_id);
  std::vector<rocksdb::PinnableSlice> found(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  if (!ids.empty()) {
    db_->MultiGet(rocksdb::ReadOptions(), txid(), ids.size(), ids.data(), found.data(), statuses.data());
  }
  std::unordered_set<std::string_view> seen;

  size_t estimate = 64;
  for (const TxUpdate& tx : update.txs) {
    estimate += 48 + 2 * tx.tx_id.size();
    for (const wire::KeyWrite& w : tx.writes)
      estimate += 2 * (w.ns.size() + w.key.size() + (w.value ? w.value->size() : 0)) + 64;
  }
  rocksdb::WriteBatch batch(estimate);  // one allocation instead of repeated doubling of a large buffer
  auto put = [&](rocksdb::ColumnFamilyHandle* cf, std::string_view k, std::string_view v) -> Status {
    rocksdb::Status s = batch.Put(cf, k, v);
    if (!s.ok()) return FromRocks(s, "build write batch");
    return OkStatus();
  };
  for (size_t i = 0; i < update.txs.size(); ++i) {
    const TxUpdate& tx = update.txs[i];
    if (!statuses[i].ok() && !statuses[i].IsNotFound()) return FromRocks(statuses[i], "look up transaction id");
    if (!tx.tx_id.empty() && statuses[i].IsNotFound() && seen.insert(tx.tx_id).second) {
      ML_RETURN_IF_ERROR(
          put(txid(), tx.tx_id, EncodeTxLocation({update.block_number, tx.tx_index, tx.validation_code})));
    }
    if (tx.validation_code != 0) continue;
    const wire::Version version{update.block_number, tx.tx_index};
    for (const wire::KeyWrite& w : tx.writes) {
      const std::string key = StateKey(w.ns, w.key);
      if (w.value) {
        ML_RETURN_IF_ERROR(put(state(), key, EncodeStateValue(version, *w.value)));
      } else {
        rocksdb::Status s = batch.Delete(state(), key);
        if (!s.ok()) return FromRocks(s, "build write batch");
      }
      std::string hkey = HistoryPrefix(w.ns, w.key);
      PutFixed64(&hkey, update.block_number);
      PutFixed32(&hkey, tx.tx_index);
      ML_RETURN_IF_ERROR(put(history(), hkey, EncodeHistoryValue(tx, w)));
    }
  }
  std::string sp;
  PutFixed64(&sp, update.block_number);
  ML_RETURN_IF_ERROR(put(meta(), kSavepointKey, sp));
  rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) return FromRocks(s, "apply block " + std::to_string(update.block_number));
  savepoint_ = static_cast<int64_t>(update.block_number);
  return OkStatus();
}

Result<std::optional<uint64_t>> RocksStateDb::Savepoint() const {
  const int64_t sp = savepoint_.load();
  if (sp < 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(static_cast<uint64_t>(sp));
}

Status RocksStateDb::ForEach(
    const std::function<void(std::string_view ns, std::string_view key, const VersionedValue& value)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), state()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    const size_t sep = k.find('\0');
    if (sep == std::string_view::npos) {
      return MakeError(ErrorKind::kCorruption, "state_db_corrupt", "state key without a namespace separator");
    }
    ML_ASSIGN_OR_RETURN(VersionedValue v, DecodeStateValue(it->value().ToStringView()));
    fn(k.substr(0, sep), k.substr(sep + 1), v);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "state scan");
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& dir) {
  return Open(dir, StateDbOptions{});
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& dir, const StateDbOptions& options) {
  auto db = std::make_unique<RocksStateDb>();
  ML_RETURN_IF_ERROR(db->Init(dir, options));
  return std::unique_ptr<StateDb>(std::move(db));
}

}  // namespace medledger::ledger::storage
