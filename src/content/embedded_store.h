// The embedded ContentStore: blocks on local disk (BlockStore, pack files), recursive pins (PinLog), garbage
// collection of unpinned blocks, and re-hashing of every block read. Layout: <dir>/blocks/pack-*.dat,
// <dir>/pins.log.
#pragma once

#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "content/block_store.h"
#include "content/content_store.h"
#include "content/dag_reader.h"
#include "content/importer.h"
#include "content/pin_log.h"

namespace medledger::content {

// Inputs of at least this size are written through batch writers (BlockStore::BatchWriter).
inline constexpr size_t kBatchedAddBytes = size_t{4} << 20;

struct EmbeddedStoreOptions {
  bool sync = true;      // fsync blocks and pins; off for tests, benchmarks and callers with a filesystem barrier
  unsigned threads = 2;  // hashing threads of an add
  uint64_t pack_bytes = uint64_t{512} << 20;
  ReadLimits read_limits;
  // The pin log and the block store's index, lock and legacy files go through this (null:
  // io::Env::Default()), which must outlive the store; pack files are written by descriptor.
  io::Env* env = nullptr;
};

struct GcStats {
  size_t kept = 0;
  size_t removed = 0;
  size_t temporaries = 0;   // litter of interrupted writes (one-file-per-block layout), removed too
  CompactStats compaction;  // packs rewritten to reclaim the removed blocks' space
};

class EmbeddedStore final : public ContentStore {
 public:
  static Result<std::unique_ptr<EmbeddedStore>> Open(const std::filesystem::path& dir,
                                                     const EmbeddedStoreOptions& options = {});

  Result<std::string> Add(std::string_view bytes, const AddOptions& options) override;
  Result<std::string> Cat(std::string_view cid) override;
  Status Pin(std::string_view cid) override;  // recursive; "block_not_found" if any block is missing
  Status Unpin(std::string_view cid) override;
  Result<bool> Has(std::string_view cid) override;

  Result<std::vector<std::string>> Pins() const;  // "pin_corrupted" when a pin file is damaged
  // Removes every block not reachable from a pin; deletes nothing when a pin or a pinned DAG is damaged.
  Result<GcStats> CollectGarbage();

  // Raw block access for CAR export/import.
  Result<std::string> GetBlock(const Cid& cid) const;
  Status PutBlocks(const std::vector<std::pair<Cid, std::string_view>>& blocks);
  BlockFetcher Fetcher() const;
  // Where a block's bytes are on disk (diagnostics, tests); nullopt when absent.
  std::optional<BlockStore::Location> LocateBlock(const Cid& cid) const { return blocks_.Locate(cid.digest()); }

 private:
  EmbeddedStore(BlockStore blocks, std::unique_ptr<PinLog> pins, EmbeddedStoreOptions options)
      : blocks_(std::move(blocks)), pins_(std::move(pins)), options_(options) {}
  Status PinLocked(const Cid& cid);
  Status WritePin(const Cid& cid);

  BlockStore blocks_;
  std::unique_ptr<PinLog> pins_;
  EmbeddedStoreOptions options_;
  // Shared by adds and reads, exclusive for GC, so GC never deletes a block an add is about to pin.
  mutable std::shared_mutex gc_mutex_;
};

}  // namespace medledger::content
