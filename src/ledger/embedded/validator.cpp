#include "ledger/embedded/validator.h"

#include <map>
#include <set>

#include "ledger/embedded/worker_pool.h"
#include "ledger/wire/protoutil.h"

namespace medledger::ledger::embedded {

Result<std::optional<wire::Version>> StateDbView::GetVersion(std::string_view ns, std::string_view key) const {
  ML_ASSIGN_OR_RETURN(auto v, db_.Get(ns, key));
  if (!v) return std::optional<wire::Version>();
  return std::optional<wire::Version>(v->version);
}

Result<std::vector<std::pair<std::string, wire::Version>>> StateDbView::RangeVersions(std::string_view ns,
                                                                                      std::string_view start,
                                                                                      std::string_view end,
                                                                                      uint32_t limit) const {
  ML_ASSIGN_OR_RETURN(auto rows, db_.Range(ns, start, end, limit));
  std::vector<std::pair<std::string, wire::Version>> out;
  out.reserve(rows.size());
  for (auto& [k, v] : rows) out.emplace_back(std::move(k), v.version);
  return out;
}

Result<bool> StateDbView::HasTx(std::string_view tx_id) const {
  ML_ASSIGN_OR_RETURN(auto loc, db_.FindTx(tx_id));
  return loc.has_value();
}

CheckedTx Validator::CheckStateless(std::string_view envelope, Trust trust) const {
  CheckedTx out;
  out.code = wire::ParseEndorserTransaction(envelope, channel_id_, ns_, &out.tx);
  if (out.code != wire::kTxValid) return out;
  const wire::ParsedTx& tx = out.tx;

  auto creator = membership_.Resolve(tx.creator);
  if (!creator.ok() || (!trust.creator && !(*creator)->public_key.Verify(tx.payload, tx.signature))) {
    out.code = wire::kTxBadCreatorSignature;
    return out;
  }
  if (tx.proposal_hash != tx.expected_proposal_hash) {
    out.code = wire::kTxBadResponsePayload;  // the endorsement was made for another proposal
    return out;
  }
  // Policy: endorsed by the organisation's peer. Every endorsement present must verify.
  bool endorsed = false;
  for (const auto& e : tx.endorsements) {
    auto endorser = membership_.Resolve(e.endorser);
    if (!endorser.ok()) {
      out.code = wire::kTxEndorsementPolicyFailure;
      return out;
    }
    if (!trust.endorsement) {
      std::string signed_bytes = tx.proposal_response_payload + e.endorser;
      if (!(*endorser)->public_key.Verify(signed_bytes, e.signature)) {
        out.code = wire::kTxEndorsementPolicyFailure;
        return out;
      }
    }
    endorsed = endorsed || (*endorser)->is_endorser;
  }
  if (!endorsed) out.code = wire::kTxEndorsementPolicyFailure;
  // A key-level policy naming another organisation could never be satisfied on a one-organisation channel, so
  // the key would be frozen: refused. One naming this organisation is satisfied by the endorsement every
  // transaction already needs (above), so nothing more is checked for later writes of that key.
  for (const auto& pw : tx.policy_writes) {
    for (const auto& msp : pw.principal_msps) {
      if (msp != membership_.msp_id()) out.code = wire::kTxEndorsementPolicyFailure;
    }
  }
  return out;
}

std::vector<CheckedTx> Validator::CheckBlockStateless(const std::vector<std::string_view>& envelopes,
                                                      const std::vector<Trust>& trust, WorkerPool* pool) const {
  std::vector<CheckedTx> out(envelopes.size());
  auto one = [&](size_t i) { out[i] = CheckStateless(envelopes[i], i < trust.size() ? trust[i] : Trust{}); };
  if (pool != nullptr) {
    pool->ParallelFor(envelopes.size(), one);
  } else {
    for (size_t i = 0; i < envelopes.size(); ++i) one(i);
  }
  return out;
}

Status Validator::CheckBlockState(std::vector<CheckedTx>& txs, const StateView& state) const {
  std::set<std::string> seen_txids;
  std::set<std::string> written;  // keys written by earlier valid txs of this block
  for (auto& ct : txs) {
    if (ct.code != wire::kTxValid) continue;
    wire::ParsedTx& tx = ct.tx;
    if (seen_txids.count(tx.tx_id) != 0) {
      ct.code = wire::kTxDuplicateTxId;
      continue;
    }
    ML_ASSIGN_OR_RETURN(bool exists, state.HasTx(tx.tx_id));
    if (exists) {
      ct.code = wire::kTxDuplicateTxId;
      continue;
    }
    seen_txids.insert(tx.tx_id);

    for (const auto& r : tx.reads) {
      if (written.count(r.key) != 0) {
        ct.code = wire::kTxMvccReadConflict;
        break;
      }
      ML_ASSIGN_OR_RETURN(auto current, state.GetVersion(ns_, r.key));
      if (current != r.version) {
        ct.code = wire::kTxMvccReadConflict;
        break;
      }
    }
    if (ct.code != wire::kTxValid) continue;

    for (const auto& rr : tx.ranges) {
      // A key written earlier in this block inside the range is a phantom (or a changed version).
      auto it = written.lower_bound(rr.start);
      bool hit = it != written.end() && (rr.end.empty() || *it < rr.end);
      if (hit && !rr.exhausted && !rr.keys.empty() && *it > rr.keys.back().first) hit = false;
      if (hit) {
        ct.code = wire::kTxPhantomReadConflict;
        break;
      }
      uint32_t limit = rr.exhausted ? 0 : static_cast<uint32_t>(rr.keys.size());
      ML_ASSIGN_OR_RETURN(auto now, state.RangeVersions(ns_, rr.start, rr.end, limit));
      if (now != rr.keys) {
        ct.code = wire::kTxPhantomReadConflict;
        break;
      }
    }
    if (ct.code != wire::kTxValid) continue;
    for (const auto& w : tx.writes) written.insert(w.key);
  }
  return OkStatus();
}

bool IndexesTxId(int32_t code) {
  return code == wire::kTxValid || code == wire::kTxEndorsementPolicyFailure || code == wire::kTxMvccReadConflict ||
         code == wire::kTxPhantomReadConflict;
}

storage::BlockUpdate Validator::MakeUpdate(uint64_t block_number, std::vector<CheckedTx>& txs) {
  storage::BlockUpdate update;
  update.block_number = block_number;
  update.txs.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    CheckedTx& ct = txs[i];
    storage::TxUpdate u;
    u.tx_index = static_cast<uint32_t>(i);
    u.validation_code = ct.code;
    u.timestamp = ct.tx.timestamp;
    // A tx_id is indexed only once its creator's signature proved it (and never a second time), so
    // a forged or replayed transaction cannot claim or shadow someone else's ID.
    if (IndexesTxId(ct.code)) u.tx_id = ct.tx.tx_id;
    if (ct.code == wire::kTxValid) u.writes = std::move(ct.tx.writes);
    update.txs.push_back(std::move(u));
  }
  return update;
}

}  // namespace medledger::ledger::embedded
