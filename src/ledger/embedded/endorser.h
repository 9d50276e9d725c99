// The endorsing peer: checks a signed proposal, runs the contract on a simulator over the committed
// state, and signs the result (ProposalResponse) with the peer identity. Contract errors (status >= 400)
// come back as errors and are never endorsed.
#pragma once

#include <string>
#include <string_view>

#include "contract/stub.h"
#include "identity/signing_identity.h"
#include "ledger/embedded/membership.h"
#include "ledger/embedded/simulator.h"
#include "ledger/storage/state_db.h"
#include "ledger/wire/transaction.h"

namespace medledger::ledger::embedded {

struct EndorsedProposal {
  wire::ProposalParts proposal;
  std::string proposal_response_payload;  // serialized protos.ProposalResponsePayload
  wire::Endorsement endorsement;
  contract::Response response;
  std::string proposal_response;  // serialized protos.ProposalResponse, as a Fabric peer returns it
};

class Endorser {
 public:
  Endorser(const storage::StateDb& state, contract::Contract& contract, const Membership& membership,
           const identity::SigningIdentity& peer, std::string channel_id, std::string ns)
      : state_(state),
        contract_(contract),
        membership_(membership),
        peer_(peer),
        channel_id_(std::move(channel_id)),
        ns_(std::move(ns)) {}

  // Fabric's ProcessProposal on serialized protos.SignedProposal bytes. Errors: "malformed_proposal",
  // "wrong_channel", "wrong_chaincode", "bad_proposal_txid", the Membership errors for the creator,
  // "bad_proposal_signature", or the contract's own error.
  Result<EndorsedProposal> ProcessSignedProposal(std::string_view signed_proposal) const;

  // The in-process path: the ledger built `parts` and had the creator sign them moments ago, so the
  // proposal signature is not verified again (the creator's identity still is, and the validator later
  // verifies the creator's envelope signature).
  Result<EndorsedProposal> EndorseLocal(wire::ProposalParts parts, std::string_view function,
                                        const std::vector<std::string>& args) const;

  // Runs a function without endorsing it (Evaluate).
  Result<contract::Response> Simulate(const TxContext& context, std::string_view function,
                                      const std::vector<std::string>& args) const;

 private:
  Result<EndorsedProposal> Endorse(wire::ProposalParts parts, const MemberIdentity& creator, std::string_view function,
                                   const std::vector<std::string>& args) const;

  const storage::StateDb& state_;
  contract::Contract& contract_;
  const Membership& membership_;
  const identity::SigningIdentity& peer_;
  std::string channel_id_;
  std::string ns_;
};

}  // namespace medledger::ledger::embedded
