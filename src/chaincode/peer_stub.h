// ChaincodeStub backed by the peer: every state access is a round trip over the shim protocol. The
// creator and timestamp come from the signed proposal the peer forwarded, never from arguments.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "contract/stub.h"

namespace protos {
class ChaincodeMessage;
}

namespace medledger::chaincode {

class Handler;

class PeerStub final : public contract::ChaincodeStub {
 public:
  // Decodes the proposal carried by a TRANSACTION/INIT message (creator, timestamp).
  static Result<std::unique_ptr<PeerStub>> FromTransaction(Handler& handler, const protos::ChaincodeMessage& tx);

  Result<std::optional<std::string>> GetState(std::string_view key) override;
  Status PutState(std::string_view key, std::string_view value) override;
  Status DelState(std::string_view key) override;
  Status SetStateValidationParameter(std::string_view key, std::string_view policy) override;
  Result<contract::Page> GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                                         std::string_view bookmark) override;
  Result<std::vector<contract::KeyModification>> GetHistoryForKey(std::string_view key) override;
  const contract::Creator& GetCreator() const override { return creator_; }
  const std::string& GetTxID() const override { return tx_id_; }
  const std::string& GetChannelID() const override { return channel_id_; }
  Timestamp GetTxTimestamp() const override { return timestamp_; }
  Status SetEvent(std::string_view name, std::string_view payload) override;

  // The event to attach to COMPLETED, if the contract set one.
  const std::optional<std::pair<std::string, std::string>>& event() const { return event_; }

  PeerStub(Handler& handler, std::string channel_id, std::string tx_id);

 private:
  Result<std::string> Call(int type, std::string payload);
  // Reads a query the peer answered with `first_reply` to its end: each result's bytes go to `each`,
  // QUERY_STATE_NEXT fetches the next batch while the peer has more, and QUERY_STATE_CLOSE releases the
  // peer's iterator. Returns the last reply's metadata (a serialized QueryResponseMetadata, or empty).
  Result<std::string> DrainQuery(const std::string& first_reply,
                                 const std::function<Status(const std::string& result_bytes)>& each);

  Handler& handler_;
  std::string channel_id_;
  std::string tx_id_;
  contract::Creator creator_;
  Timestamp timestamp_;
  std::optional<std::pair<std::string, std::string>> event_;
};

}  // namespace medledger::chaincode
