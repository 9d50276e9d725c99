// The shim side of Fabric's chaincode protocol, independent of the transport:
//   shim -> REGISTER(ChaincodeID); peer -> REGISTERED; peer -> READY;
//   peer -> TRANSACTION/INIT (ChaincodeInput + SignedProposal) ... shim -> COMPLETED(Response) | ERROR;
//   during a transaction the shim asks GET_STATE, PUT_STATE, DEL_STATE, GET_STATE_BY_RANGE, QUERY_STATE_NEXT,
//   QUERY_STATE_CLOSE, GET_HISTORY_FOR_KEY and the peer answers RESPONSE | ERROR with the same channel+txid;
//   KEEPALIVE is echoed.
// Several transactions run at once (a worker pool); replies are matched to them by channel ID + tx ID.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaincode/message_sink.h"
#include "common/result.h"
#include "contract/stub.h"

namespace protos {
class ChaincodeMessage;
}

namespace medledger::chaincode {

struct HandlerOptions {
  std::string chaincode_name;                     // the package ID the peer knows the chaincode by (CHAINCODE_ID)
  size_t workers = 4;                             // transactions executed concurrently
  std::chrono::milliseconds peer_timeout{30000};  // how long a stub call waits for the peer's answer
};

class Handler {
 public:
  Handler(contract::Contract& contract, MessageSink& sink, HandlerOptions options);
  ~Handler();  // fails pending calls, drains and joins the workers
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // Sends REGISTER. Call once, before feeding messages.
  Status Start();
  // Feeds one message from the peer. An error means the peer broke the protocol; the stream should close.
  Status Handle(const protos::ChaincodeMessage& message);
  // The stream ended: every transaction waiting on the peer fails with "peer_disconnected".
  void Disconnect();

  // For the peer-backed stub: sends `request` (type, payload, txid, channel set by the caller) and waits for
  // the peer's RESPONSE; an ERROR reply becomes an error value carrying the peer's text.
  Result<std::string> Call(const protos::ChaincodeMessage& request);

  enum class State { kCreated, kEstablished, kReady };
  State state() const;

 private:
  struct Pending;
  void RunTransaction(std::unique_ptr<protos::ChaincodeMessage> message);
  void Worker();

  contract::Contract& contract_;
  MessageSink& sink_;
  HandlerOptions options_;

  mutable std::mutex mu_;
  State state_ = State::kCreated;
  bool disconnected_ = false;
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // channel + txid -> waiting call

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<protos::ChaincodeMessage>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace medledger::chaincode
