#include "ledger/embedded/embedded_ledger.h"

#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/encoding.h"
#include "contract/stub.h"
#include "crypto/random.h"
#include "io/env.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/blocking_queue.h"
#include "ledger/embedded/endorser.h"
#include "ledger/embedded/genesis.h"
#include "ledger/embedded/membership.h"
#include "ledger/embedded/validator.h"
#include "ledger/embedded/verifier.h"
#include "ledger/embedded/worker_pool.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/state_db.h"
#include "ledger/wire/protoutil.h"

namespace medledger::ledger::embedded {
namespace {

constexpr size_t kNonceSize = 24;

Error Closed() {
  return MakeError(ErrorKind::kUnavailable, "ledger_closed", "the ledger is closed");
}

size_t ThreadsOr(size_t n) {
  if (n != 0) return n;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 2 : hw;
}

struct ValidatedBlock {
  OrderedBlock block;
  std::vector<CheckedTx> checked;
};

}  // namespace

struct EmbeddedLedger::Impl {
  EmbeddedLedgerOptions opt;
  std::unique_ptr<storage::BlockStore> blocks;
  std::unique_ptr<storage::StateDb> state;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<Endorser> endorser;
  std::unique_ptr<Validator> validator;
  std::unique_ptr<WorkerPool> verify_pool;
  std::unique_ptr<WorkerPool> exec_pool;
  std::unique_ptr<Orderer> orderer;
  BlockingQueue<OrderedBlock> to_validate;
  BlockingQueue<ValidatedBlock> to_commit;
  std::thread validate_thread;
  std::thread commit_thread;

  std::shared_mutex lifecycle_mu;  // shared by submitters, exclusive to Close
  bool closed = false;
  std::atomic<bool> failed{false};  // a block could not be stored: nothing further commits
  std::mutex failure_mu;
  Error failure;  // guarded by failure_mu; set once before `failed`

  void Fail(const Error& e) {
    std::lock_guard lock(failure_mu);
    if (!failed.load()) failure = e;
    failed = true;
  }
  Error Failure() {
    std::lock_guard lock(failure_mu);
    return failure;
  }

  std::mutex store_mu;   // BlockStore reads vs. appends
  std::mutex commit_mu;  // one block commits at a time; Verify holds it
  std::mutex chain_mu;
  ChainInfo chain;
  // Header hashes (hex) of recent blocks, for read receipts: a reader needs its report's block hash, and
  // decoding a whole block of hundreds of transactions for it was ~5% of a read's CPU. Bounded; the oldest
  // blocks go first.
  static constexpr size_t kHashCacheBlocks = 16384;
  std::map<uint64_t, std::string> block_hashes;  // guarded by chain_mu

  void RememberHash(uint64_t number, std::string hash) {  // with chain_mu held
    block_hashes.insert_or_assign(number, std::move(hash));
    if (block_hashes.size() > kHashCacheBlocks) block_hashes.erase(block_hashes.begin());
  }

  Status Recover();
  void ExecuteAndBroadcast(const identity::SigningIdentity& caller, const Invocation& call, SubmitCallback& done);
  void ValidateLoop();
  void CommitLoop();
  void CommitBlock(ValidatedBlock vb);
  void Shutdown();
};

Status EmbeddedLedger::Impl::Recover() {
  ML_ASSIGN_OR_RETURN(auto savepoint, state->Savepoint());
  uint64_t height = blocks->Height();
  if (savepoint && *savepoint >= height) {
    return MakeError(ErrorKind::kCorruption, "state_ahead_of_blocks",
                     "the state database has block " + std::to_string(*savepoint) + " but only " +
                         std::to_string(height) + " blocks are stored");
  }
  // The stored validation codes are authoritative for blocks already validated; only writes are replayed.
  for (uint64_t n = savepoint ? *savepoint + 1 : 0; n < height; ++n) {
    ML_ASSIGN_OR_RETURN(auto bytes, blocks->Read(n));
    ML_ASSIGN_OR_RETURN(auto block, DecodeBlock(bytes));
    if (block.number != n || block.filter.size() != block.envelopes.size()) {
      return MakeError(ErrorKind::kCorruption, "block_malformed", "block " + std::to_string(n) + " is inconsistent");
    }
    std::vector<CheckedTx> txs(block.envelopes.size());
    for (size_t i = 0; i < txs.size(); ++i) {
      // The genesis block's config transaction writes no state (verify checks its signatures).
      if (n == 0 && block.envelopes.size() == 1 && IsConfigEnvelope(block.envelopes[0])) {
        txs[i].code = static_cast<uint8_t>(block.filter[i]);
        continue;
      }
      int32_t parsed = wire::ParseEndorserTransaction(block.envelopes[i], opt.channel_id, opt.chaincode, &txs[i].tx);
      txs[i].code = static_cast<uint8_t>(block.filter[i]);
      if (txs[i].code == wire::kTxValid && parsed != wire::kTxValid) {
        return MakeError(ErrorKind::kCorruption, "block_malformed",
                         "block " + std::to_string(n) + " tx " + std::to_string(i) + " is marked valid but is " +
                             wire::TxCodeName(parsed));
      }
    }
    ML_RETURN_IF_ERROR(state->ApplyBlock(Validator::MakeUpdate(n, txs)));
  }
  if (height > 0) {
    ML_ASSIGN_OR_RETURN(auto bytes, blocks->Read(height - 1));
    ML_ASSIGN_OR_RETURN(auto last, DecodeBlock(bytes));
    chain.height = height;
    chain.current_hash = HexEncode(wire::BlockHeaderHash(last.number, last.previous_hash, last.data_hash));
    chain.previous_hash = HexEncode(last.previous_hash);
    RememberHash(height - 1, chain.current_hash);
  }
  return OkStatus();
}

void EmbeddedLedger::Impl::ExecuteAndBroadcast(const identity::SigningIdentity& caller, const Invocation& call,
                                               SubmitCallback& done) {
  std::vector<std::string> args;
  args.reserve(call.args.size() + 1);
  args.push_back(call.function);
  args.insert(args.end(), call.args.begin(), call.args.end());
  wire::ProposalParts parts = wire::BuildProposal(caller.serialized(), crypto::RandomBytes(kNonceSize),
                                                  Timestamp::Now(), opt.channel_id, opt.chaincode, args);
  Result<EndorsedProposal> endorsed = MakeError(ErrorKind::kInternal, "unreachable", "");
  const auto trust = opt.local_trust;
  if (trust == EmbeddedLedgerOptions::LocalTrust::kNone) {
    auto signature = caller.Sign(parts.proposal);
    if (!signature.ok()) return done(signature.error());
    endorsed = endorser->ProcessSignedProposal(wire::SerializeSignedProposal(parts.proposal, *signature));
  } else {
    endorsed = endorser->EndorseLocal(std::move(parts), call.function, call.args);
  }
  if (!endorsed.ok()) return done(endorsed.error());
  std::string payload = wire::BuildEnvelopePayload(endorsed->proposal, endorsed->proposal_response_payload,
                                                   endorsed->endorsement.endorser, endorsed->endorsement.signature);
  auto signature = caller.Sign(payload);
  if (!signature.ok()) return done(signature.error());
  PendingTx tx{wire::SerializeEnvelope(payload, *signature), trust != EmbeddedLedgerOptions::LocalTrust::kNone,
               trust == EmbeddedLedgerOptions::LocalTrust::kAll, std::move(done)};
  if (!orderer->Broadcast(tx) && tx.done) tx.done(Closed());
}

void EmbeddedLedger::Impl::ValidateLoop() {
  while (auto block = to_validate.Pop()) {
    std::vector<std::string_view> envelopes;
    std::vector<Validator::Trust> trusted;
    envelopes.reserve(block->txs.size());
    trusted.reserve(block->txs.size());
    for (const auto& tx : block->txs) {
      envelopes.push_back(tx.envelope);
      trusted.push_back(Validator::Trust{tx.trusted_endorsement, tx.trusted_creator});
    }
    auto checked = validator->CheckBlockStateless(envelopes, trusted, verify_pool.get());
    to_commit.Push(ValidatedBlock{std::move(*block), std::move(checked)});
  }
}

void EmbeddedLedger::Impl::CommitLoop() {
  while (auto vb = to_commit.Pop()) {
    CommitBlock(std::move(*vb));
    orderer->BlockDone();
  }
}

void EmbeddedLedger::Impl::CommitBlock(ValidatedBlock vb) {
  OrderedBlock& block = vb.block;
  std::vector<SubmitCallback> callbacks;
  callbacks.reserve(block.txs.size());
  for (auto& tx : block.txs) callbacks.push_back(std::move(tx.done));
  auto fail_all = [&](const Error& e) {
    for (auto& cb : callbacks) {
      if (cb) cb(e);
    }
  };
  if (failed.load()) return fail_all(Failure());

  std::unique_lock commit_lock(commit_mu);
  StateDbView view(*state);
  Status st = validator->CheckBlockState(vb.checked, view);
  if (!st.ok()) {
    Fail(st.error());
    return fail_all(st.error());
  }
  std::string filter;
  filter.reserve(vb.checked.size());
  for (const auto& ct : vb.checked) filter.push_back(static_cast<char>(ct.code));
  const uint64_t number = block.number;
  std::string bytes = EncodeBlock(block, std::move(filter));
  {
    std::lock_guard lock(store_mu);
    st = blocks->Append(number, bytes);
  }
  if (!st.ok()) {
    // Not durable: nobody is acknowledged, and the chain stops rather than fork from what is on disk.
    Fail(st.error());
    return fail_all(st.error());
  }
  // Durable from here: the block's transactions are acknowledged even if the state update fails, since
  // Open() rebuilds the state from the blocks.
  std::vector<Result<TxReceipt>> results;
  results.reserve(vb.checked.size());
  const std::string block_hash = HexEncode(block.header_hash);
  for (const auto& ct : vb.checked) {
    if (ct.code == wire::kTxValid) {
      results.emplace_back(TxReceipt{ct.tx.tx_id, number, block_hash, ct.tx.timestamp, ct.tx.response_payload});
    } else {
      results.emplace_back(wire::TxCodeError(ct.code, ct.tx.tx_id));
    }
  }
  st = state->ApplyBlock(Validator::MakeUpdate(number, vb.checked));
  if (!st.ok()) Fail(st.error());
  {
    std::lock_guard lock(chain_mu);
    chain.height = number + 1;
    chain.previous_hash = HexEncode(block.previous_hash);
    chain.current_hash = block_hash;
    RememberHash(number, block_hash);
  }
  commit_lock.unlock();
  for (size_t i = 0; i < callbacks.size(); ++i) {
    if (callbacks[i]) callbacks[i](std::move(results[i]));
  }
}

void EmbeddedLedger::Impl::Shutdown() {
  {
    std::unique_lock lock(lifecycle_mu);
    if (closed) return;
    closed = true;
  }
  exec_pool.reset();             // runs every accepted submission up to Broadcast
  if (orderer) orderer->Stop();  // cuts the last partial block
  to_validate.Close();
  if (validate_thread.joinable()) validate_thread.join();
  to_commit.Close();
  if (commit_thread.joinable()) commit_thread.join();
  orderer.reset();
  verify_pool.reset();
}

Result<std::unique_ptr<EmbeddedLedger>> EmbeddedLedger::Open(EmbeddedLedgerOptions options) {
  if (!options.peer || !options.orderer || !options.contract || !options.ca_cert || options.msp_id.empty() ||
      options.dir.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "ledger_options",
                     "the ledger needs a directory, an MSP ID, the CA certificate, peer and orderer identities and "
                     "a contract");
  }
  if (options.batch.max_tx_count == 0 || options.batch.max_bytes == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "ledger_options", "batch limits must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  EmbeddedLedgerOptions& o = impl->opt;
  io::Env* env = o.env != nullptr ? o.env : io::Env::Default();
  ML_RETURN_IF_ERROR(env->CreateDirs(o.dir));
  ML_ASSIGN_OR_RETURN(impl->blocks, storage::BlockStore::Open(o.dir + "/blocks", o.env));
  ML_ASSIGN_OR_RETURN(impl->state, storage::StateDb::Open(o.dir + "/state"));
  if (o.genesis_block) {
    ML_RETURN_IF_ERROR(WriteGenesisIfEmpty(*impl->blocks, *o.orderer, o.channel_id, o.msp_id, o.ca_cert->ToDer()));
  }
  impl->membership =
      std::make_unique<Membership>(o.msp_id, *o.ca_cert, o.peer->certificate(), o.orderer->certificate());
  impl->endorser =
      std::make_unique<Endorser>(*impl->state, *o.contract, *impl->membership, *o.peer, o.channel_id, o.chaincode);
  impl->validator = std::make_unique<Validator>(*impl->membership, o.channel_id, o.chaincode);
  ML_RETURN_IF_ERROR(impl->Recover());

  Impl* raw = impl.get();
  impl->verify_pool = std::make_unique<WorkerPool>(ThreadsOr(o.verify_threads));
  std::string previous_hash;
  if (impl->chain.height > 0) {
    ML_ASSIGN_OR_RETURN(previous_hash, HexDecode(impl->chain.current_hash));
  }
  impl->orderer = std::make_unique<Orderer>(*o.orderer, o.batch, impl->chain.height, std::move(previous_hash),
                                            [raw](OrderedBlock b) { raw->to_validate.Push(std::move(b)); });
  impl->validate_thread = std::thread([raw] { raw->ValidateLoop(); });
  impl->commit_thread = std::thread([raw] { raw->CommitLoop(); });
  impl->exec_pool = std::make_unique<WorkerPool>(ThreadsOr(o.execute_threads));
  return std::unique_ptr<EmbeddedLedger>(new EmbeddedLedger(std::move(impl)));
}

EmbeddedLedger::EmbeddedLedger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedLedger::~EmbeddedLedger() {
  Close();
}

void EmbeddedLedger::Close() {
  impl_->Shutdown();
}

bool EmbeddedLedger::failed() const {
  return impl_->failed.load();
}

Result<std::string> EmbeddedLedger::Evaluate(const identity::SigningIdentity& caller, const Invocation& call) {
  ML_RETURN_IF_ERROR(CheckEndorsingOrganizations(call, /*submission=*/false));
  ML_ASSIGN_OR_RETURN(auto creator, impl_->membership->Resolve(caller.serialized()));
  std::string nonce = crypto::RandomBytes(kNonceSize);
  TxContext ctx{impl_->opt.chaincode, impl_->opt.channel_id, wire::ComputeTxId(nonce, caller.serialized()),
                Timestamp::Now(), contract::Creator{creator->msp_id, creator->cert_pem}};
  ML_ASSIGN_OR_RETURN(auto response, impl_->endorser->Simulate(ctx, call.function, call.args));
  return std::move(response.payload);
}

void EmbeddedLedger::SubmitAsync(const identity::SigningIdentity& caller, Invocation call, SubmitCallback done) {
  std::shared_lock lock(impl_->lifecycle_mu);
  if (impl_->closed) return done(Closed());
  if (impl_->failed.load()) return done(impl_->Failure());
  if (auto st = CheckEndorsingOrganizations(call, /*submission=*/true); !st.ok()) return done(st.error());
  // One organisation, one peer: its own is the only endorsement the embedded ledger can give.
  for (const auto& msp : call.endorsing_organizations) {
    if (msp != impl_->opt.msp_id) {
      return done(
          MakeError(ErrorKind::kInvalidArgument, "endorsing_organization_unknown",
                    "the embedded ledger has one organisation, " + impl_->opt.msp_id + "; " + msp + " cannot endorse"));
    }
  }
  Impl* impl = impl_.get();
  // The caller's identity is copied (shared key state): the work outlives this call.
  impl_->exec_pool->Post([impl, caller, call = std::move(call), done = std::move(done)]() mutable {
    impl->ExecuteAndBroadcast(caller, call, done);
  });
}

void EmbeddedLedger::BroadcastAsync(std::string envelope, SubmitCallback done) {
  std::shared_lock lock(impl_->lifecycle_mu);
  if (impl_->closed) return done(Closed());
  if (impl_->failed.load()) return done(impl_->Failure());
  PendingTx tx{std::move(envelope), false, false, std::move(done)};
  if (!impl_->orderer->Broadcast(tx) && tx.done) tx.done(Closed());
}

Result<std::string> EmbeddedLedger::ProcessProposal(std::string_view signed_proposal) {
  ML_ASSIGN_OR_RETURN(auto endorsed, impl_->endorser->ProcessSignedProposal(signed_proposal));
  return std::move(endorsed.proposal_response);
}

Result<ChainInfo> EmbeddedLedger::GetChainInfo() {
  std::lock_guard lock(impl_->chain_mu);
  return impl_->chain;
}

Result<std::string> EmbeddedLedger::GetBlock(uint64_t number) {
  {
    std::lock_guard lock(impl_->chain_mu);
    if (number >= impl_->chain.height) {
      return MakeError(ErrorKind::kNotFound, "block_not_found", "no committed block " + std::to_string(number));
    }
  }
  // BlockStore reads are safe beside its one appender, and a follower reading every block must not hold up the
  // commit thread's Append behind store_mu.
  return impl_->blocks->Read(number);
}

Result<TransactionProof> EmbeddedLedger::GetTransactionProof(const std::string& tx_id) {
  ML_ASSIGN_OR_RETURN(auto location, impl_->state->FindTx(tx_id));
  if (!location) return MakeError(ErrorKind::kNotFound, "tx_not_found", "no transaction " + tx_id);
  std::string bytes;
  {
    std::lock_guard lock(impl_->store_mu);
    ML_ASSIGN_OR_RETURN(bytes, impl_->blocks->Read(location->block));
  }
  ML_ASSIGN_OR_RETURN(auto block, DecodeBlock(bytes));
  if (location->tx >= block.envelopes.size()) {
    return MakeError(ErrorKind::kCorruption, "tx_index_mismatch", "the transaction index points past its block");
  }
  TransactionProof proof;
  proof.tx_id = tx_id;
  proof.block_number = block.number;
  proof.tx_index = location->tx;
  proof.validation_code = wire::TxCodeName(location->validation_code);
  proof.block_header = block.header;
  proof.block_hash = HexEncode(wire::BlockHeaderHash(block.number, block.previous_hash, block.data_hash));
  proof.previous_hash = HexEncode(block.previous_hash);
  proof.data_hash = HexEncode(block.data_hash);
  proof.orderer_signature = block.signatures_metadata;
  proof.envelope = std::move(block.envelopes[location->tx]);
  return proof;
}

Result<TxBlock> EmbeddedLedger::GetTransactionBlock(const std::string& tx_id) {
  ML_ASSIGN_OR_RETURN(auto location, impl_->state->FindTx(tx_id));
  if (!location) return MakeError(ErrorKind::kNotFound, "tx_not_found", "no transaction " + tx_id);
  {
    std::lock_guard lock(impl_->chain_mu);
    auto it = impl_->block_hashes.find(location->block);
    if (it != impl_->block_hashes.end()) return TxBlock{location->block, it->second};
  }
  ML_ASSIGN_OR_RETURN(auto proof, GetTransactionProof(tx_id));
  std::lock_guard lock(impl_->chain_mu);
  impl_->RememberHash(proof.block_number, proof.block_hash);
  return TxBlock{proof.block_number, std::move(proof.block_hash)};
}

Result<VerifyReport> EmbeddedLedger::Verify(const VerifyOptions& options) {
  std::lock_guard commit_lock(impl_->commit_mu);
  std::lock_guard store_lock(impl_->store_mu);
  return VerifyChain(*impl_->blocks, *impl_->state, *impl_->membership, options);
}

}  // namespace medledger::ledger::embedded
