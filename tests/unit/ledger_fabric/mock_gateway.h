// An in-process stand-in for a Fabric peer's Gateway service. It checks every signature the client makes
// (proposal, envelope, commit-status request) against the creator's certificate, as a peer would, and
// answers like Fabric does, including contract failures carried in gRPC error text.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>
#include <set>

#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "pb/common/common.pb.h"
#include "pb/common/ledger.pb.h"
#include "pb/gateway/gateway.grpc.pb.h"
#include "pb/google/rpc/status.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::ledger::fabric::testing {

class MockGateway final : public gateway::Gateway::Service {
 public:
  std::mutex mu;
  int unavailable_before_success = 0;  // answer UNAVAILABLE this many times first
  int32_t commit_code = 0;             // TxValidationCode CommitStatus reports
  std::vector<std::string> calls;
  std::set<std::string> submitted;
  std::map<std::string, std::string> payloads;                    // txid -> envelope payload handed out by Endorse
  std::vector<std::vector<std::string>> endorsing_organizations;  // per Endorse call, as received

  grpc::Status Evaluate(grpc::ServerContext*, const gateway::EvaluateRequest* req,
                        gateway::EvaluateResponse* resp) override {
    std::lock_guard lock(mu);
    calls.push_back("Evaluate");
    if (auto st = Flaky(); !st.ok()) return st;
    std::vector<std::string> args;
    std::string chaincode;
    if (auto st = CheckProposal(req->proposed_transaction(), req->transaction_id(), &chaincode, &args); !st.ok()) {
      return st;
    }
    if (chaincode == "qscc" && args.at(0) == "GetChainInfo") {
      common::BlockchainInfo info;
      info.set_height(8);
      info.set_currentblockhash(std::string(32, '\x07'));
      info.set_previousblockhash(std::string(32, '\x06'));
      resp->mutable_result()->set_status(200);
      resp->mutable_result()->set_payload(info.SerializeAsString());
      return grpc::Status::OK;
    }
    if (chaincode == "qscc" && args.at(0) == "GetBlockByTxID") {
      common::Block block;
      block.mutable_header()->set_number(7);
      block.mutable_header()->set_previous_hash(std::string(32, '\x06'));
      block.mutable_header()->set_data_hash(std::string(32, '\x05'));
      common::ChannelHeader ch;
      ch.set_tx_id(args.at(2));
      common::Payload payload;
      payload.mutable_header()->set_channel_header(ch.SerializeAsString());
      common::Envelope env;
      env.set_payload(payload.SerializeAsString());
      block.mutable_data()->add_data("not-an-envelope-of-interest");
      block.mutable_data()->add_data(env.SerializeAsString());
      for (int i = 0; i < 5; ++i) block.mutable_metadata()->add_metadata("");
      block.mutable_metadata()->set_metadata(2, std::string("\x00\x0b", 2));  // tx 1 MVCC_READ_CONFLICT
      resp->mutable_result()->set_status(200);
      resp->mutable_result()->set_payload(block.SerializeAsString());
      return grpc::Status::OK;
    }
    if (args.at(0) == "Deny") {
      return grpc::Status(grpc::StatusCode::UNKNOWN,
                          "evaluate call to endorser returned error: chaincode response 403, permission_denied: "
                          "auditors may not read content");
    }
    resp->mutable_result()->set_status(200);
    std::string echo;
    for (auto& a : args) echo += a + ";";
    resp->mutable_result()->set_payload(echo);
    return grpc::Status::OK;
  }

  grpc::Status Endorse(grpc::ServerContext*, const gateway::EndorseRequest* req,
                       gateway::EndorseResponse* resp) override {
    std::lock_guard lock(mu);
    calls.push_back("Endorse");
    endorsing_organizations.emplace_back(req->endorsing_organizations().begin(), req->endorsing_organizations().end());
    if (auto st = Flaky(); !st.ok()) return st;
    std::vector<std::string> args;
    std::string chaincode;
    if (auto st = CheckProposal(req->proposed_transaction(), req->transaction_id(), &chaincode, &args); !st.ok()) {
      return st;
    }
    if (args.at(0) == "CreateDuplicate") {
      return grpc::Status(grpc::StatusCode::ABORTED, "failed to endorse transaction, see attached details",
                          EndpointDetails("chaincode response 409, report_exists: report R1 already exists"));
    }
    // A prepared transaction shaped as Fabric's: the result is inside it (ChaincodeAction.response).
    protos::ChaincodeAction action;
    action.mutable_response()->set_status(200);
    action.mutable_response()->set_payload("created:" + args.at(1));
    protos::ProposalResponsePayload prp;
    prp.set_extension(action.SerializeAsString());
    protos::ChaincodeActionPayload cap;
    cap.mutable_action()->set_proposal_response_payload(prp.SerializeAsString());
    protos::Transaction tx;
    tx.add_actions()->set_payload(cap.SerializeAsString());
    common::Payload prepared;
    prepared.mutable_header()->set_channel_header("prepared-for-" + req->transaction_id());
    prepared.set_data(tx.SerializeAsString());
    std::string payload = prepared.SerializeAsString();
    payloads[req->transaction_id()] = payload;
    resp->mutable_prepared_transaction()->set_payload(payload);
    return grpc::Status::OK;
  }

  grpc::Status Submit(grpc::ServerContext*, const gateway::SubmitRequest* req, gateway::SubmitResponse*) override {
    std::lock_guard lock(mu);
    calls.push_back("Submit");
    const auto& env = req->prepared_transaction();
    auto it = payloads.find(req->transaction_id());
    if (it == payloads.end() || env.payload() != it->second) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown or altered prepared transaction");
    }
    if (!last_creator_key_ || !last_creator_key_->Verify(env.payload(), env.signature()) ||
        !crypto::IsLowS(env.signature())) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "envelope signature invalid");
    }
    submitted.insert(req->transaction_id());
    return grpc::Status::OK;
  }

  grpc::Status CommitStatus(grpc::ServerContext*, const gateway::SignedCommitStatusRequest* req,
                            gateway::CommitStatusResponse* resp) override {
    std::lock_guard lock(mu);
    calls.push_back("CommitStatus");
    gateway::CommitStatusRequest inner;
    if (!inner.ParseFromString(req->request())) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad request");
    auto creator = identity::ParseSerializedIdentity(inner.identity());
    if (!creator.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad identity");
    auto cert = crypto::Certificate::FromPem(creator->second);
    if (!cert.ok() || !cert->PublicKey().Verify(req->request(), req->signature())) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "commit status request signature invalid");
    }
    if (!submitted.count(inner.transaction_id())) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown tx");
    resp->set_result(static_cast<protos::TxValidationCode>(commit_code));
    resp->set_block_number(7);
    return grpc::Status::OK;
  }

 private:
  grpc::Status Flaky() {
    if (unavailable_before_success > 0) {
      --unavailable_before_success;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "peer restarting");
    }
    return grpc::Status::OK;
  }

  static std::string EndpointDetails(const std::string& message) {
    gateway::ErrorDetail ep;
    ep.set_address("peer0.hospital:7051");
    ep.set_msp_id("HospitalMSP");
    ep.set_message(message);
    google::rpc::Status details;
    details.set_code(static_cast<int>(grpc::StatusCode::ABORTED));
    details.add_details()->PackFrom(ep);
    return details.SerializeAsString();
  }

  // As a peer's endorser: the proposal parses, its signature verifies against the creator's certificate
  // and is low-S, and the transaction ID is SHA-256(nonce || creator).
  grpc::Status CheckProposal(const protos::SignedProposal& sp, const std::string& txid, std::string* chaincode,
                             std::vector<std::string>* args) {
    protos::Proposal proposal;
    common::Header header;
    common::SignatureHeader sh;
    common::ChannelHeader ch;
    protos::ChaincodeProposalPayload cpp;
    protos::ChaincodeInvocationSpec spec;
    if (!proposal.ParseFromString(sp.proposal_bytes()) || !header.ParseFromString(proposal.header()) ||
        !sh.ParseFromString(header.signature_header()) || !ch.ParseFromString(header.channel_header()) ||
        !cpp.ParseFromString(proposal.payload()) || !spec.ParseFromString(cpp.input())) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed proposal");
    }
    auto creator = identity::ParseSerializedIdentity(sh.creator());
    if (!creator.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad creator");
    auto cert = crypto::Certificate::FromPem(creator->second);
    if (!cert.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad creator certificate");
    auto key = cert->PublicKey();
    if (!key.Verify(sp.proposal_bytes(), sp.signature()) || !crypto::IsLowS(sp.signature())) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "proposal signature invalid");
    }
    if (ch.tx_id() != txid || ch.channel_id() != "medchannel") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "tx id or channel mismatch");
    }
    last_creator_key_ = key;
    *chaincode = spec.chaincode_spec().chaincode_id().name();
    for (const auto& a : spec.chaincode_spec().input().args()) args->push_back(a);
    return grpc::Status::OK;
  }

  std::optional<crypto::EcPublicKey> last_creator_key_;
};

}  // namespace medledger::ledger::fabric::testing
