// Blocks on disk, one file per block in a directory sharded by the first byte of the digest:
// <dir>/<hh>/<64 hex digest>. Writes go to a temporary file, are fsynced (unless disabled for tests and
// benchmarks) and renamed into place, so a crash leaves either the whole block or none. Blocks are keyed by
// digest alone (like the IPFS blockstore keyed by multihash): the codec lives in the CID that names them.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "content/cid.h"

namespace medledger::content {

class BlockStore {
 public:
  // Creates `dir` if needed. "io_error" when it cannot.
  static Result<BlockStore> Open(std::filesystem::path dir, bool sync = true, unsigned threads = 2);

  // Stores the blocks (skipping those already present) and makes them durable before returning.
  Status PutMany(const std::vector<std::pair<Cid, std::string_view>>& blocks);
  Status Put(const Cid& cid, std::string_view data) { return PutMany({{cid, data}}); }
  // One block, fdatasynced (when syncing) but without its directory fsync: a later PutMany naming the
  // same block skips rewriting it and fsyncs its shard. Safe to call from several threads.
  Status WriteOne(const Cid& cid, std::string_view data) const;
  // The stored bytes, NOT verified here (readers re-hash): "block_not_found", "io_error".
  Result<std::string> Get(const Cid& cid) const;
  Status Read(const Cid& cid, std::string* out) const;  // like Get, reusing `*out`'s capacity
  bool Has(const Cid& cid) const;
  Status Delete(const std::string& digest);
  // Deletes "*.tmp.*" files that interrupted writes left behind; only safe while no write is in flight.
  Result<size_t> RemoveTemporaries();
  // Every stored digest (raw 32 bytes); "io_error".
  Status ForEach(const std::function<void(const std::string& digest)>& fn) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  BlockStore(std::filesystem::path dir, bool sync, unsigned threads) : dir_(std::move(dir)), sync_(sync), threads_(threads) {}
  std::filesystem::path PathOf(const std::string& digest) const;
  // Writes (and, when syncing, fdatasyncs) blocks[begin, end); returns the first error.
  Status WriteRange(const std::vector<std::pair<Cid, std::string_view>>& blocks, size_t begin, size_t end) const;

  std::filesystem::path dir_;
  bool sync_;
  unsigned threads_;
};

}  // namespace medledger::content
