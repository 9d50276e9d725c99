#include "content/embedded_store.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <system_error>

#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::content {

Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::Open(const std::filesystem::path& dir,
                                                           const EmbeddedStoreOptions& options) {
  ML_ASSIGN_OR_RETURN(
      auto blocks, BlockStore::Open(dir / "blocks", BlockStoreOptions{options.sync, options.pack_bytes, options.env}));
  ML_ASSIGN_OR_RETURN(auto pins, PinLog::Open(dir, options.sync, options.env));
  return std::unique_ptr<EmbeddedStore>(new EmbeddedStore(std::move(blocks), std::move(pins), options));
}

Result<std::string> EmbeddedStore::Add(std::string_view bytes, const AddOptions& options) {
  // The ContentStore contract: CIDv0 always uses dag-pb leaves (like `ipfs add` without --raw-leaves).
  ImportOptions io = ImportOptions::Ipfs(options.cid_version, options.cid_version == 1 && options.raw_leaves);
  io.threads = std::max(1u, options_.threads);
  // Leaves are written by the hashing threads as they go, so hashing and writing overlap. A large input goes
  // through a batch writer per thread (aligned, unbuffered writes of many leaves at once); a small one is
  // written leaf by leaf, so it neither waits for a batch to fill nor pays for its alignment.
  std::vector<BlockStore::BatchWriter> batches;
  if (bytes.size() >= kBatchedAddBytes) {
    for (unsigned i = 0; i < io.threads; ++i) batches.push_back(blocks_.NewBatchWriter());
    io.leaf_sink = [&batches](unsigned worker, const Cid& cid, std::string_view data) {
      return batches[worker].Add(cid, data);
    };
  } else {
    io.leaf_sink = [this](unsigned, const Cid& cid, std::string_view data) { return blocks_.WriteOne(cid, data); };
  }
  std::shared_lock lock(gc_mutex_);
  ML_ASSIGN_OR_RETURN(auto dag, ImportFile(bytes, io));
  for (auto& batch : batches) ML_RETURN_IF_ERROR(batch.Flush());
  std::vector<std::pair<Cid, std::string_view>> blocks;
  blocks.reserve(dag.blocks.size());
  for (const auto& b : dag.blocks) blocks.emplace_back(b.cid, b.data());
  // Writes the inner nodes (leaves are already there) and, when syncing, flushes the pack once for all.
  ML_RETURN_IF_ERROR(blocks_.PutMany(blocks));
  // Every block of this DAG was just written: no need to walk it before pinning.
  if (options.pin) ML_RETURN_IF_ERROR(WritePin(dag.root));
  return dag.root.ToString();
}

BlockFetcher EmbeddedStore::Fetcher() const {
  return [this](const Cid& cid, std::string* out) { return blocks_.Read(cid, out); };
}

Result<std::string> EmbeddedStore::Cat(std::string_view text) {
  ML_ASSIGN_OR_RETURN(auto cid, Cid::Parse(text));
  std::shared_lock lock(gc_mutex_);
  return ReadUnixFsFile(Fetcher(), cid, options_.read_limits);
}

Status EmbeddedStore::PinLocked(const Cid& cid) {
  // A recursive pin is only taken over a complete DAG, so GC can trust it.
  ML_RETURN_IF_ERROR(WalkDag(Fetcher(), cid, [](const Cid&, std::string_view) { return OkStatus(); }));
  return WritePin(cid);
}

Status EmbeddedStore::WritePin(const Cid& cid) {
  return pins_->Add(cid);
}

Status EmbeddedStore::Pin(std::string_view text) {
  ML_ASSIGN_OR_RETURN(auto cid, Cid::Parse(text));
  std::shared_lock lock(gc_mutex_);
  return PinLocked(cid);
}

Status EmbeddedStore::Unpin(std::string_view text) {
  ML_ASSIGN_OR_RETURN(auto cid, Cid::Parse(text));
  std::shared_lock lock(gc_mutex_);
  return pins_->Remove(cid);
}

Result<bool> EmbeddedStore::Has(std::string_view text) {
  ML_ASSIGN_OR_RETURN(auto cid, Cid::Parse(text));
  return blocks_.Has(cid);
}

// An unreadable pin must stop GC rather than read as "not pinned" and let its content be deleted.
Result<std::vector<std::string>> EmbeddedStore::Pins() const {
  return pins_->List();
}

Result<GcStats> EmbeddedStore::CollectGarbage() {
  std::unique_lock lock(gc_mutex_);
  ML_ASSIGN_OR_RETURN(auto pins, Pins());
  std::set<std::string> live;
  for (const auto& text : pins) {
    ML_ASSIGN_OR_RETURN(auto cid, Cid::Parse(text));
    // A damaged pinned DAG stops GC: deleting around corruption could lose what is still readable.
    ML_RETURN_IF_ERROR(WalkDag(Fetcher(), cid, [&live](const Cid& c, std::string_view) {
      live.insert(c.digest());
      return OkStatus();
    }));
  }
  GcStats stats;
  // Holding the lock exclusively means no write of this process is in flight: any temp file is litter.
  ML_ASSIGN_OR_RETURN(stats.temporaries, blocks_.RemoveTemporaries());
  std::vector<std::string> dead;
  ML_RETURN_IF_ERROR(blocks_.ForEach([&](const std::string& digest) {
    if (live.count(digest)) {
      ++stats.kept;
    } else {
      dead.push_back(digest);
    }
  }));
  for (const auto& d : dead) {
    ML_RETURN_IF_ERROR(blocks_.Delete(d));
    ++stats.removed;
  }
  if (!dead.empty()) {
    ML_ASSIGN_OR_RETURN(stats.compaction, blocks_.Compact());
  }
  return stats;
}

Result<std::string> EmbeddedStore::GetBlock(const Cid& cid) const {
  ML_ASSIGN_OR_RETURN(auto block, blocks_.Get(cid));
  if (!cid.Matches(block)) {
    return MakeError(ErrorKind::kCorruption, "content_corrupted",
                     "block " + cid.ToString() + " does not match its hash");
  }
  return block;
}

Status EmbeddedStore::PutBlocks(const std::vector<std::pair<Cid, std::string_view>>& blocks) {
  for (const auto& [cid, data] : blocks) {
    if (!cid.Matches(data)) {
      return MakeError(ErrorKind::kCorruption, "content_corrupted",
                       "block " + cid.ToString() + " does not match its hash");
    }
  }
  std::shared_lock lock(gc_mutex_);
  return blocks_.PutMany(blocks);
}

}  // namespace medledger::content
