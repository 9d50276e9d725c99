#include "ledger/fabric/gateway_ledger.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/encoding.h"
#include "crypto/random.h"
#include "ledger/wire/protoutil.h"
#include "ledger/wire/transaction.h"
#include "pb/common/common.pb.h"
#include "pb/common/ledger.pb.h"
#include "pb/gateway/gateway.grpc.pb.h"
#include "pb/google/rpc/status.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::ledger::fabric {

Error GatewayError(int grpc_code, const std::string& grpc_message, const std::string& operation) {
  // The contract's own answer travels as "chaincode response <status>, <message>" somewhere in the text.
  // (Parsed by hand: std::regex trips GCC 12's -Wmaybe-uninitialized under sanitizers.)
  constexpr std::string_view kMarker = "chaincode response ";
  if (size_t at = grpc_message.find(kMarker); at != std::string::npos) {
    size_t p = at + kMarker.size();
    if (p + 5 <= grpc_message.size() && std::isdigit(static_cast<unsigned char>(grpc_message[p])) &&
        std::isdigit(static_cast<unsigned char>(grpc_message[p + 1])) &&
        std::isdigit(static_cast<unsigned char>(grpc_message[p + 2])) && grpc_message[p + 3] == ',' &&
        grpc_message[p + 4] == ' ') {
      return wire::ContractError(std::stoi(grpc_message.substr(p, 3)), grpc_message.substr(p + 5));
    }
  }
  switch (static_cast<grpc::StatusCode>(grpc_code)) {
    case grpc::StatusCode::UNAVAILABLE:
      return MakeError(ErrorKind::kUnavailable, "fabric_unavailable",
                       operation + ": peer unavailable: " + grpc_message);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return MakeError(ErrorKind::kTimeout, "fabric_timeout", operation + ": no answer in time");
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return MakeError(ErrorKind::kPermissionDenied, "fabric_access_denied", operation + ": " + grpc_message);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return MakeError(ErrorKind::kInvalidArgument, "fabric_invalid_request", operation + ": " + grpc_message);
    default: return MakeError(ErrorKind::kUnavailable, "fabric_error", operation + ": " + grpc_message);
  }
}

namespace {

// The contract's response as the peer endorsed it: Payload.data = Transaction -> actions[0].payload =
// ChaincodeActionPayload -> action.proposal_response_payload -> extension = ChaincodeAction -> response.
// Fabric's EndorseResponse carries nothing else, so this is the only place the result can come from.
Result<protos::Response> EndorsedResponse(const common::Envelope& prepared) {
  const auto bad = [](const char* what) {
    return MakeError(ErrorKind::kInternal, "bad_prepared_transaction",
                     std::string("the gateway's prepared transaction has no ") + what);
  };
  common::Payload payload;
  if (!payload.ParseFromString(prepared.payload())) return bad("payload");
  protos::Transaction tx;
  if (!tx.ParseFromString(payload.data()) || tx.actions_size() < 1) return bad("transaction action");
  protos::ChaincodeActionPayload cap;
  if (!cap.ParseFromString(tx.actions(0).payload())) return bad("chaincode action payload");
  protos::ProposalResponsePayload prp;
  if (!prp.ParseFromString(cap.action().proposal_response_payload())) return bad("proposal response payload");
  protos::ChaincodeAction action;
  if (!action.ParseFromString(prp.extension())) return bad("chaincode action");
  return action.response();
}

// Folds the ErrorDetail details into the message so GatewayError finds the contract's answer.
std::string DescribeStatus(const grpc::Status& status) {
  std::string text = status.error_message();
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      gateway::ErrorDetail ep;
      if (any.UnpackTo(&ep)) text += "; " + ep.address() + " (" + ep.msp_id() + "): " + ep.message();
    }
  }
  return text;
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE;
}

}  // namespace

struct GatewayLedger::Impl {
  FabricConfig config;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<gateway::Gateway::Stub> stub;

  std::mutex mu;
  std::shared_ptr<const identity::SigningIdentity> query_identity;

  // Submissions block for the whole endorse/submit/commit round trip, so they run on a bounded pool.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<std::function<void()>> queue;
  bool stopping = false;
  std::vector<std::thread> workers;

  ~Impl() {
    {
      std::lock_guard lock(queue_mu);
      stopping = true;
    }
    queue_cv.notify_all();
    for (auto& t : workers) t.join();
  }

  void Worker() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(queue_mu);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      job();
    }
  }

  template <class Request, class Response, class Call>
  grpc::Status Unary(Call call, const Request& request, Response* response, std::chrono::milliseconds timeout) {
    grpc::Status status;
    auto backoff = std::chrono::milliseconds(100);
    for (int attempt = 1; attempt <= config.max_attempts; ++attempt) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + timeout);
      status = (stub.get()->*call)(&ctx, request, response);
      if (status.ok() || !Retryable(status) || attempt == config.max_attempts) break;
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    return status;
  }

  struct Proposal {
    wire::ProposalParts parts;
    protos::SignedProposal signed_proposal;
  };

  Result<Proposal> Propose(const identity::SigningIdentity& caller, const std::string& chaincode,
                           const std::vector<std::string>& args) {
    Proposal p;
    std::string nonce = crypto::RandomBytes(24);
    p.parts = wire::BuildProposal(caller.serialized(), nonce, Timestamp::Now(), config.channel, chaincode, args);
    ML_ASSIGN_OR_RETURN(std::string sig, caller.Sign(p.parts.proposal));
    p.signed_proposal.set_proposal_bytes(p.parts.proposal);
    p.signed_proposal.set_signature(sig);
    return p;
  }

  Result<std::string> EvaluateRaw(const identity::SigningIdentity& caller, const std::string& chaincode,
                                  const std::vector<std::string>& args) {
    ML_ASSIGN_OR_RETURN(Proposal p, Propose(caller, chaincode, args));
    gateway::EvaluateRequest req;
    req.set_transaction_id(p.parts.tx_id);
    req.set_channel_id(config.channel);
    *req.mutable_proposed_transaction() = p.signed_proposal;
    gateway::EvaluateResponse resp;
    grpc::Status st = Unary(&gateway::Gateway::Stub::Evaluate, req, &resp, config.evaluate_timeout);
    if (!st.ok()) return GatewayError(st.error_code(), DescribeStatus(st), "evaluate");
    if (resp.result().status() >= 400) return wire::ContractError(resp.result().status(), resp.result().message());
    return resp.result().payload();
  }

  Result<common::Block> BlockByTxId(const identity::SigningIdentity& who, const std::string& tx_id) {
    auto bytes = EvaluateRaw(who, "qscc", {"GetBlockByTxID", config.channel, tx_id});
    if (!bytes.ok()) {
      // qscc answers an unknown ID with an error ("no such transaction ID [...] in index"); callers need to tell that
      // apart from a peer that failed.
      std::string text = bytes.error().message;
      std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
      if (text.find("no such transaction id") != std::string::npos || text.find("not found") != std::string::npos) {
        return MakeError(ErrorKind::kNotFound, "tx_not_found", "no transaction has this ID on the channel");
      }
      return bytes.error();
    }
    common::Block block;
    if (!block.ParseFromString(*bytes)) {
      return MakeError(ErrorKind::kCorruption, "bad_block", "qscc returned a block that does not parse");
    }
    return block;
  }

  Result<TxReceipt> SubmitBlocking(const identity::SigningIdentity& caller, const Invocation& call) {
    ML_RETURN_IF_ERROR(CheckEndorsingOrganizations(call, /*submission=*/true));
    std::vector<std::string> args;
    args.reserve(call.args.size() + 1);
    args.push_back(call.function);
    args.insert(args.end(), call.args.begin(), call.args.end());
    ML_ASSIGN_OR_RETURN(Proposal p, Propose(caller, config.chaincode, args));

    gateway::EndorseRequest ereq;
    ereq.set_transaction_id(p.parts.tx_id);
    ereq.set_channel_id(config.channel);
    *ereq.mutable_proposed_transaction() = p.signed_proposal;
    // The Gateway then asks one peer of each listed organisation and no other, and does not check the policy:
    // the peers' validation does.
    for (const auto& msp : call.endorsing_organizations) ereq.add_endorsing_organizations(msp);
    gateway::EndorseResponse eresp;
    grpc::Status st = Unary(&gateway::Gateway::Stub::Endorse, ereq, &eresp, config.endorse_timeout);
    if (!st.ok()) return GatewayError(st.error_code(), DescribeStatus(st), "endorse");
    ML_ASSIGN_OR_RETURN(protos::Response result, EndorsedResponse(eresp.prepared_transaction()));
    if (result.status() >= 400) return wire::ContractError(result.status(), result.message());
    common::Envelope envelope = eresp.prepared_transaction();
    ML_ASSIGN_OR_RETURN(std::string env_sig, caller.Sign(envelope.payload()));
    envelope.set_signature(env_sig);

    gateway::SubmitRequest sreq;
    sreq.set_transaction_id(p.parts.tx_id);
    sreq.set_channel_id(config.channel);
    *sreq.mutable_prepared_transaction() = envelope;
    gateway::SubmitResponse sresp;
    st = Unary(&gateway::Gateway::Stub::Submit, sreq, &sresp, config.submit_timeout);
    if (!st.ok()) return GatewayError(st.error_code(), DescribeStatus(st), "submit");

    gateway::CommitStatusRequest creq;
    creq.set_transaction_id(p.parts.tx_id);
    creq.set_channel_id(config.channel);
    creq.set_identity(caller.serialized());
    gateway::SignedCommitStatusRequest signed_creq;
    signed_creq.set_request(creq.SerializeAsString());
    ML_ASSIGN_OR_RETURN(std::string creq_sig, caller.Sign(signed_creq.request()));
    signed_creq.set_signature(creq_sig);
    gateway::CommitStatusResponse cresp;
    st = Unary(&gateway::Gateway::Stub::CommitStatus, signed_creq, &cresp, config.commit_timeout);
    if (!st.ok()) return GatewayError(st.error_code(), DescribeStatus(st), "commit status");
    if (cresp.result() != 0) return wire::TxCodeError(cresp.result(), p.parts.tx_id);

    TxReceipt receipt;
    receipt.tx_id = p.parts.tx_id;
    receipt.block_number = cresp.block_number();
    receipt.timestamp = p.parts.timestamp;
    receipt.payload = result.payload();
    receipt.block_hash = BlockHashFor(caller, receipt.block_number, p.parts.tx_id);
    return receipt;
  }

  // The block hash is not part of CommitStatus; the committed block itself says it. Many transactions share a
  // block, so one qscc fetch per block serves them all (concurrent callers wait for the first one's answer):
  // fetching the whole block once per transaction made the peer, not the client, the bottleneck.
  std::string BlockHashFor(const identity::SigningIdentity& caller, uint64_t block_number, const std::string& tx_id) {
    std::promise<std::string> mine;
    std::shared_future<std::string> answer;
    bool fetch = false;
    {
      std::lock_guard lock(block_hash_mu);
      auto it = block_hashes.find(block_number);
      if (it == block_hashes.end()) {
        answer = mine.get_future().share();
        block_hashes.emplace(block_number, answer);
        fetch = true;
        if (block_hashes.size() > 1024) block_hashes.erase(block_hashes.begin());
      } else {
        answer = it->second;
      }
    }
    if (!fetch) return answer.get();
    std::string hash;
    auto block = BlockByTxId(caller, tx_id);
    if (block.ok()) {
      hash = HexEncode(wire::BlockHeaderHash(block->header().number(), block->header().previous_hash(),
                                             block->header().data_hash()));
    }
    mine.set_value(hash);
    if (hash.empty()) {  // not cached: the next caller tries again
      std::lock_guard lock(block_hash_mu);
      block_hashes.erase(block_number);
    }
    return hash;
  }

  std::mutex block_hash_mu;
  std::map<uint64_t, std::shared_future<std::string>> block_hashes;  // block number -> hex header hash
};

GatewayLedger::GatewayLedger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GatewayLedger::~GatewayLedger() = default;

Result<std::unique_ptr<GatewayLedger>> GatewayLedger::Connect(const FabricConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (config.tls_root_cert.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = config.tls_root_cert;
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  if (!config.server_name_override.empty()) args.SetSslTargetNameOverride(config.server_name_override);
  args.SetMaxReceiveMessageSize(100 * 1024 * 1024);
  impl->channel = grpc::CreateCustomChannel(config.peer_endpoint, creds, args);
  impl->stub = gateway::Gateway::NewStub(impl->channel);
  for (int i = 0; i < config.max_in_flight; ++i) impl->workers.emplace_back([p = impl.get()] { p->Worker(); });
  return std::make_unique<GatewayLedger>(std::move(impl));
}

void GatewayLedger::SetQueryIdentity(std::shared_ptr<const identity::SigningIdentity> identity) {
  std::lock_guard lock(impl_->mu);
  impl_->query_identity = std::move(identity);
}

Result<std::string> GatewayLedger::Evaluate(const identity::SigningIdentity& caller, const Invocation& call) {
  ML_RETURN_IF_ERROR(CheckEndorsingOrganizations(call, /*submission=*/false));
  std::vector<std::string> args;
  args.push_back(call.function);
  args.insert(args.end(), call.args.begin(), call.args.end());
  return impl_->EvaluateRaw(caller, impl_->config.chaincode, args);
}

void GatewayLedger::SubmitAsync(const identity::SigningIdentity& caller, Invocation call, SubmitCallback done) {
  // The identity is copied: the caller's object need not outlive the asynchronous submission.
  auto job = [impl = impl_.get(), caller_copy = caller, call = std::move(call), done = std::move(done)]() mutable {
    done(impl->SubmitBlocking(caller_copy, call));
  };
  {
    std::lock_guard lock(impl_->queue_mu);
    impl_->queue.push_back(std::move(job));
  }
  impl_->queue_cv.notify_one();
}

Result<ChainInfo> GatewayLedger::GetChainInfo() {
  std::shared_ptr<const identity::SigningIdentity> who;
  {
    std::lock_guard lock(impl_->mu);
    who = impl_->query_identity;
  }
  if (!who) return MakeError(ErrorKind::kInternal, "no_query_identity", "no identity configured for qscc queries");
  ML_ASSIGN_OR_RETURN(std::string bytes, impl_->EvaluateRaw(*who, "qscc", {"GetChainInfo", impl_->config.channel}));
  common::BlockchainInfo info;
  if (!info.ParseFromString(bytes)) {
    return MakeError(ErrorKind::kCorruption, "bad_chain_info", "qscc returned chain info that does not parse");
  }
  return ChainInfo{info.height(), HexEncode(info.currentblockhash()), HexEncode(info.previousblockhash())};
}

Result<std::string> GatewayLedger::GetBlock(uint64_t number) {
  std::shared_ptr<const identity::SigningIdentity> who;
  {
    std::lock_guard lock(impl_->mu);
    who = impl_->query_identity;
  }
  if (!who) return MakeError(ErrorKind::kInternal, "no_query_identity", "no identity configured for qscc queries");
  auto bytes = impl_->EvaluateRaw(*who, "qscc", {"GetBlockByNumber", impl_->config.channel, std::to_string(number)});
  if (!bytes.ok()) {
    // qscc answers a block past the height with an error; the follower needs to tell "not yet" from a failure.
    auto info = GetChainInfo();
    if (info.ok() && number >= info->height) {
      return MakeError(ErrorKind::kNotFound, "block_not_found", "no committed block " + std::to_string(number));
    }
    return bytes.error();
  }
  return std::move(*bytes);
}

Result<TransactionProof> GatewayLedger::GetTransactionProof(const std::string& tx_id) {
  std::shared_ptr<const identity::SigningIdentity> who;
  {
    std::lock_guard lock(impl_->mu);
    who = impl_->query_identity;
  }
  if (!who) return MakeError(ErrorKind::kInternal, "no_query_identity", "no identity configured for qscc queries");
  ML_ASSIGN_OR_RETURN(common::Block block, impl_->BlockByTxId(*who, tx_id));
  TransactionProof proof;
  proof.tx_id = tx_id;
  proof.block_number = block.header().number();
  proof.block_header = block.header().SerializeAsString();
  proof.block_hash = HexEncode(
      wire::BlockHeaderHash(block.header().number(), block.header().previous_hash(), block.header().data_hash()));
  proof.previous_hash = HexEncode(block.header().previous_hash());
  proof.data_hash = HexEncode(block.header().data_hash());
  // The whole SIGNATURES metadata, as the embedded ledger returns it: its value is part of what the orderer
  // signed, so a verifier needs it along with the signature.
  if (block.metadata().metadata_size() > common::SIGNATURES) {
    proof.orderer_signature = block.metadata().metadata(common::SIGNATURES);
  }
  for (int i = 0; i < block.data().data_size(); ++i) {
    common::Envelope env;
    common::Payload payload;
    common::ChannelHeader ch;
    if (!env.ParseFromString(block.data().data(i)) || !payload.ParseFromString(env.payload()) ||
        !ch.ParseFromString(payload.header().channel_header()) || ch.tx_id() != tx_id) {
      continue;
    }
    proof.tx_index = static_cast<uint32_t>(i);
    proof.envelope = block.data().data(i);
    int32_t code = wire::kTxNotValidated;
    if (block.metadata().metadata_size() > common::TRANSACTIONS_FILTER &&
        block.metadata().metadata(common::TRANSACTIONS_FILTER).size() > size_t(i)) {
      code = static_cast<uint8_t>(block.metadata().metadata(common::TRANSACTIONS_FILTER)[size_t(i)]);
    }
    proof.validation_code = wire::TxCodeName(code);
    return proof;
  }
  return MakeError(ErrorKind::kNotFound, "tx_not_found", "transaction " + tx_id + " is not in the block qscc returned");
}

}  // namespace medledger::ledger::fabric
