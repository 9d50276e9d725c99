#include "ledger/ledger.h"

#include <future>

namespace medledger::ledger {

Result<TxReceipt> Ledger::Submit(const identity::SigningIdentity& caller, Invocation call) {
  std::promise<Result<TxReceipt>> promise;
  auto future = promise.get_future();
  SubmitAsync(caller, std::move(call), [&promise](Result<TxReceipt> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<TxBlock> Ledger::GetTransactionBlock(const std::string& tx_id) {
  ML_ASSIGN_OR_RETURN(auto proof, GetTransactionProof(tx_id));
  return TxBlock{proof.block_number, std::move(proof.block_hash)};
}

}  // namespace medledger::ledger
