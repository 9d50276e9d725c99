#include "ledger/ledger.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <set>
#include <string_view>

namespace medledger::ledger {

Status CheckEndorsingOrganizations(const Invocation& call, bool submission) {
  const auto& orgs = call.endorsing_organizations;
  const auto bad = [](std::string message) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_endorsing_organizations", std::move(message));
  };
  if (orgs.empty()) return OkStatus();
  if (!submission) return bad("an evaluation is not endorsed: endorsing organisations apply to submissions only");
  if (orgs.size() > kMaxEndorsingOrganizations) {
    return bad("at most " + std::to_string(kMaxEndorsingOrganizations) + " endorsing organisations");
  }
  std::set<std::string_view> seen;
  for (const auto& msp : orgs) {
    const bool charset_ok = std::all_of(msp.begin(), msp.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    });
    if (msp.empty() || msp.size() > 128 || !charset_ok) {
      return bad("an endorsing organisation must be an MSP ID of 1-128 bytes of [A-Za-z0-9._-]");
    }
    if (!seen.insert(msp).second) return bad("endorsing organisation " + msp + " is listed twice");
  }
  return OkStatus();
}

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
