// Building and taking apart Fabric endorser transactions: the proposal a creator signs, the envelope it
// submits for ordering, and the structural parse the validator and the verifier share. No signatures are
// made or checked here; callers do that with the identities they hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "ledger/wire/rwset.h"

namespace medledger::ledger::wire {

// The pieces of an unsigned proposal, kept separate because the envelope reuses them byte for byte.
struct ProposalParts {
  std::string tx_id;
  Timestamp timestamp;
  std::string channel_header;    // serialized common.ChannelHeader
  std::string signature_header;  // serialized common.SignatureHeader
  std::string payload;           // serialized protos.ChaincodeProposalPayload
  std::string proposal;          // serialized protos.Proposal (what the creator signs)
};

// `args` are the contract function name followed by its arguments, as ChaincodeInput.args.
ProposalParts BuildProposal(std::string_view creator, std::string_view nonce, Timestamp timestamp,
                            std::string_view channel_id, std::string_view ns, const std::vector<std::string>& args);
std::string SerializeSignedProposal(std::string_view proposal, std::string_view signature);

// Fabric's proposal hash binding an endorsement to one proposal: SHA-256(channel header || signature
// header || proposal payload).
std::string ProposalHash(std::string_view channel_header, std::string_view signature_header,
                         std::string_view proposal_payload);

// The endorsed transaction a creator signs: common.Payload bytes (Header + protos.Transaction).
std::string BuildEnvelopePayload(const ProposalParts& proposal, std::string_view proposal_response_payload,
                                 std::string_view endorser, std::string_view endorsement_signature);
std::string SerializeEnvelope(std::string_view payload, std::string_view signature);

struct Endorsement {
  std::string endorser;   // serialized msp.SerializedIdentity
  std::string signature;  // over proposal_response_payload || endorser
};

struct ReadEntry {
  std::string key;
  std::optional<Version> version;
};

// A transaction taken apart, with every field the validator checks.
struct ParsedTx {
  std::string tx_id;
  Timestamp timestamp;
  std::string creator;
  std::string nonce;
  std::string payload;                 // the bytes the creator signed
  std::string signature;               // the creator's signature
  std::string proposal_hash;           // as recorded in the ProposalResponsePayload
  std::string expected_proposal_hash;  // recomputed from the envelope's header and proposal payload
  std::string proposal_response_payload;
  std::vector<Endorsement> endorsements;
  std::string chaincode;
  int32_t response_status = 0;
  std::string response_message;
  std::string response_payload;
  std::string rwset_ns;
  std::vector<ReadEntry> reads;
  std::vector<RangeRead> ranges;
  std::vector<KeyWrite> writes;
  // Key-level endorsement policies the transaction sets: the principals' MSP IDs of each, which the validator
  // checks against the channel's one organisation.
  struct PolicyWrite {
    std::string key;
    std::vector<std::string> principal_msps;
  };
  std::vector<PolicyWrite> policy_writes;
};

// Parses an envelope of an endorser transaction for `channel_id`/`ns`. Returns a TxCode (kTxValid when
// the structure is sound); `out` is filled as far as parsing got (tx_id is set whenever it was readable).
int32_t ParseEndorserTransaction(std::string_view envelope, std::string_view channel_id, std::string_view ns,
                                 ParsedTx* out);

}  // namespace medledger::ledger::wire
