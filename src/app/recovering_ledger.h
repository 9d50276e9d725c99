// The embedded ledger for a server that recovers from disk faults by itself. After a block it could not
// store (a full disk, a failed fsync) the embedded ledger stops committing, since only a reopen can tell what
// is durable; this reopens it at the next call, so a passing fault costs the requests it hit and no operator.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>

#include "ledger/embedded/embedded_ledger.h"
#include "ledger/embedded/verifier.h"
#include "ledger/ledger.h"

namespace medledger::app {

class RecoveringLedger final : public ledger::Ledger {
 public:
  using Opener = std::function<Result<std::unique_ptr<ledger::embedded::EmbeddedLedger>>()>;

  // Opens the ledger once with `open` (its error is returned); later reopens use it again.
  static Result<std::unique_ptr<RecoveringLedger>> Open(Opener open);
  ~RecoveringLedger() override;

  Result<std::string> Evaluate(const identity::SigningIdentity& caller, const ledger::Invocation& call) override;
  void SubmitAsync(const identity::SigningIdentity& caller, ledger::Invocation call, SubmitCallback done) override;
  Result<ledger::ChainInfo> GetChainInfo() override;
  Result<std::string> GetBlock(uint64_t number) override;
  Result<ledger::TransactionProof> GetTransactionProof(const std::string& tx_id) override;
  Result<ledger::TxBlock> GetTransactionBlock(const std::string& tx_id) override;

  Result<ledger::embedded::VerifyReport> Verify(const ledger::embedded::VerifyOptions& options);
  void Close();
  uint64_t reopens() const;  // how often a failed ledger was reopened

 private:
  explicit RecoveringLedger(Opener open) : open_(std::move(open)) {}
  // Runs `fn` on a working ledger (reopening a failed one first) while no reopen can start.
  template <typename T>
  Result<T> With(const std::function<Result<T>(ledger::embedded::EmbeddedLedger&)>& fn);
  Status ReopenIfFailed();

  Opener open_;
  mutable std::shared_mutex mu_;                              // shared by calls, exclusive to a reopen and Close
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;  // null after a reopen failed, or after Close
  bool closed_ = false;
  uint64_t reopens_ = 0;
};

}  // namespace medledger::app
