#include "ledger/embedded/orderer.h"

#include "crypto/random.h"
#include "ledger/wire/protoutil.h"
#include "pb/common/common.pb.h"

namespace medledger::ledger::embedded {

Result<std::string> SignBlock(const identity::SigningIdentity& signer, uint64_t number, std::string_view previous_hash,
                              std::string_view data_hash) {
  common::OrdererBlockMetadata obm;
  obm.mutable_last_config()->set_index(0);
  common::SignatureHeader sh;
  sh.set_creator(signer.serialized());
  sh.set_nonce(crypto::RandomBytes(24));
  common::Metadata md;
  md.set_value(obm.SerializeAsString());
  auto* sig = md.add_signatures();
  sig->set_signature_header(sh.SerializeAsString());
  std::string signed_bytes =
      md.value() + sig->signature_header() + wire::BlockHeaderAsn1(number, previous_hash, data_hash);
  ML_ASSIGN_OR_RETURN(auto signature, signer.Sign(signed_bytes));
  sig->set_signature(std::move(signature));
  return md.SerializeAsString();
}

Orderer::Orderer(const identity::SigningIdentity& signer, BatchConfig config, uint64_t next_number,
                 std::string previous_hash, Sink sink)
    : signer_(signer),
      config_(config),
      next_number_(next_number),
      previous_hash_(std::move(previous_hash)),
      sink_(std::move(sink)),
      thread_([this] { Run(); }) {}

Orderer::~Orderer() {
  Stop();
}

bool Orderer::Broadcast(PendingTx& tx) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    const bool was_empty = pending_.empty();
    if (was_empty) oldest_ = std::chrono::steady_clock::now();
    pending_bytes_ += tx.envelope.size();
    pending_.push_back(std::move(tx));
    // Wake the cutter only when this transaction changes its decision: it sleeps without a deadline on an
    // empty queue, and otherwise until the batch timeout, a full batch or an idle pipeline. Waking it for
    // every transaction cost a futex wake and two context switches each (~2% of the CPU at 256 in flight).
    wake = was_empty || ReadyToCut();
  }
  if (wake) cv_.notify_one();
  return true;
}

void Orderer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Orderer::BlockDone() {
  {
    std::lock_guard lock(mu_);
    if (blocks_in_flight_ > 0) --blocks_in_flight_;
  }
  cv_.notify_one();
}

bool Orderer::ReadyToCut() const {
  if (pending_.size() >= config_.max_tx_count || pending_bytes_ >= config_.max_bytes) return true;
  return config_.cut_when_idle && !pending_.empty() && blocks_in_flight_ == 0;
}

void Orderer::Run() {
  const auto timeout = std::chrono::milliseconds(config_.timeout_ms);
  for (;;) {
    std::vector<PendingTx> batch;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (stopping_) break;
        bool busy = config_.max_blocks_in_flight != 0 && blocks_in_flight_ >= config_.max_blocks_in_flight;
        if (busy) {
          cv_.wait(lock);  // BlockDone or Stop
          continue;
        }
        if (ReadyToCut()) break;
        if (pending_.empty()) {
          cv_.wait(lock);
        } else if (cv_.wait_until(lock, oldest_ + timeout) == std::cv_status::timeout) {
          break;
        }
      }
      if (pending_.empty() && stopping_) return;
      if (pending_.empty()) continue;
      // Take at most one block's worth; the rest waits for the next cut (counted from now).
      size_t take = 0;
      uint64_t bytes = 0;
      while (take < pending_.size() && take < config_.max_tx_count &&
             (take == 0 || bytes + pending_[take].envelope.size() <= config_.max_bytes)) {
        bytes += pending_[take].envelope.size();
        ++take;
      }
      batch.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.begin() + take));
      pending_.erase(pending_.begin(), pending_.begin() + take);
      pending_bytes_ -= bytes;
      oldest_ = std::chrono::steady_clock::now();
      ++blocks_in_flight_;
    }
    Cut(std::move(batch));
  }
}

void Orderer::Cut(std::vector<PendingTx> batch) {
  std::vector<std::string_view> envelopes;
  envelopes.reserve(batch.size());
  for (const auto& tx : batch) envelopes.push_back(tx.envelope);
  OrderedBlock block;
  block.number = next_number_;
  block.previous_hash = previous_hash_;
  block.data_hash = wire::BlockDataHash(envelopes);
  block.header_hash = wire::BlockHeaderHash(block.number, block.previous_hash, block.data_hash);
  auto signatures = SignBlock(signer_, block.number, block.previous_hash, block.data_hash);
  if (!signatures.ok()) {
    // Without a signature there is no block: fail this batch, keep the chain where it was.
    for (auto& tx : batch) {
      if (tx.done) tx.done(signatures.error());
    }
    BlockDone();
    return;
  }
  block.signatures_metadata = std::move(signatures).value();
  block.txs = std::move(batch);
  ++next_number_;
  previous_hash_ = block.header_hash;
  sink_(std::move(block));
}

}  // namespace medledger::ledger::embedded
