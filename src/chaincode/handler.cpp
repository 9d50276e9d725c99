#include "chaincode/handler.h"

#include "chaincode/peer_stub.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal_response.pb.h"

namespace medledger::chaincode {

using protos::ChaincodeMessage;

struct Handler::Pending {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ChaincodeMessage> reply;
  std::optional<Error> failure;
};

namespace {

std::string ContextKey(const std::string& channel, const std::string& txid) {
  return channel + '\x00' + txid;
}

ChaincodeMessage ErrorMessage(const ChaincodeMessage& for_message, std::string text) {
  ChaincodeMessage out;
  out.set_type(ChaincodeMessage::ERROR);
  out.set_payload(std::move(text));
  out.set_txid(for_message.txid());
  out.set_channel_id(for_message.channel_id());
  return out;
}

}  // namespace

Handler::Handler(contract::Contract& contract, MessageSink& sink, HandlerOptions options)
    : contract_(contract), sink_(sink), options_(std::move(options)) {
  size_t n = options_.workers == 0 ? 1 : options_.workers;
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) workers_.emplace_back([this] { Worker(); });
}

Handler::~Handler() {
  Disconnect();
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

Handler::State Handler::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

Status Handler::Start() {
  protos::ChaincodeID id;
  id.set_name(options_.chaincode_name);
  ChaincodeMessage reg;
  reg.set_type(ChaincodeMessage::REGISTER);
  reg.set_payload(id.SerializeAsString());
  return sink_.Send(reg);
}

void Handler::Disconnect() {
  std::map<std::string, std::shared_ptr<Pending>> pending;
  {
    std::lock_guard lock(mu_);
    disconnected_ = true;
    pending.swap(pending_);
  }
  for (auto& [key, p] : pending) {
    std::lock_guard lock(p->mu);
    p->failure = MakeError(ErrorKind::kUnavailable, "peer_disconnected", "the peer closed the chaincode stream");
    p->cv.notify_all();
  }
}

Status Handler::Handle(const ChaincodeMessage& message) {
  if (message.type() == ChaincodeMessage::KEEPALIVE) return sink_.Send(message);

  std::unique_lock lock(mu_);
  switch (state_) {
    case State::kCreated:
      if (message.type() != ChaincodeMessage::REGISTERED) break;
      state_ = State::kEstablished;
      return OkStatus();
    case State::kEstablished:
      // READY may carry ChaincodeAdditionalParams (write batching); this shim does not use them.
      if (message.type() != ChaincodeMessage::READY) break;
      state_ = State::kReady;
      return OkStatus();
    case State::kReady:
      switch (message.type()) {
        case ChaincodeMessage::RESPONSE:
        case ChaincodeMessage::ERROR: {
          auto it = pending_.find(ContextKey(message.channel_id(), message.txid()));
          if (it == pending_.end()) {
            // A late answer for a call that already timed out: harmless, but worth a precise error.
            return MakeError(ErrorKind::kInvalidArgument, "unexpected_response",
                             "no transaction is waiting for a reply to tx " + message.txid());
          }
          auto pending = it->second;
          pending_.erase(it);
          lock.unlock();
          std::lock_guard plock(pending->mu);
          pending->reply = message;
          pending->cv.notify_all();
          return OkStatus();
        }
        case ChaincodeMessage::TRANSACTION:
        case ChaincodeMessage::INIT: {
          lock.unlock();
          {
            std::lock_guard qlock(queue_mu_);
            queue_.push_back(std::make_unique<ChaincodeMessage>(message));
          }
          queue_cv_.notify_one();
          return OkStatus();
        }
        default: break;
      }
      break;
  }
  const char* state_name = state_ == State::kCreated       ? "created"
                           : state_ == State::kEstablished ? "established"
                                                           : "ready";
  lock.unlock();
  std::string text =
      std::string("cannot handle ") + ChaincodeMessage::Type_Name(message.type()) + " in state " + state_name;
  (void)sink_.Send(ErrorMessage(message, text));
  return MakeError(ErrorKind::kInvalidArgument, "protocol_violation", text);
}

Result<std::string> Handler::Call(const ChaincodeMessage& request) {
  auto pending = std::make_shared<Pending>();
  const std::string key = ContextKey(request.channel_id(), request.txid());
  {
    std::lock_guard lock(mu_);
    if (disconnected_) {
      return MakeError(ErrorKind::kUnavailable, "peer_disconnected", "the peer closed the chaincode stream");
    }
    if (!pending_.emplace(key, pending).second) {
      return MakeError(ErrorKind::kInternal, "concurrent_call", "a call for this transaction is already in flight");
    }
  }
  if (Status st = sink_.Send(request); !st.ok()) {
    std::lock_guard lock(mu_);
    pending_.erase(key);
    return st.error();
  }
  std::unique_lock plock(pending->mu);
  if (!pending->cv.wait_for(plock, options_.peer_timeout,
                            [&] { return pending->reply.has_value() || pending->failure.has_value(); })) {
    plock.unlock();
    std::lock_guard lock(mu_);
    pending_.erase(key);
    return MakeError(ErrorKind::kTimeout, "peer_timeout", "the peer did not answer in time");
  }
  if (pending->failure) return *pending->failure;
  if (pending->reply->type() == ChaincodeMessage::ERROR) {
    return MakeError(ErrorKind::kUnavailable, "peer_error", pending->reply->payload());
  }
  return std::move(*pending->reply->mutable_payload());
}

void Handler::Worker() {
  for (;;) {
    std::unique_ptr<ChaincodeMessage> message;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      message = std::move(queue_.front());
      queue_.pop_front();
    }
    RunTransaction(std::move(message));
  }
}

void Handler::RunTransaction(std::unique_ptr<ChaincodeMessage> message) {
  protos::ChaincodeInput input;
  if (!input.ParseFromString(message->payload())) {
    (void)sink_.Send(ErrorMessage(*message, "failed to unmarshal ChaincodeInput"));
    return;
  }
  auto stub = PeerStub::FromTransaction(*this, *message);
  if (!stub.ok()) {
    (void)sink_.Send(ErrorMessage(*message, stub.error().ToString()));
    return;
  }
  contract::Response response;
  if (input.args_size() == 0) {
    response = {400, "missing_function: no function name in the chaincode input", ""};
  } else {
    std::vector<std::string> args(input.args().begin() + 1, input.args().end());
    response = contract_.Invoke(**stub, input.args(0), args);
  }
  protos::Response pb;
  pb.set_status(response.status);
  pb.set_message(response.message);
  pb.set_payload(response.payload);

  ChaincodeMessage done;
  done.set_type(ChaincodeMessage::COMPLETED);
  done.set_payload(pb.SerializeAsString());
  done.set_txid(message->txid());
  done.set_channel_id(message->channel_id());
  if (const auto& event = (*stub)->event()) {
    auto* ev = done.mutable_chaincode_event();
    ev->set_chaincode_id(options_.chaincode_name);
    ev->set_tx_id(message->txid());
    ev->set_event_name(event->first);
    ev->set_payload(event->second);
  }
  (void)sink_.Send(done);
}

}  // namespace medledger::chaincode
