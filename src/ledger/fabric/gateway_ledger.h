// The Ledger interface over Fabric's Gateway service (fabric-gateway's flow): a proposal signed by the
// caller's own identity -> Endorse -> the caller signs the prepared envelope -> Submit -> CommitStatus
// (signed). Evaluate runs read-only queries; chain information and proofs come from the qscc system
// chaincode through Evaluate.
#pragma once

#include <memory>

#include "ledger/fabric/fabric_config.h"
#include "ledger/ledger.h"

namespace medledger::ledger::fabric {

class GatewayLedger final : public Ledger {
 public:
  // Opens a channel to the peer; nothing is sent until the first call.
  static Result<std::unique_ptr<GatewayLedger>> Connect(const FabricConfig& config);
  ~GatewayLedger() override;

  Result<std::string> Evaluate(const identity::SigningIdentity& caller, const Invocation& call) override;
  void SubmitAsync(const identity::SigningIdentity& caller, Invocation call, SubmitCallback done) override;
  Result<ChainInfo> GetChainInfo() override;
  // qscc GetBlockByNumber.
  Result<std::string> GetBlock(uint64_t number) override;
  Result<TransactionProof> GetTransactionProof(const std::string& tx_id) override;

  // The identity used for qscc queries (chain info, proofs): any member of the channel may read them.
  void SetQueryIdentity(std::shared_ptr<const identity::SigningIdentity> identity);

  struct Impl;
  explicit GatewayLedger(std::unique_ptr<Impl> impl);  // use Connect

 private:
  std::unique_ptr<Impl> impl_;
};

// Fabric reports a contract's failure inside gRPC error text ("... chaincode response 409, report_exists:
// ..."): recovers the status and the contract's "<code>: <message>" as a medledger Error.
Error GatewayError(int grpc_code, const std::string& grpc_message, const std::string& operation);

}  // namespace medledger::ledger::fabric
