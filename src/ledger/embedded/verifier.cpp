#include "ledger/embedded/verifier.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/genesis.h"
#include "ledger/embedded/validator.h"
#include "ledger/embedded/worker_pool.h"
#include "ledger/wire/protoutil.h"

namespace medledger::ledger::embedded {
namespace {

// The state recomputed from the blocks alone.
class ReplayState final : public StateView {
 public:
  Result<std::optional<wire::Version>> GetVersion(std::string_view ns, std::string_view key) const override {
    auto it = values_.find(Key(ns, key));
    if (it == values_.end()) return std::optional<wire::Version>();
    return std::optional<wire::Version>(it->second.version);
  }
  Result<std::vector<std::pair<std::string, wire::Version>>> RangeVersions(std::string_view ns, std::string_view start,
                                                                           std::string_view end,
                                                                           uint32_t limit) const override {
    std::vector<std::pair<std::string, wire::Version>> out;
    std::string prefix = Key(ns, "");
    for (auto it = values_.lower_bound(Key(ns, start)); it != values_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      std::string key = it->first.substr(prefix.size());
      if (!end.empty() && key >= end) break;
      if (limit != 0 && out.size() >= limit) break;
      out.emplace_back(std::move(key), it->second.version);
    }
    return out;
  }
  Result<bool> HasTx(std::string_view tx_id) const override { return txids_.count(std::string(tx_id)) != 0; }

  void Apply(const storage::BlockUpdate& update) {
    for (const auto& tx : update.txs) {
      if (!tx.tx_id.empty()) txids_.insert(tx.tx_id);
      if (tx.validation_code != wire::kTxValid) continue;
      for (const auto& w : tx.writes) {
        if (w.value) {
          values_[Key(w.ns, w.key)] =
              storage::VersionedValue{*w.value, wire::Version{update.block_number, tx.tx_index}};
        } else {
          values_.erase(Key(w.ns, w.key));
        }
      }
    }
  }
  const std::map<std::string, storage::VersionedValue>& values() const { return values_; }
  const std::set<std::string>& txids() const { return txids_; }
  // Namespaces cannot contain NUL, so "ns\0key" orders keys of one namespace together.
  static std::string Key(std::string_view ns, std::string_view key) {
    std::string k(ns);
    k.push_back('\0');
    k.append(key);
    return k;
  }

 private:
  std::map<std::string, storage::VersionedValue> values_;
  std::set<std::string> txids_;
};

void PutLength(crypto::Sha256Hasher& h, uint64_t n) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(n >> (56 - 8 * i));
  h.Update(std::string_view(b, 8));
}

// SHA-256 over every replayed key (length-prefixed), its version and its value's hash, then every tx id.
std::string StateDigest(const ReplayState& replay) {
  crypto::Sha256Hasher h;
  PutLength(h, replay.values().size());
  for (const auto& [key, v] : replay.values()) {
    PutLength(h, key.size());
    h.Update(key);
    PutLength(h, v.version.block);
    PutLength(h, v.version.tx);
    h.Update(crypto::Sha256(v.value));
  }
  PutLength(h, replay.txids().size());
  for (const auto& id : replay.txids()) {
    PutLength(h, id.size());
    h.Update(id);
  }
  return HexEncode(h.Finish());
}

// The state database must hold exactly the replayed state as of its savepoint. Returns "" or why not.
Result<std::string> CompareState(const storage::StateDb& state, const ReplayState& replay, uint64_t* keys) {
  const auto& expected = replay.values();
  auto it = expected.begin();
  std::string mismatch;
  uint64_t seen = 0;
  Status st = state.ForEach([&](std::string_view ns, std::string_view key, const storage::VersionedValue& v) {
    if (!mismatch.empty()) return;
    ++seen;
    std::string k = ReplayState::Key(ns, key);
    if (it == expected.end() || it->first != k) {
      mismatch = "state has key '" + std::string(key) + "' that the blocks do not produce (or out of order)";
      return;
    }
    if (it->second.value != v.value || !(it->second.version == v.version)) {
      mismatch = "state value/version of key '" + std::string(key) + "' differs from the blocks";
      return;
    }
    ++it;
  });
  if (!st.ok()) return st.error();
  if (mismatch.empty() && it != expected.end()) {
    mismatch = "state lacks key '" + it->first.substr(it->first.find('\0') + 1) + "'";
  }
  *keys = seen;
  return mismatch;
}

// The first failure of a block, as the sequential walk would report it.
struct Failure {
  std::optional<uint32_t> tx;
  std::string why;
};

// Everything about block `n` that needs no other block: read, decode, data hash, orderer signature, filter
// size, the genesis block's configuration, and every transaction's signatures and endorsements. Independent
// per block, so it runs on a pool; the hash link to the previous block and the state checks do not.
struct PreparedBlock {
  // Checks in the order of the sequential walk: `early` (read, decode, number) come before the previous-hash
  // link, `late` (data hash, signature, filter, genesis) after it, so the report names the same problem.
  std::optional<Failure> early;
  std::optional<Failure> late;
  DecodedBlock block;
  std::string header_hash;  // of this block, for the next block's previous_hash
  std::string record_hash;  // SHA-256 of the stored record, for the records digest
  bool config = false;
  std::vector<CheckedTx> checked;
};

// `verified`: the block is in a checkpoint's prefix, so its signatures are not re-verified (the records
// digest proves its bytes are those a full pass verified); it is still decoded and parsed for the replay.
std::unique_ptr<PreparedBlock> Prepare(const storage::BlockStore& blocks, uint64_t n, const Validator& validator,
                                       const Membership& membership, const VerifyOptions& options) {
  auto p = std::make_unique<PreparedBlock>();
  const bool verified = options.resume && n < options.resume->height;
  auto bytes = blocks.Read(n);
  if (!bytes.ok()) {
    p->early = Failure{std::nullopt, "unreadable: " + bytes.error().message};
    return p;
  }
  p->record_hash = crypto::Sha256(*bytes);
  auto decoded = DecodeBlock(*bytes);
  if (!decoded.ok()) {
    p->early = Failure{std::nullopt, decoded.error().message};
    return p;
  }
  p->block = std::move(*decoded);
  const DecodedBlock& block = p->block;
  if (block.number != n) {
    p->early = Failure{std::nullopt, "header number is " + std::to_string(block.number)};
    return p;
  }
  p->header_hash = wire::BlockHeaderHash(n, block.previous_hash, block.data_hash);
  std::vector<std::string_view> envelopes(block.envelopes.begin(), block.envelopes.end());
  if (wire::BlockDataHash(envelopes) != block.data_hash) {
    p->late = Failure{std::nullopt, "data_hash does not match the data"};
    return p;
  }
  if (std::string why = verified ? "" : CheckBlockSignature(block, membership); !why.empty()) {
    p->late = Failure{std::nullopt, why};
    return p;
  }
  if (block.filter.size() != envelopes.size()) {
    p->late = Failure{std::nullopt, "transactions filter has " + std::to_string(block.filter.size()) + " codes for " +
                                        std::to_string(envelopes.size()) + " transactions"};
    return p;
  }
  if (n == 0 && envelopes.size() == 1 && IsConfigEnvelope(envelopes[0])) {
    // The genesis (configuration) block: the orderer's config transaction, valid, writing no state.
    p->config = true;
    if (verified) return p;
    std::string why = CheckConfigEnvelope(envelopes[0], options.channel_id, membership);
    if (!why.empty()) {
      p->late = Failure{0, "genesis block: " + why};
    } else if (static_cast<uint8_t>(block.filter[0]) != wire::kTxValid) {
      p->late = Failure{0, "genesis block: not marked VALID"};
    }
    return p;
  }
  std::vector<Validator::Trust> trust;
  if (verified) trust.assign(envelopes.size(), Validator::Trust{true, true});
  p->checked = validator.CheckBlockStateless(envelopes, trust, nullptr);
  return p;
}

// Prepares blocks [0, height) ahead of the in-order consumer: on `threads` workers with at most `window`
// prepared or in preparation (memory stays bounded however long the chain), or inline with one thread.
class BlockPipeline {
 public:
  BlockPipeline(const storage::BlockStore& blocks, uint64_t height, const Validator& validator,
                const Membership& membership, const VerifyOptions& options, size_t threads)
      : blocks_(blocks),
        height_(height),
        validator_(validator),
        membership_(membership),
        options_(options),
        window_(threads <= 1 ? 0 : threads * 4),
        slots_(window_) {
    if (window_ != 0) pool_ = std::make_unique<WorkerPool>(threads);
  }
  // The pool is joined first: its queued tasks write into slots_.
  ~BlockPipeline() { pool_.reset(); }
  BlockPipeline(const BlockPipeline&) = delete;
  BlockPipeline& operator=(const BlockPipeline&) = delete;

  // Block n, in order: n == 0 first, then n + 1, ...
  std::unique_ptr<PreparedBlock> Take(uint64_t n) {
    if (window_ == 0) return Prepare(blocks_, n, validator_, membership_, options_);
    // Keep the window full: blocks up to n + window - 1 are posted before waiting for n.
    while (next_post_ < height_ && next_post_ < n + window_) {
      const uint64_t m = next_post_++;
      pool_->Post([this, m] {
        auto prepared = Prepare(blocks_, m, validator_, membership_, options_);
        Slot& slot = slots_[m % window_];
        std::lock_guard lock(slot.mu);
        slot.block = std::move(prepared);
        slot.cv.notify_one();
      });
    }
    Slot& slot = slots_[n % window_];
    std::unique_lock lock(slot.mu);
    slot.cv.wait(lock, [&] { return slot.block != nullptr; });
    return std::move(slot.block);
  }

 private:
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::unique_ptr<PreparedBlock> block;
  };

  const storage::BlockStore& blocks_;
  const uint64_t height_;
  const Validator& validator_;
  const Membership& membership_;
  const VerifyOptions& options_;
  const size_t window_;
  std::vector<Slot> slots_;
  uint64_t next_post_ = 0;
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace

size_t VerifyThreads(size_t requested) {
  if (requested != 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

Result<VerifyReport> VerifyChain(const storage::BlockStore& blocks, const storage::StateDb& state,
                                 const Membership& membership, const VerifyOptions& options) {
  VerifyReport report;
  Validator validator(membership, options.channel_id, options.chaincode);
  ReplayState replay;
  const uint64_t height = blocks.Height();
  std::string previous_hash;
  auto fail = [&](uint64_t block, std::optional<uint32_t> tx, std::string why) {
    report.ok = false;
    report.bad_block = block;
    report.bad_tx = tx;
    report.problem = std::move(why);
    return report;
  };
  ML_ASSIGN_OR_RETURN(auto savepoint, state.Savepoint());
  if (savepoint && *savepoint >= height) {
    return fail(height, std::nullopt,
                "state database has applied block " + std::to_string(*savepoint) + " but only " +
                    std::to_string(height) + " blocks are stored (block files truncated or removed)");
  }
  // The state may lag the blocks after a crash (Open replays the rest), so it is compared with the replay
  // as of its own savepoint.
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto check_state = [&]() -> Result<bool> {
    const auto t0 = Clock::now();
    auto compared = CompareState(state, replay, &report.state_keys);
    report.timings.compare += seconds_since(t0);
    ML_ASSIGN_OR_RETURN(std::string why, std::move(compared));
    if (why.empty()) return true;
    fail(savepoint.value_or(0), std::nullopt, "state database: " + why);
    return false;
  };
  if (!savepoint) {
    ML_ASSIGN_OR_RETURN(bool same, check_state());
    if (!same) return report;
  }

  const uint64_t prefix = options.resume ? options.resume->height : 0;
  if (prefix > height) {
    return fail(height, std::nullopt,
                "verify checkpoint covers " + std::to_string(prefix) + " blocks but only " + std::to_string(height) +
                    " are stored (block files truncated or removed)");
  }
  std::string records_digest;
  BlockPipeline pipeline(blocks, height, validator, membership, options, VerifyThreads(options.threads));
  for (uint64_t n = 0; n < height; ++n) {
    const auto t_wait = Clock::now();
    auto prepared = pipeline.Take(n);
    report.timings.waiting += seconds_since(t_wait);
    const auto t_state = Clock::now();
    if (prepared->early) return fail(n, prepared->early->tx, prepared->early->why);
    if (prepared->block.previous_hash != previous_hash) return fail(n, std::nullopt, "previous_hash breaks the chain");
    if (prepared->late) return fail(n, prepared->late->tx, prepared->late->why);
    const DecodedBlock& block = prepared->block;

    records_digest = crypto::Sha256(records_digest + prepared->record_hash);
    if (prepared->config) {
      report.config_blocks = 1;
    } else if (n < prefix) {
      // Verified by the checkpoint's full pass: replayed under the stored codes, checked as a whole below.
      auto& checked = prepared->checked;
      for (uint32_t i = 0; i < checked.size(); ++i) {
        checked[i].code = static_cast<uint8_t>(block.filter[i]);
        ++(checked[i].code == wire::kTxValid ? report.txs_valid : report.txs_invalid);
      }
      replay.Apply(Validator::MakeUpdate(n, checked));
    } else {
      // In block order on this thread: MVCC and duplicates against the state the earlier blocks left.
      auto& checked = prepared->checked;
      auto st = validator.CheckBlockState(checked, replay);
      if (!st.ok()) return st.error();
      for (uint32_t i = 0; i < checked.size(); ++i) {
        int32_t stored = static_cast<uint8_t>(block.filter[i]);
        if (checked[i].code != stored) {
          return fail(
              n, i,
              "recorded as " + wire::TxCodeName(stored) + " but re-validates as " + wire::TxCodeName(checked[i].code));
        }
        if (stored == wire::kTxValid) {
          ++report.txs_valid;
        } else {
          ++report.txs_invalid;
        }
      }
      replay.Apply(Validator::MakeUpdate(n, checked));
    }
    previous_hash = std::move(prepared->header_hash);
    report.blocks = n + 1;
    report.timings.state += seconds_since(t_state);
    if (n + 1 == prefix) {
      const VerifiedPrefix& want = *options.resume;
      if (HexEncode(records_digest) != want.records_digest || HexEncode(previous_hash) != want.last_hash) {
        return fail(n, std::nullopt,
                    "verify checkpoint: blocks 0.." + std::to_string(n) +
                        " are not the bytes the checkpoint's full pass verified (re-verify with --full)");
      }
      if (StateDigest(replay) != want.state_digest) {
        return fail(n, std::nullopt,
                    "verify checkpoint: the state replayed from blocks 0.." + std::to_string(n) +
                        " is not the one the checkpoint's full pass derived (re-verify with --full)");
      }
      report.resumed_blocks = prefix;
      report.resumed_from = want.verified_at;
    }
    if (savepoint && *savepoint == n) {
      ML_ASSIGN_OR_RETURN(bool same, check_state());
      if (!same) return report;
    }
    if (options.progress && options.progress_every != 0 && (n + 1) % options.progress_every == 0) {
      options.progress(n + 1, height);
    }
  }
  report.last_hash = HexEncode(previous_hash);
  report.state_lag = height - (savepoint ? *savepoint + 1 : 0);
  report.verified =
      VerifiedPrefix{height,           report.last_hash,   HexEncode(records_digest), StateDigest(replay),
                     report.txs_valid, report.txs_invalid, report.config_blocks,      report.resumed_from};

  report.ok = true;
  return report;
}

}  // namespace medledger::ledger::embedded
