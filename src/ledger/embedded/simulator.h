// The transaction simulator: the ChaincodeStub the contract runs on during endorsement and evaluation.
// Reads come from the committed state (like Fabric, a transaction does not read its own writes) and are
// recorded with their versions; range queries are recorded with every key/version they returned so the
// validator can detect phantoms; writes are buffered and become the write set.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "contract/stub.h"
#include "ledger/storage/state_db.h"

namespace medledger::ledger::embedded {

inline constexpr size_t kMaxValueSize = 4 * 1024 * 1024;

struct TxContext {
  std::string ns;  // chaincode namespace, e.g. "records"
  std::string channel_id;
  std::string tx_id;
  Timestamp timestamp;
  contract::Creator creator;
};

class Simulator final : public contract::ChaincodeStub {
 public:
  Simulator(const storage::StateDb& state, TxContext context) : state_(state), ctx_(std::move(context)) {}

  Result<std::optional<std::string>> GetState(std::string_view key) override;
  Status PutState(std::string_view key, std::string_view value) override;
  Status DelState(std::string_view key) override;
  // Recorded as the write set's metadata write (`VALIDATION_PARAMETER`), as Fabric's simulator does.
  Status SetStateValidationParameter(std::string_view key, std::string_view policy) override;
  Result<contract::Page> GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                                         std::string_view bookmark) override;
  Result<std::vector<contract::KeyModification>> GetHistoryForKey(std::string_view key) override;
  const contract::Creator& GetCreator() const override { return ctx_.creator; }
  const std::string& GetTxID() const override { return ctx_.tx_id; }
  const std::string& GetChannelID() const override { return ctx_.channel_id; }
  Timestamp GetTxTimestamp() const override { return ctx_.timestamp; }
  Status SetEvent(std::string_view name, std::string_view payload) override;

  // Serialized rwset.TxReadWriteSet holding one NsReadWriteSet for ctx.ns.
  std::string SerializeRwSet() const;
  // Serialized protos.ChaincodeEvent, or "" when the contract set none.
  std::string SerializeEvent() const;

  const std::map<std::string, std::optional<std::string>>& writes() const { return writes_; }

 private:
  const storage::StateDb& state_;
  TxContext ctx_;
  std::map<std::string, std::optional<wire::Version>> reads_;
  std::vector<wire::RangeRead> ranges_;
  std::map<std::string, std::optional<std::string>> writes_;
  std::map<std::string, std::string> validation_parameters_;
  std::optional<std::pair<std::string, std::string>> event_;
};

// Checks a key as Fabric does (non-empty, valid UTF-8) plus medledger's size limit.
Status ValidateKey(std::string_view key);

}  // namespace medledger::ledger::embedded
