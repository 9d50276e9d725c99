// The Ledger interface: what the service layer needs from a permissioned ledger, in the shape of
// fabric-gateway's Contract API (evaluate / submit). The embedded ledger (ledger/embedded) and the
// Fabric Gateway client (ledger/fabric) both implement it; nothing above this header knows which.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "identity/signing_identity.h"

namespace medledger::ledger {

struct Invocation {
  std::string function;
  std::vector<std::string> args;
  // For a submission only: the organisations (MSP IDs) whose peers endorse it, and no others. Empty: the ledger
  // plans the endorsement from the chaincode's policy (Fabric's Gateway: discovery). A list that cannot satisfy
  // the policy is not refused up front: the peers invalidate the transaction (ENDORSEMENT_POLICY_FAILURE).
  std::vector<std::string> endorsing_organizations;
};

// The bounds of Invocation::endorsing_organizations: at most this many entries, each an MSP ID of 1-128 bytes of
// [A-Za-z0-9._-], none repeated; and none at all for Evaluate, which has no endorsement.
inline constexpr size_t kMaxEndorsingOrganizations = 16;
Status CheckEndorsingOrganizations(const Invocation& call, bool submission);

// What the caller gets back once its transaction is committed (valid) in a block that is fsynced.
struct TxReceipt {
  std::string tx_id;  // hex SHA-256(nonce || creator), as Fabric
  uint64_t block_number = 0;
  std::string block_hash;  // hex SHA-256 of the block header (Fabric's BlockHeader hash)
  Timestamp timestamp;     // the transaction's channel-header timestamp
  std::string payload;     // the contract's response payload
};

// Everything an outsider needs to check that a transaction is in the chain, unaltered.
struct TransactionProof {
  std::string tx_id;
  uint64_t block_number = 0;
  uint32_t tx_index = 0;
  std::string validation_code;           // "VALID", "MVCC_READ_CONFLICT", ...
  std::string block_header;              // serialized common.BlockHeader
  std::string block_hash;                // hex
  std::string previous_hash;             // hex
  std::string data_hash;                 // hex
  std::string orderer_signature;         // serialized common.Metadata (SIGNATURES): value and the orderer's signatures
  std::string envelope;                  // serialized common.Envelope of the transaction
  std::vector<std::string> merkle_path;  // reserved: Fabric hashes block data flat, so this stays empty
};

// Where a committed transaction is: enough for a receipt, without the proof's block contents.
struct TxBlock {
  uint64_t block_number = 0;
  std::string block_hash;  // hex hash of the block header
};

struct ChainInfo {
  uint64_t height = 0;        // number of blocks
  std::string current_hash;   // hex hash of the last block header
  std::string previous_hash;  // hex
};

class Ledger {
 public:
  using SubmitCallback = std::function<void(Result<TxReceipt>)>;

  virtual ~Ledger() = default;

  // Runs a read-only contract function; nothing is ordered or committed.
  virtual Result<std::string> Evaluate(const identity::SigningIdentity& caller, const Invocation& call) = 0;

  // Endorses, orders, validates and commits. `done` runs once, after the block holding the
  // transaction is fsynced, with the receipt, or with the contract's or the validator's error.
  virtual void SubmitAsync(const identity::SigningIdentity& caller, Invocation call, SubmitCallback done) = 0;

  // Blocking form of SubmitAsync.
  Result<TxReceipt> Submit(const identity::SigningIdentity& caller, Invocation call);

  virtual Result<ChainInfo> GetChainInfo() = 0;
  // Committed block `number` as the peer stores it: a serialized common.Block whose metadata holds the
  // orderer's signature and the validation flags (TRANSACTIONS_FILTER). Followers of the chain (the report log)
  // read blocks in order through this. "block_not_found" at or past the height.
  virtual Result<std::string> GetBlock(uint64_t number) = 0;
  virtual Result<TransactionProof> GetTransactionProof(const std::string& tx_id) = 0;
  // The block of a transaction, for receipts on reads. A ledger that can answer without reading the block
  // overrides this; the default takes it from GetTransactionProof. "tx_not_found".
  virtual Result<TxBlock> GetTransactionBlock(const std::string& tx_id);
};

}  // namespace medledger::ledger
