// The embedded ContentStore: blocks on local disk (BlockStore), recursive pins, garbage collection of
// unpinned blocks, and re-hashing of every block read. Layout: <dir>/blocks/..., <dir>/pins/<CIDv1 text>.
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

namespace medledger::content {

struct EmbeddedStoreOptions {
  bool sync = true;  // fsync blocks and pins; off only for tests and benchmarks
  unsigned threads = 2;
  ReadLimits read_limits;
};

struct GcStats {
  size_t kept = 0;
  size_t removed = 0;
  size_t temporaries = 0;  // litter of interrupted writes, removed too
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

 private:
  EmbeddedStore(BlockStore blocks, std::filesystem::path pins_dir, EmbeddedStoreOptions options)
      : blocks_(std::move(blocks)), pins_dir_(std::move(pins_dir)), options_(options) {}
  Status PinLocked(const Cid& cid);
  Status WritePin(const Cid& cid);

  BlockStore blocks_;
  std::filesystem::path pins_dir_;
  EmbeddedStoreOptions options_;
  // Shared by adds and reads, exclusive for GC, so GC never deletes a block an add is about to pin.
  mutable std::shared_mutex gc_mutex_;
};

}  // namespace medledger::content
