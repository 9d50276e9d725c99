// The embedded ledger: Fabric's execute-order-validate-commit pipeline in one process.
//
//   SubmitAsync --(execute pool: proposal, simulate, endorse, creator signs envelope)--> Orderer thread
//   (cut, hash-chain, sign) --> validation thread (stateless checks, signatures in parallel on the verify
//   pool) --> commit thread (duplicate txid + MVCC, BlockStore::Append with one fsync, StateDb::ApplyBlock,
//   callbacks). Blocks live under `dir`/blocks, state under `dir`/state.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "ledger/embedded/orderer.h"
#include "ledger/ledger.h"

namespace medledger::contract {
class Contract;
}

namespace medledger::io {
class Env;
}

namespace medledger::ledger::embedded {

struct VerifyReport;
struct VerifyOptions;

struct EmbeddedLedgerOptions {
  std::string dir;  // DATA/ledger
  std::string channel_id = "medledger";
  std::string chaincode = "records";
  std::string msp_id;
  std::optional<crypto::Certificate> ca_cert;
  std::shared_ptr<const identity::SigningIdentity> peer;     // endorser
  std::shared_ptr<const identity::SigningIdentity> orderer;  // block signer
  std::shared_ptr<contract::Contract> contract;
  BatchConfig batch;
  size_t execute_threads = 0;  // 0: one per core
  size_t verify_threads = 0;   // 0: one per core
  // What the live pipeline re-checks for transactions submitted through SubmitAsync, whose proposal,
  // endorsement and envelope signatures this process made itself moments earlier (docs/LEDGER.md).
  // Envelopes from BroadcastAsync, recovery and `verify` are always checked in full.
  //   kNone: the caller signs a SignedProposal the endorser verifies, and the validator re-verifies the
  //          creator's and the endorser's signatures (everything Fabric does, ~2 signs + 3 verifies per tx).
  //   kEndorsement (default): no SignedProposal round trip; the validator verifies the creator's envelope
  //          signature but not the endorsement signature its own peer just made (2 signs + 1 verify).
  //   kAll: the validator trusts both signatures made in-process (2 signs, no verify); identities,
  //          tx_id binding, proposal hash, policy, duplicates and MVCC are still checked.
  enum class LocalTrust { kNone, kEndorsement, kAll };
  LocalTrust local_trust = LocalTrust::kEndorsement;
  io::Env* env = nullptr;  // null: the real file system
  // An empty chain starts with a genesis (configuration) block signed by the orderer (genesis.h), as a Fabric
  // channel does. The programs set it; tests of the pipeline count blocks without it.
  bool genesis_block = false;
};

class EmbeddedLedger final : public Ledger {
 public:
  // Opens (creating if needed) the ledger in options.dir, truncates a torn block-file tail and catches
  // the state database up with the blocks.
  static Result<std::unique_ptr<EmbeddedLedger>> Open(EmbeddedLedgerOptions options);
  ~EmbeddedLedger() override;  // Close()

  Result<std::string> Evaluate(const identity::SigningIdentity& caller, const Invocation& call) override;
  void SubmitAsync(const identity::SigningIdentity& caller, Invocation call, SubmitCallback done) override;
  Result<ChainInfo> GetChainInfo() override;
  Result<std::string> GetBlock(uint64_t number) override;
  Result<TransactionProof> GetTransactionProof(const std::string& tx_id) override;
  // From the transaction index and a cache of recent block hashes: no block read for recent blocks.
  Result<TxBlock> GetTransactionBlock(const std::string& tx_id) override;

  // Fabric's endorser entry point: a serialized protos.SignedProposal in, a serialized ProposalResponse out.
  Result<std::string> ProcessProposal(std::string_view signed_proposal);
  // Fabric's orderer Broadcast for an already signed envelope; `done` runs after its block commits.
  void BroadcastAsync(std::string envelope, SubmitCallback done);

  // Re-walks the chain and compares the replayed state with the state database (medledger verify).
  // Commits wait while it runs.
  Result<VerifyReport> Verify(const VerifyOptions& options);

  // Stops accepting work, finishes everything in flight (callbacks run), and joins the threads.
  void Close();
  // A block could not be stored (a full disk, a failed fsync): nothing commits any more, and only a reopen,
  // which cuts the block file back to its durable blocks, can tell what is on disk.
  bool failed() const;

  struct Impl;

 private:
  explicit EmbeddedLedger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::ledger::embedded
