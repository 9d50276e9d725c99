#include "ledger/embedded/simulator.h"

#include "common/encoding.h"
#include "contract/endorsement_policy.h"
#include "pb/ledger/rwset/kvrwset/kv_rwset.pb.h"
#include "pb/ledger/rwset/rwset.pb.h"
#include "pb/peer/chaincode_event.pb.h"

namespace medledger::ledger::embedded {

Status ValidateKey(std::string_view key) {
  if (key.empty()) return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "key must not be empty");
  if (key.size() > wire::kMaxKeySize) {
    return MakeError(ErrorKind::kTooLarge, "key_too_large",
                     "key exceeds " + std::to_string(wire::kMaxKeySize) + " bytes");
  }
  // Keys travel in protobuf `string` fields, which must hold UTF-8.
  if (!IsValidUtf8(key)) return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "key is not valid UTF-8");
  return OkStatus();
}

Result<std::optional<std::string>> Simulator::GetState(std::string_view key) {
  ML_RETURN_IF_ERROR(ValidateKey(key));
  ML_ASSIGN_OR_RETURN(auto current, state_.Get(ctx_.ns, key));
  std::optional<wire::Version> version;
  std::optional<std::string> value;
  if (current) {
    version = current->version;
    value = std::move(current->value);
  }
  // Only the first read of a key counts: a later read seeing a newer version is caught by MVCC anyway.
  reads_.emplace(std::string(key), version);
  return value;
}

Status Simulator::PutState(std::string_view key, std::string_view value) {
  ML_RETURN_IF_ERROR(ValidateKey(key));
  if (value.size() > kMaxValueSize) {
    return MakeError(ErrorKind::kTooLarge, "value_too_large",
                     "value exceeds " + std::to_string(kMaxValueSize) + " bytes");
  }
  writes_[std::string(key)] = std::string(value);
  return OkStatus();
}

Status Simulator::DelState(std::string_view key) {
  ML_RETURN_IF_ERROR(ValidateKey(key));
  writes_[std::string(key)] = std::nullopt;
  return OkStatus();
}

Status Simulator::SetStateValidationParameter(std::string_view key, std::string_view policy) {
  ML_RETURN_IF_ERROR(ValidateKey(key));
  if (policy.size() > kMaxValueSize) {
    return MakeError(ErrorKind::kTooLarge, "value_too_large", "validation parameter too large");
  }
  validation_parameters_[std::string(key)] = std::string(policy);
  return OkStatus();
}

Result<contract::Page> Simulator::GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                                                  std::string_view bookmark) {
  std::string_view from = bookmark.empty() ? start : bookmark;
  if (!bookmark.empty() && (bookmark < start || (!end.empty() && bookmark >= end))) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_bookmark", "bookmark lies outside the queried range");
  }
  if (!IsValidUtf8(from) || !IsValidUtf8(end)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "range bounds must be valid UTF-8");
  }
  uint32_t limit = page_size == 0 ? 0 : page_size + 1;
  ML_ASSIGN_OR_RETURN(auto rows, state_.Range(ctx_.ns, from, end, limit));
  wire::RangeRead rr{std::string(from), std::string(end), true, {}};
  contract::Page page;
  for (size_t i = 0; i < rows.size(); ++i) {
    rr.keys.emplace_back(rows[i].first, rows[i].second.version);
    if (page_size != 0 && i == page_size) {
      page.bookmark = rows[i].first;
      rr.exhausted = false;
      break;
    }
    page.items.push_back(contract::KeyValue{rows[i].first, std::move(rows[i].second.value)});
  }
  ranges_.push_back(std::move(rr));
  return page;
}

Result<std::vector<contract::KeyModification>> Simulator::GetHistoryForKey(std::string_view key) {
  ML_RETURN_IF_ERROR(ValidateKey(key));
  ML_ASSIGN_OR_RETURN(auto records, state_.History(ctx_.ns, key));
  std::vector<contract::KeyModification> out;
  out.reserve(records.size());
  for (auto& r : records) {
    out.push_back(
        contract::KeyModification{std::move(r.tx_id), r.value.value_or(""), r.timestamp, !r.value.has_value()});
  }
  return out;
}

Status Simulator::SetEvent(std::string_view name, std::string_view payload) {
  if (name.empty()) return MakeError(ErrorKind::kInvalidArgument, "invalid_event", "event name must not be empty");
  if (!IsValidUtf8(name)) return MakeError(ErrorKind::kInvalidArgument, "invalid_event", "event name is not UTF-8");
  if (payload.size() > kMaxValueSize) return MakeError(ErrorKind::kTooLarge, "value_too_large", "event too large");
  event_.emplace(std::string(name), std::string(payload));
  return OkStatus();
}

namespace {
void SetVersion(kvrwset::KVRead* read, const std::optional<wire::Version>& v) {
  if (!v) return;
  read->mutable_version()->set_block_num(v->block);
  read->mutable_version()->set_tx_num(v->tx);
}
}  // namespace

std::string Simulator::SerializeRwSet() const {
  kvrwset::KVRWSet kv;
  for (const auto& [key, version] : reads_) {
    auto* r = kv.add_reads();
    r->set_key(key);
    SetVersion(r, version);
  }
  for (const auto& rr : ranges_) {
    auto* q = kv.add_range_queries_info();
    q->set_start_key(rr.start);
    q->set_end_key(rr.end);
    q->set_itr_exhausted(rr.exhausted);
    auto* raw = q->mutable_raw_reads();
    for (const auto& [key, version] : rr.keys) {
      auto* r = raw->add_kv_reads();
      r->set_key(key);
      SetVersion(r, version);
    }
  }
  for (const auto& [key, value] : writes_) {
    auto* w = kv.add_writes();
    w->set_key(key);
    if (value) {
      w->set_value(*value);
    } else {
      w->set_is_delete(true);
    }
  }
  for (const auto& [key, policy] : validation_parameters_) {
    auto* m = kv.add_metadata_writes();
    m->set_key(key);
    auto* entry = m->add_entries();
    entry->set_name(std::string(contract::kValidationParameter));
    entry->set_value(policy);
  }
  rwset::TxReadWriteSet tx;
  tx.set_data_model(rwset::TxReadWriteSet::KV);
  auto* ns = tx.add_ns_rwset();
  ns->set_namespace_(ctx_.ns);
  ns->set_rwset(kv.SerializeAsString());
  return tx.SerializeAsString();
}

std::string Simulator::SerializeEvent() const {
  if (!event_) return "";
  protos::ChaincodeEvent ev;
  ev.set_chaincode_id(ctx_.ns);
  ev.set_tx_id(ctx_.tx_id);
  ev.set_event_name(event_->first);
  ev.set_payload(event_->second);
  return ev.SerializeAsString();
}

}  // namespace medledger::ledger::embedded
