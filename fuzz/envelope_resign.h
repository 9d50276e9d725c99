// Re-signing for the Fabric harnesses: a mutated envelope fails its signature checks long before the deeper
// parsers, so a harness re-signs what the mutation changed, as an insider with the keys could: each
// endorsement with the endorser's key, the envelope with the creator's. Shared by fabric_block_fuzzer and
// ledger_evidence_fuzzer.
#pragma once

#include <string>

#include "crypto/ecdsa.h"
#include "pb/common/common.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::fuzz {

// The serialized envelope with every endorsement signed by `endorser` and the envelope signed by `creator`;
// bytes that are not an envelope come back unchanged.
inline std::string ResignEnvelope(const std::string& bytes, const crypto::EcPrivateKey& endorser,
                                  const crypto::EcPrivateKey& creator) {
  common::Envelope env;
  if (!env.ParseFromString(bytes)) return bytes;
  common::Payload payload;
  protos::Transaction tx;
  if (payload.ParseFromString(env.payload()) && tx.ParseFromString(payload.data())) {
    for (auto& action : *tx.mutable_actions()) {
      protos::ChaincodeActionPayload cap;
      if (!cap.ParseFromString(action.payload())) continue;
      auto* endorsed = cap.mutable_action();
      for (auto& e : *endorsed->mutable_endorsements()) {
        auto sig = endorser.Sign(endorsed->proposal_response_payload() + e.endorser());
        if (sig.ok()) e.set_signature(*sig);
      }
      action.set_payload(cap.SerializeAsString());
    }
    payload.set_data(tx.SerializeAsString());
    env.set_payload(payload.SerializeAsString());
  }
  auto sig = creator.Sign(env.payload());
  if (sig.ok()) env.set_signature(*sig);
  return env.SerializeAsString();
}

}  // namespace medledger::fuzz
