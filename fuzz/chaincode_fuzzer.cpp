// libFuzzer: the chaincode shim's message handling. The input is one ChaincodeMessage from the peer (seeds:
// TRANSACTION messages carrying a ChaincodeInput and a SignedProposal), mutated structurally by the protobuf
// mutator. The harness registers a Handler (REGISTERED, READY), feeds the message, and plays the peer for
// every call the transaction makes: the i-th GET_STATE / PUT_STATE / GET_STATE_BY_RANGE / QUERY_STATE_NEXT /
// GET_HISTORY_FOR_KEY ... is answered with results[i].result_bytes of the QueryResponse the input carries in
// chaincode_event.payload (a field the peer never sets on a TRANSACTION), or with ERROR when there is none.
// So the proposal and creator parsing, the state machine, reply matching and every reply decoder in
// peer_stub.cpp see fuzzed bytes. The contract runs the stub calls its arguments name.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "chaincode/handler.h"
#include "chaincode/message_sink.h"
#include "pb/common/common.pb.h"
#include "pb/ledger/queryresult/kv_query_result.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/chaincode_event.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal.pb.h"
#include "proto_mutator.h"

namespace {

using protos::ChaincodeMessage;
namespace contract = medledger::contract;

// Each argument after the function name is one stub call: its first byte picks the call, the rest is the key
// (ranges split the rest at ',').
class StubExerciser final : public contract::Contract {
 public:
  contract::Response Invoke(contract::ChaincodeStub& stub, std::string_view fn,
                            const std::vector<std::string>& args) override {
    std::string out(fn);
    for (const auto& a : args) {
      if (a.empty()) continue;
      std::string key = a.substr(1);
      size_t comma = key.find(',');
      std::string start = key.substr(0, comma);
      std::string end = comma == std::string::npos ? "" : key.substr(comma + 1);
      switch (a[0]) {
        case 'g': (void)stub.GetState(key); break;
        case 'p': (void)stub.PutState(start, end); break;
        case 'd': (void)stub.DelState(key); break;
        case 'r': (void)stub.GetStateByRange(start, end, 0, ""); break;
        case 'P': (void)stub.GetStateByRange(start, end, 2, end); break;
        case 'h': (void)stub.GetHistoryForKey(key); break;
        case 'e': (void)stub.SetEvent(start, end); break;
        default: out += stub.GetCreator().msp_id + stub.GetTxID() + stub.GetChannelID(); (void)stub.GetTxTimestamp();
      }
    }
    return {200, "", out};
  }
};

class ScriptedPeer final : public medledger::chaincode::MessageSink {
 public:
  explicit ScriptedPeer(const protos::QueryResponse& replies) : replies_(replies) {}
  std::atomic<medledger::chaincode::Handler*> handler{nullptr};

  medledger::Status Send(const ChaincodeMessage& m) override {
    if (m.type() == ChaincodeMessage::COMPLETED || m.type() == ChaincodeMessage::ERROR) {
      std::lock_guard lock(mu_);
      ++finished_;
      cv_.notify_all();
      return medledger::OkStatus();
    }
    if (m.type() == ChaincodeMessage::REGISTER || m.type() == ChaincodeMessage::KEEPALIVE || handler == nullptr) {
      return medledger::OkStatus();
    }
    ChaincodeMessage reply;
    reply.set_txid(m.txid());
    reply.set_channel_id(m.channel_id());
    {
      std::lock_guard lock(mu_);
      if (next_ < replies_.results_size()) {
        reply.set_type(ChaincodeMessage::RESPONSE);
        reply.set_payload(replies_.results(next_++).resultbytes());
      } else {
        reply.set_type(ChaincodeMessage::ERROR);
        reply.set_payload("no more scripted replies");
      }
    }
    if (auto* h = handler.load()) (void)h->Handle(reply);
    return medledger::OkStatus();
  }

  void WaitFinished() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return finished_ > 0; });
  }

 private:
  const protos::QueryResponse& replies_;
  std::mutex mu_;
  std::condition_variable cv_;
  int next_ = 0;
  int finished_ = 0;
};

const medledger::fuzz::ProtoMutator& Mutator() {
  static const medledger::fuzz::ProtoMutator m(
      ChaincodeMessage::default_instance(),
      {{"protos.ChaincodeMessage.payload", &protos::ChaincodeInput::default_instance()},
       {"protos.ChaincodeEvent.payload", &protos::QueryResponse::default_instance()},
       {"protos.QueryResultBytes.resultBytes", &protos::QueryResponse::default_instance()},
       {"protos.QueryResponse.metadata", &protos::QueryResponseMetadata::default_instance()},
       {"protos.SignedProposal.proposal_bytes", &protos::Proposal::default_instance()},
       {"protos.Proposal.header", &common::Header::default_instance()},
       {"common.Header.channel_header", &common::ChannelHeader::default_instance()},
       {"common.Header.signature_header", &common::SignatureHeader::default_instance()},
       {"common.SignatureHeader.creator", &msp::SerializedIdentity::default_instance()}});
  return m;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return Mutator().Mutate(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ChaincodeMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  protos::QueryResponse replies;
  (void)replies.ParseFromString(message.chaincode_event().payload());
  StubExerciser contract;
  ScriptedPeer peer(replies);
  {
    medledger::chaincode::HandlerOptions options{"medledger:fuzz", 1, std::chrono::milliseconds(200)};
    medledger::chaincode::Handler handler(contract, peer, options);
    peer.handler = &handler;
    if (!handler.Start().ok()) std::abort();
    ChaincodeMessage step;
    step.set_type(ChaincodeMessage::REGISTERED);
    if (!handler.Handle(step).ok()) std::abort();
    step.set_type(ChaincodeMessage::READY);
    if (!handler.Handle(step).ok()) std::abort();
    auto st = handler.Handle(message);
    if (st.ok() && (message.type() == ChaincodeMessage::TRANSACTION || message.type() == ChaincodeMessage::INIT)) {
      peer.WaitFinished();
    }
    peer.handler = nullptr;
  }
  return 0;
}
