// An in-memory ChaincodeStub for contract tests: committed state with per-key history, a per-transaction
// write buffer (GetState reads its own writes; range queries see committed state only, as on Fabric),
// bookmarked range pages, and a test-controlled creator, transaction ID and timestamp.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "contract/stub.h"

namespace medledger::contract::testing {

class FakeStub final : public ChaincodeStub {
 public:
  // Starts a transaction: discards any uncommitted writes and the pending event.
  void Begin(Creator creator, std::string tx_id, Timestamp ts) {
    creator_ = std::move(creator);
    tx_id_ = std::move(tx_id);
    ts_ = ts;
    writes_.clear();
    event_.reset();
    ++begun_;
  }

  // Applies the write buffer to committed state and history, in key order (as a ledger would).
  void Commit() {
    for (auto& [key, value] : writes_) {
      history_[key].push_back(KeyModification{tx_id_, value.value_or(""), ts_, !value.has_value()});
      if (value) {
        state_[key] = *value;
      } else {
        state_.erase(key);
      }
    }
    last_committed_writes_ = std::move(writes_);
    writes_.clear();
  }

  Result<std::optional<std::string>> GetState(std::string_view key) override {
    ML_RETURN_IF_ERROR(CheckKey(key));
    ++reads_;
    auto w = writes_.find(std::string(key));
    if (w != writes_.end()) return w->second;
    auto it = state_.find(std::string(key));
    if (it == state_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status PutState(std::string_view key, std::string_view value) override {
    ML_RETURN_IF_ERROR(CheckKey(key));
    // Fabric treats an empty value as a delete; the contract must never rely on that.
    if (value.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_value", "PutState with an empty value");
    writes_[std::string(key)] = std::string(value);
    return OkStatus();
  }

  Status SetStateValidationParameter(std::string_view key, std::string_view policy) override {
    ML_RETURN_IF_ERROR(CheckKey(key));
    validation_parameters_[std::string(key)] = std::string(policy);
    return OkStatus();
  }
  // The key-level policies set so far (committed or not), for assertions.
  const std::map<std::string, std::string>& validation_parameters() const { return validation_parameters_; }

  Status DelState(std::string_view key) override {
    ML_RETURN_IF_ERROR(CheckKey(key));
    writes_[std::string(key)] = std::nullopt;
    return OkStatus();
  }

  Result<Page> GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                               std::string_view bookmark) override {
    ++range_queries_;
    if (!bookmark.empty() && (bookmark < start || (!end.empty() && bookmark >= end))) {
      return MakeError(ErrorKind::kInvalidArgument, "invalid_bookmark", "bookmark outside the range");
    }
    std::string from(bookmark.empty() ? start : bookmark);
    Page page;
    for (auto it = state_.lower_bound(from); it != state_.end(); ++it) {
      if (!end.empty() && it->first >= end) break;
      if (page_size != 0 && page.items.size() == page_size) {
        page.bookmark = it->first;
        break;
      }
      page.items.push_back(KeyValue{it->first, it->second});
    }
    return page;
  }

  Result<std::vector<KeyModification>> GetHistoryForKey(std::string_view key) override {
    auto it = history_.find(std::string(key));
    if (it == history_.end()) return std::vector<KeyModification>();
    return it->second;
  }

  const Creator& GetCreator() const override { return creator_; }
  const std::string& GetTxID() const override { return tx_id_; }
  const std::string& GetChannelID() const override { return channel_; }
  Timestamp GetTxTimestamp() const override { return ts_; }

  Status SetEvent(std::string_view name, std::string_view payload) override {
    if (name.empty()) return MakeError(ErrorKind::kInvalidArgument, "invalid_event", "empty event name");
    event_ = std::make_pair(std::string(name), std::string(payload));
    return OkStatus();
  }

  // ---- inspection -----------------------------------------------------------------------------------
  const std::map<std::string, std::string>& state() const { return state_; }
  const std::map<std::string, std::optional<std::string>>& pending_writes() const { return writes_; }
  const std::map<std::string, std::optional<std::string>>& last_committed_writes() const {
    return last_committed_writes_;
  }
  const std::optional<std::pair<std::string, std::string>>& event() const { return event_; }
  size_t reads() const { return reads_; }
  size_t range_queries() const { return range_queries_; }
  void ResetCounters() { reads_ = range_queries_ = 0; }

 private:
  static Status CheckKey(std::string_view key) {
    if (key.empty() || !IsValidUtf8(key)) {
      return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "keys must be non-empty UTF-8");
    }
    return OkStatus();
  }

  std::map<std::string, std::string> state_;
  std::map<std::string, std::vector<KeyModification>> history_;
  std::map<std::string, std::optional<std::string>> writes_;
  std::map<std::string, std::optional<std::string>> last_committed_writes_;
  std::map<std::string, std::string> validation_parameters_;
  std::optional<std::pair<std::string, std::string>> event_;
  Creator creator_;
  std::string tx_id_;
  std::string channel_ = "medledger";
  Timestamp ts_;
  size_t begun_ = 0;
  size_t reads_ = 0;
  size_t range_queries_ = 0;
};

}  // namespace medledger::contract::testing
