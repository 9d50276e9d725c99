#include "ledger/ledger.h"

#include <future>

namespace medledger::ledger {

Result<TxReceipt> Ledger::Submit(const identity::SigningIdentity& caller, Invocation call) {
  std::promise<Result<TxReceipt>> promise;
  auto future = promise.get_future();
  SubmitAsync(caller, std::move(call), [&promise](Result<TxReceipt> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace medledger::ledger
