#include "service/report_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/errno_text.h"
#include "common/json_strict.h"
#include "common/unique_fd.h"
#include "identity/sealed_file.h"
#include "io/env.h"
#include "reportlog/block_leaves.h"
#include "reportlog/log_files.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::service {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using reportlog::files::kBlockEnds;
using reportlog::files::kCheckpoints;
constexpr size_t kMaxCosignatures = 32;
constexpr uint64_t kMaxPendingLeaves = 65536;

Error IoError(const fs::path& path, const char* what) {
  return ErrnoError(std::string(what) + " " + path.string(), errno);
}

json ToJson(const PublishedCheckpoint& p) {
  return {{"note", p.note},
          {"cosignatures", p.cosignatures},
          {"timestampToken", Base64Encode(p.timestamp_token)},
          {"anchorTxId", p.anchor_tx_id},
          {"published", p.published_unix}};
}

}  // namespace

ReportLog::ReportLog(ledger::Ledger& ledger, tlog::NoteSigner log_key, ReportLogOptions options)
    : ledger_(ledger), log_key_(std::move(log_key)), verifier_(log_key_.Verifier()), options_(std::move(options)) {}

ReportLog::~ReportLog() {
  Stop();
}

Result<std::unique_ptr<ReportLog>> ReportLog::Open(ledger::Ledger& ledger, tlog::NoteSigner log_key,
                                                   ReportLogOptions options) {
  if (log_key.name() != options.origin) {
    return MakeError(ErrorKind::kInvalidArgument, "log_key_mismatch",
                     "the log key is named '" + log_key.name() + "' but the log's origin is '" + options.origin + "'");
  }
  std::unique_ptr<ReportLog> log(new ReportLog(ledger, std::move(log_key), std::move(options)));
  ML_ASSIGN_OR_RETURN(log->tree_,
                      tlog::TreeStore::Open(log->options_.dir / reportlog::files::kTree, log->options_.env));
  ML_RETURN_IF_ERROR(log->LoadState());
  return log;
}

Status ReportLog::LoadState() {
  // block-ends is synced before the tree's meta names a cursor, so it always holds at least `cursor` entries;
  // anything past that is an uncommitted fold and is re-derived.
  const fs::path ends_file = options_.dir / kBlockEnds;
  const uint64_t cursor = tree_->CommittedCursor();
  ends_fd_ = UniqueFd(::open(ends_file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  const UniqueFd& fd = ends_fd_;
  if (!fd.valid()) return IoError(ends_file, "open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError(ends_file, "stat");
  if (static_cast<uint64_t>(st.st_size) < cursor * 8) {
    return MakeError(ErrorKind::kCorruption, "log_corrupt",
                     "the log's block index is shorter than its committed cursor (" + std::to_string(cursor) + ")");
  }
  std::string bytes(cursor * 8, '\0');
  if (cursor > 0 && ::pread(fd.get(), bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return IoError(ends_file, "read");
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(cursor * 8)) != 0) return IoError(ends_file, "truncate");
  block_ends_.clear();
  for (uint64_t b = 0; b < cursor; ++b) block_ends_.push_back(DecodeFixed64(bytes.data() + b * 8));
  committed_blocks_ = cursor;
  if (!block_ends_.empty() && block_ends_.back() != tree_->CommittedSize()) {
    return MakeError(ErrorKind::kCorruption, "log_corrupt", "the log's block index disagrees with its tree");
  }

  auto saved = io::ReadFile(options_.env != nullptr ? *options_.env : *io::Env::Default(), options_.dir / kCheckpoints);
  if (!saved.ok()) {
    if (saved.error().code == "not_found") return OkStatus();
    return saved.error();
  }
  auto doc = ParseStrictJson(*saved);
  if (!doc.ok() || !doc->is_array()) {
    return MakeError(ErrorKind::kCorruption, "log_corrupt", "checkpoints.json is not a JSON array");
  }
  for (const auto& item : *doc) {
    PublishedCheckpoint p;
    p.note = item.value("note", "");
    auto opened = tlog::OpenCheckpoint(p.note, verifier_);
    if (!opened.ok()) {
      return MakeError(ErrorKind::kCorruption, "log_corrupt", "a saved checkpoint does not verify with the log key");
    }
    // A checkpoint larger than the tree would be a promise the (rolled back) tree cannot keep: drop it.
    if (opened->checkpoint.size > tree_->CommittedSize()) continue;
    p.checkpoint = opened->checkpoint;
    for (const auto& c : item.value("cosignatures", json::array())) {
      if (c.is_string()) p.cosignatures.push_back(c.get<std::string>());
    }
    auto token = Base64Decode(item.value("timestampToken", ""));
    if (token.ok()) p.timestamp_token = std::move(*token);
    p.anchor_tx_id = item.value("anchorTxId", "");
    p.published_unix = item.value("published", int64_t{0});
    recent_.push_back(std::move(p));
  }
  return OkStatus();
}

Status ReportLog::SaveCheckpoints() const {
  json arr = json::array();
  for (const auto& p : recent_) arr.push_back(ToJson(p));
  return io::WriteFileAtomic(options_.env != nullptr ? *options_.env : *io::Env::Default(), options_.dir / kCheckpoints,
                             arr.dump());
}

void ReportLog::Start() {
  std::lock_guard lock(stop_mu_);
  if (follower_.joinable()) return;
  stopping_ = false;
  follower_ = std::thread([this] { FollowLoop(); });
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
}

void ReportLog::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // A clean stop leaves nothing to re-derive.
  if (Status s = Commit(); !s.ok()) {
    spdlog::warn(R"({{"msg":"report log not committed at stop","code":"{}"}})", s.error().code);
  }
}

void ReportLog::FollowLoop() {
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    lock.unlock();
    auto folded = CatchUp();
    if (!folded.ok()) {
      spdlog::error(R"({{"msg":"report log cannot follow the chain","code":"{}","detail":"{}"}})", folded.error().code,
                    folded.error().message);
    }
    lock.lock();
    stop_cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
  }
}

void ReportLog::CheckpointLoop() {
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, options_.checkpoint_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    Status s = PublishIfGrown();
    if (!s.ok()) {
      spdlog::error(R"({{"msg":"report log checkpoint failed","code":"{}","detail":"{}"}})", s.error().code,
                    s.error().message);
    }
    lock.lock();
  }
}

Result<uint64_t> ReportLog::CatchUp() {
  std::lock_guard fold(fold_mu_);
  ML_ASSIGN_OR_RETURN(ledger::ChainInfo info, ledger_.GetChainInfo());
  uint64_t next;
  {
    std::lock_guard lock(mu_);
    next = block_ends_.size();
  }
  if (next >= info.height) return tree_->Size();
  std::string appended_ends;
  std::vector<uint64_t> new_ends;
  uint64_t size = tree_->Size();
  const uint64_t last = std::min<uint64_t>(info.height, next + 4096);
  for (uint64_t b = next; b < last; ++b) {
    auto folded = FoldBlock(b, &size);
    if (!folded.ok()) {
      RollBackLocked();
      return folded.error();
    }
    new_ends.push_back(size);
    PutFixed64(&appended_ends, size);
  }
  // Written now, synced with the tree's next commit (RollBackLocked truncates what a failure leaves behind).
  if (::write(ends_fd_.get(), appended_ends.data(), appended_ends.size()) !=
      static_cast<ssize_t>(appended_ends.size())) {
    RollBackLocked();
    return IoError(options_.dir / kBlockEnds, "append to");
  }
  {
    std::lock_guard lock(mu_);
    block_ends_.insert(block_ends_.end(), new_ends.begin(), new_ends.end());
  }
  // Durability is only owed to what a checkpoint signs (the log is re-derived from the blocks after a crash),
  // so commits, each a few fsyncs, follow checkpoints rather than every poll; a long catch-up commits in batches
  // to bound the pending leaves.
  if (tree_->Size() - tree_->CommittedSize() > kMaxPendingLeaves) ML_RETURN_IF_ERROR(CommitLocked());
  return size;
}

Status ReportLog::FoldBlock(uint64_t b, uint64_t* size) {
  ML_ASSIGN_OR_RETURN(std::string bytes, ledger_.GetBlock(b));
  ML_ASSIGN_OR_RETURN(reportlog::BlockEvents events, reportlog::EventsFromBlock(bytes, options_.chaincode));
  if (events.number != b) {
    return MakeError(ErrorKind::kCorruption, "block_out_of_order",
                     "asked for block " + std::to_string(b) + ", got " + std::to_string(events.number));
  }
  for (const auto& leaf : events.leaves) {
    ML_ASSIGN_OR_RETURN(std::string encoded, reportlog::EncodeLeaf(leaf));
    ML_RETURN_IF_ERROR(tree_->Append(encoded));
    ++*size;
  }
  return OkStatus();
}

Status ReportLog::CommitLocked() {
  uint64_t blocks;
  {
    std::lock_guard lock(mu_);
    blocks = block_ends_.size();
  }
  if (blocks == committed_blocks_) return OkStatus();
  // The block index first (synced), then the tree's commit names the new cursor.
  if (::fdatasync(ends_fd_.get()) != 0) return IoError(options_.dir / kBlockEnds, "sync");
  ML_RETURN_IF_ERROR(tree_->Commit(blocks));
  committed_blocks_ = blocks;
  return OkStatus();
}

void ReportLog::RollBackLocked() {
  tree_->DiscardPending();
  {
    std::lock_guard lock(mu_);
    block_ends_.resize(committed_blocks_);
  }
  if (::ftruncate(ends_fd_.get(), static_cast<off_t>(committed_blocks_ * 8)) != 0) {
    spdlog::error(R"({{"msg":"report log cannot truncate its block index","errno":{}}})", errno);
  }
}

Status ReportLog::Commit() {
  std::lock_guard fold(fold_mu_);
  return CommitLocked();
}

Status ReportLog::PublishIfGrown() {
  ML_RETURN_IF_ERROR(Commit());
  const uint64_t size = tree_->CommittedSize();
  {
    std::lock_guard lock(mu_);
    if (size == 0 || (!recent_.empty() && recent_.back().checkpoint.size >= size)) return OkStatus();
  }
  PublishedCheckpoint p;
  p.checkpoint.origin = options_.origin;
  p.checkpoint.size = size;
  ML_ASSIGN_OR_RETURN(p.checkpoint.root_hash, tree_->RootHash(size));
  ML_ASSIGN_OR_RETURN(p.note, tlog::SignNote(tlog::FormatCheckpoint(p.checkpoint), log_key_));
  p.published_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (options_.timestamper) {
    auto token = options_.timestamper(p.note);
    if (token.ok()) {
      p.timestamp_token = std::move(*token);
    } else {
      spdlog::warn(R"({{"msg":"no time-stamp for checkpoint","size":{},"code":"{}"}})", size, token.error().code);
    }
  }
  if (options_.anchor) {
    auto anchored = options_.anchor(p.checkpoint);
    if (anchored.ok()) {
      p.anchor_tx_id = std::move(*anchored);
    } else {
      spdlog::warn(R"({{"msg":"checkpoint not anchored","size":{},"code":"{}"}})", size, anchored.error().code);
    }
  }
  std::lock_guard lock(mu_);
  recent_.push_back(std::move(p));
  while (recent_.size() > std::max<size_t>(options_.kept_checkpoints, 1)) recent_.erase(recent_.begin());
  return SaveCheckpoints();
}

uint64_t ReportLog::Size() const {
  return tree_->CommittedSize();
}

std::optional<PublishedCheckpoint> ReportLog::Latest() const {
  std::lock_guard lock(mu_);
  if (recent_.empty()) return std::nullopt;
  return recent_.back();
}

Result<std::pair<uint64_t, uint64_t>> ReportLog::LeafRangeOfBlock(uint64_t block_number) const {
  std::lock_guard lock(mu_);
  if (block_number >= block_ends_.size()) {
    return MakeError(ErrorKind::kConflict, "receipt_not_ready", "the log has not yet reached this block");
  }
  const uint64_t begin = block_number == 0 ? 0 : block_ends_[block_number - 1];
  return std::make_pair(begin, block_ends_[block_number]);
}

Result<LeafProof> ReportLog::ProveTransaction(const std::string& tx_id, uint64_t block_number) const {
  ML_ASSIGN_OR_RETURN(auto range, LeafRangeOfBlock(block_number));
  std::optional<uint64_t> index;
  std::string leaf;
  for (uint64_t i = range.first; i < range.second && !index; ++i) {
    ML_ASSIGN_OR_RETURN(leaf, tree_->Leaf(i));
    auto parsed = reportlog::ParseLeaf(leaf);
    if (parsed.ok() && parsed->tx_id == tx_id) index = i;
  }
  if (!index) return MakeError(ErrorKind::kNotFound, "leaf_not_found", "the transaction has no leaf in the log");
  std::optional<PublishedCheckpoint> best;
  {
    std::lock_guard lock(mu_);
    for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
      if (it->checkpoint.size <= *index) break;  // older ones are smaller still
      if (!best || it->cosignatures.size() > best->cosignatures.size()) best = *it;
    }
  }
  if (!best) {
    return MakeError(ErrorKind::kConflict, "receipt_not_ready",
                     "the log has not yet published a checkpoint covering this transaction; retry in a second");
  }
  LeafProof out;
  out.index = *index;
  out.leaf = std::move(leaf);
  ML_ASSIGN_OR_RETURN(out.inclusion_proof, tree_->InclusionProof(*index, best->checkpoint.size));
  out.checkpoint = std::move(*best);
  return out;
}

Status ReportLog::AddCosignature(std::string_view checkpoint_note, std::string_view line) {
  auto opened = tlog::OpenCheckpoint(checkpoint_note, verifier_);
  if (!opened.ok()) return opened.error();
  auto sig = tlog::ParseSignatureLine(line);
  if (!sig.ok()) return sig.error();
  const tlog::NoteVerifier* witness = nullptr;
  for (const auto& w : options_.witnesses) {
    if (w.name() == sig->name && w.key_id() == sig->key_id) witness = &w;
  }
  if (!witness) {
    return MakeError(ErrorKind::kPermissionDenied, "cosignature_unknown_key",
                     "the cosignature is from a witness this log does not list");
  }
  if (auto verified = tlog::VerifyCosignature(*witness, opened->note.text, line); !verified.ok()) {
    return verified.error();
  }
  std::string normalized = sig->Line();
  if (!normalized.empty() && normalized.back() == '\n') normalized.pop_back();
  std::lock_guard lock(mu_);
  for (auto& p : recent_) {
    if (p.checkpoint != opened->checkpoint) continue;
    // One cosignature per witness per checkpoint: a newer one from the same witness replaces it.
    auto same = std::find_if(p.cosignatures.begin(), p.cosignatures.end(), [&](const std::string& c) {
      auto parsed = tlog::ParseSignatureLine(c);
      return parsed.ok() && parsed->name == sig->name;
    });
    if (same != p.cosignatures.end()) {
      *same = normalized;
    } else if (p.cosignatures.size() < kMaxCosignatures) {
      p.cosignatures.push_back(normalized);
    }
    return SaveCheckpoints();
  }
  return MakeError(ErrorKind::kNotFound, "checkpoint_unknown", "not a checkpoint this log published recently");
}

Result<std::string> ReportLog::Tile(int level, uint64_t n, uint64_t width) const {
  return tree_->Tile(level, n, width);
}

Result<std::string> ReportLog::EntryBundle(uint64_t n, uint64_t width) const {
  return tree_->EntryBundle(n, width);
}

Result<std::vector<std::string>> ReportLog::InclusionProof(uint64_t index, uint64_t size) const {
  if (size > Size()) return MakeError(ErrorKind::kInvalidArgument, "size_out_of_range", "beyond the log's size");
  return tree_->InclusionProof(index, size);
}

Result<std::vector<std::string>> ReportLog::ConsistencyProof(uint64_t from, uint64_t to) const {
  if (to > Size()) return MakeError(ErrorKind::kInvalidArgument, "size_out_of_range", "beyond the log's size");
  return tree_->ConsistencyProof(from, to);
}

}  // namespace medledger::service
