#include "app/recovering_ledger.h"

#include <mutex>

namespace medledger::app {
namespace {

Error Unavailable(const std::string& why) {
  return MakeError(ErrorKind::kUnavailable, "ledger_unavailable", "the ledger is being recovered: " + why);
}

}  // namespace

Result<std::unique_ptr<RecoveringLedger>> RecoveringLedger::Open(Opener open) {
  std::unique_ptr<RecoveringLedger> l(new RecoveringLedger(std::move(open)));
  ML_ASSIGN_OR_RETURN(l->ledger_, l->open_());
  return l;
}

RecoveringLedger::~RecoveringLedger() {
  Close();
}

void RecoveringLedger::Close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  if (ledger_) ledger_->Close();
  ledger_.reset();
}

uint64_t RecoveringLedger::reopens() const {
  std::shared_lock lock(mu_);
  return reopens_;
}

Status RecoveringLedger::ReopenIfFailed() {
  {
    std::shared_lock lock(mu_);
    if (closed_) return MakeError(ErrorKind::kUnavailable, "ledger_closed", "the ledger is closed");
    if (ledger_ && !ledger_->failed()) return OkStatus();
  }
  std::unique_lock lock(mu_);
  if (closed_) return MakeError(ErrorKind::kUnavailable, "ledger_closed", "the ledger is closed");
  if (ledger_ && !ledger_->failed()) return OkStatus();  // another caller reopened it meanwhile
  // Close fails whatever was still queued; the old files are released before the new ledger takes them.
  if (ledger_) ledger_->Close();
  ledger_.reset();
  auto reopened = open_();
  if (!reopened.ok()) return Unavailable(reopened.error().message);
  ledger_ = std::move(reopened).value();
  ++reopens_;
  return OkStatus();
}

template <typename T>
Result<T> RecoveringLedger::With(const std::function<Result<T>(ledger::embedded::EmbeddedLedger&)>& fn) {
  ML_RETURN_IF_ERROR(ReopenIfFailed());
  std::shared_lock lock(mu_);
  if (!ledger_) return Unavailable("reopen pending");
  return fn(*ledger_);
}

Result<std::string> RecoveringLedger::Evaluate(const identity::SigningIdentity& caller,
                                               const ledger::Invocation& call) {
  return With<std::string>([&](auto& l) { return l.Evaluate(caller, call); });
}

void RecoveringLedger::SubmitAsync(const identity::SigningIdentity& caller, ledger::Invocation call,
                                   SubmitCallback done) {
  if (Status ready = ReopenIfFailed(); !ready.ok()) return done(ready.error());
  std::shared_lock lock(mu_);
  if (!ledger_) return done(Unavailable("reopen pending"));
  // Only queued here; `done` runs on the ledger's commit thread, which never waits for this lock.
  ledger_->SubmitAsync(caller, std::move(call), std::move(done));
}

Result<ledger::ChainInfo> RecoveringLedger::GetChainInfo() {
  return With<ledger::ChainInfo>([](auto& l) { return l.GetChainInfo(); });
}

Result<std::string> RecoveringLedger::GetBlock(uint64_t number) {
  return With<std::string>([&](auto& l) { return l.GetBlock(number); });
}

Result<ledger::TransactionProof> RecoveringLedger::GetTransactionProof(const std::string& tx_id) {
  return With<ledger::TransactionProof>([&](auto& l) { return l.GetTransactionProof(tx_id); });
}

Result<ledger::TxBlock> RecoveringLedger::GetTransactionBlock(const std::string& tx_id) {
  return With<ledger::TxBlock>([&](auto& l) { return l.GetTransactionBlock(tx_id); });
}

Result<ledger::embedded::VerifyReport> RecoveringLedger::Verify(const ledger::embedded::VerifyOptions& options) {
  return With<ledger::embedded::VerifyReport>([&](auto& l) { return l.Verify(options); });
}

}  // namespace medledger::app
