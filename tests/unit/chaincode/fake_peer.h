// A scripted Fabric peer for the shim: it answers the shim's state requests from an in-memory world state,
// records every message, and can be told to fail or stay silent.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "chaincode/handler.h"
#include "chaincode/message_sink.h"
#include "pb/ledger/queryresult/kv_query_result.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal_response.pb.h"

namespace medledger::chaincode::testing {

using protos::ChaincodeMessage;

class FakePeer final : public MessageSink {
 public:
  std::map<std::string, std::string> state;
  std::map<std::string, std::string> validation;  // key-level endorsement policies (PUT_STATE_METADATA)
  std::map<std::string, std::vector<queryresult::KeyModification>> history;
  int range_batch = 2;              // results per QueryResponse, to exercise QUERY_STATE_NEXT
  std::string fail_type;            // a request type name answered with ERROR
  std::atomic<bool> silent{false};  // never answer requests (timeouts)
  std::atomic<Handler*> handler{nullptr};

  Status Send(const ChaincodeMessage& m) override {
    std::unique_lock lock(mu_);
    sent_.push_back(m);
    cv_.notify_all();
    if (silent || handler == nullptr) return OkStatus();
    if (m.type() == ChaincodeMessage::REGISTER || m.type() == ChaincodeMessage::COMPLETED ||
        m.type() == ChaincodeMessage::ERROR || m.type() == ChaincodeMessage::KEEPALIVE) {
      return OkStatus();
    }
    ChaincodeMessage reply = Answer(m);
    lock.unlock();
    if (Handler* h = handler.load()) (void)h->Handle(reply);
    return OkStatus();
  }

  // Waits until a message of `type` was sent (or the timeout passes) and returns all messages so far.
  std::vector<ChaincodeMessage> WaitFor(ChaincodeMessage::Type type, int count = 1) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      int n = 0;
      for (const auto& m : sent_) n += m.type() == type;
      return n >= count;
    });
    return sent_;
  }

  std::vector<ChaincodeMessage> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  ChaincodeMessage Answer(const ChaincodeMessage& m) {
    ChaincodeMessage r;
    r.set_txid(m.txid());
    r.set_channel_id(m.channel_id());
    r.set_type(ChaincodeMessage::RESPONSE);
    if (ChaincodeMessage::Type_Name(m.type()) == fail_type) {
      r.set_type(ChaincodeMessage::ERROR);
      r.set_payload("injected failure");
      return r;
    }
    switch (m.type()) {
      case ChaincodeMessage::GET_STATE: {
        protos::GetState req;
        req.ParseFromString(m.payload());
        auto it = state.find(req.key());
        if (it != state.end()) r.set_payload(it->second);
        break;
      }
      case ChaincodeMessage::PUT_STATE: {
        protos::PutState req;
        req.ParseFromString(m.payload());
        state[req.key()] = req.value();
        break;
      }
      case ChaincodeMessage::PUT_STATE_METADATA: {
        protos::PutStateMetadata req;
        req.ParseFromString(m.payload());
        validation[req.key()] = req.metadata().value();
        break;
      }
      case ChaincodeMessage::DEL_STATE: {
        protos::DelState req;
        req.ParseFromString(m.payload());
        state.erase(req.key());
        break;
      }
      case ChaincodeMessage::GET_STATE_BY_RANGE: {
        protos::GetStateByRange req;
        req.ParseFromString(m.payload());
        pending_range_.clear();
        int page = 0;
        std::string bookmark;
        if (!req.metadata().empty()) {
          protos::QueryMetadata meta;
          meta.ParseFromString(req.metadata());
          page = meta.pagesize();
          bookmark = meta.bookmark();
        }
        std::string start = bookmark.empty() ? req.startkey() : bookmark;
        next_bookmark_.clear();
        for (auto it = state.lower_bound(start); it != state.end(); ++it) {
          if (!req.endkey().empty() && it->first >= req.endkey()) break;
          if (page > 0 && int(pending_range_.size()) == page) {
            next_bookmark_ = it->first;
            break;
          }
          queryresult::KV kv;
          kv.set_key(it->first);
          kv.set_value(it->second);
          pending_range_.push_back(kv.SerializeAsString());
        }
        paginated_ = page > 0;
        r.set_payload(NextBatch());
        break;
      }
      case ChaincodeMessage::GET_HISTORY_FOR_KEY: {
        protos::GetHistoryForKey req;
        req.ParseFromString(m.payload());
        pending_range_.clear();
        for (const auto& km : history[req.key()]) pending_range_.push_back(km.SerializeAsString());
        paginated_ = false;
        r.set_payload(NextBatch());
        break;
      }
      case ChaincodeMessage::QUERY_STATE_NEXT: r.set_payload(NextBatch()); break;
      case ChaincodeMessage::QUERY_STATE_CLOSE: closes_++; break;
      default: r.set_type(ChaincodeMessage::ERROR); r.set_payload("unsupported request");
    }
    return r;
  }

  std::string NextBatch() {
    protos::QueryResponse resp;
    resp.set_id("iter-1");
    int n = 0;
    while (!pending_range_.empty() && n < range_batch) {
      resp.add_results()->set_resultbytes(pending_range_.front());
      pending_range_.erase(pending_range_.begin());
      ++n;
    }
    resp.set_has_more(!pending_range_.empty());
    if (!resp.has_more() && paginated_) {
      protos::QueryResponseMetadata meta;
      meta.set_bookmark(next_bookmark_);
      resp.set_metadata(meta.SerializeAsString());
    }
    return resp.SerializeAsString();
  }

 public:
  int closes_ = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ChaincodeMessage> sent_;
  std::vector<std::string> pending_range_;
  std::string next_bookmark_;
  bool paginated_ = false;
};

}  // namespace medledger::chaincode::testing
