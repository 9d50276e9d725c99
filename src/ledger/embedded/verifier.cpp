#include "ledger/embedded/verifier.h"

#include <map>
#include <set>

#include "common/encoding.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/genesis.h"
#include "ledger/embedded/protoutil.h"
#include "ledger/embedded/validator.h"

namespace medledger::ledger::embedded {
namespace {

// The state recomputed from the blocks alone.
class ReplayState final : public StateView {
 public:
  Result<std::optional<Version>> GetVersion(std::string_view ns, std::string_view key) const override {
    auto it = values_.find(Key(ns, key));
    if (it == values_.end()) return std::optional<Version>();
    return std::optional<Version>(it->second.version);
  }
  Result<std::vector<std::pair<std::string, Version>>> RangeVersions(std::string_view ns, std::string_view start,
                                                                     std::string_view end,
                                                                     uint32_t limit) const override {
    std::vector<std::pair<std::string, Version>> out;
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

  void Apply(const BlockUpdate& update) {
    for (const auto& tx : update.txs) {
      if (!tx.tx_id.empty()) txids_.insert(tx.tx_id);
      if (tx.validation_code != kTxValid) continue;
      for (const auto& w : tx.writes) {
        if (w.value) {
          values_[Key(w.ns, w.key)] = VersionedValue{*w.value, Version{update.block_number, tx.tx_index}};
        } else {
          values_.erase(Key(w.ns, w.key));
        }
      }
    }
  }
  const std::map<std::string, VersionedValue>& values() const { return values_; }
  // Namespaces cannot contain NUL, so "ns\0key" orders keys of one namespace together.
  static std::string Key(std::string_view ns, std::string_view key) {
    std::string k(ns);
    k.push_back('\0');
    k.append(key);
    return k;
  }

 private:
  std::map<std::string, VersionedValue> values_;
  std::set<std::string> txids_;
};

// The state database must hold exactly the replayed state as of its savepoint. Returns "" or why not.
Result<std::string> CompareState(const StateDb& state, const ReplayState& replay, uint64_t* keys) {
  const auto& expected = replay.values();
  auto it = expected.begin();
  std::string mismatch;
  uint64_t seen = 0;
  Status st = state.ForEach([&](std::string_view ns, std::string_view key, const VersionedValue& v) {
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

}  // namespace

Result<VerifyReport> VerifyChain(const BlockStore& blocks, const StateDb& state, const Membership& membership,
                                 const VerifyOptions& options) {
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
  auto check_state = [&]() -> Result<bool> {
    ML_ASSIGN_OR_RETURN(std::string why, CompareState(state, replay, &report.state_keys));
    if (why.empty()) return true;
    fail(savepoint.value_or(0), std::nullopt, "state database: " + why);
    return false;
  };
  if (!savepoint) {
    ML_ASSIGN_OR_RETURN(bool same, check_state());
    if (!same) return report;
  }

  for (uint64_t n = 0; n < height; ++n) {
    auto bytes = blocks.Read(n);
    if (!bytes.ok()) return fail(n, std::nullopt, "unreadable: " + bytes.error().message);
    auto block = DecodeBlock(*bytes);
    if (!block.ok()) return fail(n, std::nullopt, block.error().message);
    if (block->number != n) return fail(n, std::nullopt, "header number is " + std::to_string(block->number));
    if (block->previous_hash != previous_hash) return fail(n, std::nullopt, "previous_hash breaks the chain");
    std::vector<std::string_view> envelopes(block->envelopes.begin(), block->envelopes.end());
    if (BlockDataHash(envelopes) != block->data_hash) return fail(n, std::nullopt, "data_hash does not match the data");
    if (std::string why = CheckBlockSignature(*block, membership); !why.empty()) return fail(n, std::nullopt, why);
    if (block->filter.size() != envelopes.size()) {
      return fail(n, std::nullopt,
                  "transactions filter has " + std::to_string(block->filter.size()) + " codes for " +
                      std::to_string(envelopes.size()) + " transactions");
    }

    if (n == 0 && envelopes.size() == 1 && IsConfigEnvelope(envelopes[0])) {
      // The genesis (configuration) block: the orderer's config transaction, valid, writing no state.
      std::string why = CheckConfigEnvelope(envelopes[0], options.channel_id, membership);
      if (!why.empty()) return fail(n, 0, "genesis block: " + why);
      if (static_cast<uint8_t>(block->filter[0]) != kTxValid) return fail(n, 0, "genesis block: not marked VALID");
      report.config_blocks = 1;
    } else {
      auto checked = validator.CheckBlockStateless(envelopes, {}, nullptr);
      auto st = validator.CheckBlockState(checked, replay);
      if (!st.ok()) return st.error();
      for (uint32_t i = 0; i < checked.size(); ++i) {
        int32_t stored = static_cast<uint8_t>(block->filter[i]);
        if (checked[i].code != stored) {
          return fail(n, i,
                      "recorded as " + TxCodeName(stored) + " but re-validates as " + TxCodeName(checked[i].code));
        }
        if (stored == kTxValid) {
          ++report.txs_valid;
        } else {
          ++report.txs_invalid;
        }
      }
      replay.Apply(Validator::MakeUpdate(n, checked));
    }
    previous_hash = BlockHeaderHash(n, block->previous_hash, block->data_hash);
    report.blocks = n + 1;
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

  report.ok = true;
  return report;
}

}  // namespace medledger::ledger::embedded
