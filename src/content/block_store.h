// Blocks on disk in append-only pack files: <dir>/pack-NNNNNNNN.dat, each a sequence of records
//
//   magic "MLB1" | kind (1 block, 2 tombstone, 3 padding) | 3 zero bytes | data length u32 LE | 4 zero bytes |
//   digest (32 raw bytes, the SHA-256 of the data) | data
//
// plus an index in memory (digest -> pack, offset, length). A pack is sealed once it reaches the pack size:
// appends move on to the next pack while a background thread fdatasyncs it and writes a sidecar <pack>.idx
// (the records' digests, kinds, offsets, lengths and a SHA-256 over them), so opening a large store reads the
// small indexes, not the data; a pack without an intact index is walked instead. The open pack is
// re-scanned on open and every record's data re-hashed; an invalid tail (a write a crash cut short, never an
// acknowledged one) is copied aside to <pack>.torn-<offset> and truncated, so nothing is silently discarded.
// Block appends reserve space under a lock and write outside it, so they overlap; the walk on open steps over
// a hole an unfinished one left before finished ones (docs/CONTENT.md, "Open").
// Deleting appends a tombstone (the later record wins on open); Compact rewrites the live records of mostly
// dead sealed packs and removes them.
//
// Why packs and not a file per block (as before, and as Kubo's flatfs): creating, writing and renaming a file
// per block made small adds cost ~150-250 µs of kernel time each, and syncing a store meant flushing a
// directory per shard. An append is one pwritev, and one fdatasync covers every block written before it.
//
// Blocks are keyed by digest alone (like the IPFS blockstore keyed by multihash): the codec lives in the CID
// that names them. Stores written by earlier versions (one file per block under <dir>/<hh>/<hex>) stay
// readable, listable and deletable in place; new blocks go to packs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "content/cid.h"
#include "io/env.h"

namespace medledger::content {

struct BlockStoreOptions {
  bool sync = true;                           // fdatasync before PutMany/Sync return; off for tests, benchmarks and
                                              // callers that flush with a filesystem-wide barrier instead
  uint64_t pack_bytes = uint64_t{512} << 20;  // seal a pack once it reaches this size
  // Index, lock and legacy block files go through this (null: io::Env::Default()); the pack files are
  // written at offsets through their descriptors (io/posix_util.h).
  io::Env* env = nullptr;
};

struct CompactStats {
  size_t packs_rewritten = 0;
  size_t records_moved = 0;
  uint64_t bytes_reclaimed = 0;
};

class BlockStore {
  struct State;

 public:
  // Creates `dir` if needed, takes its lock (one store per directory at a time, across processes: an open
  // next to a live writer could mistake its append in progress for a torn tail), loads the indexes and
  // repairs a torn tail. "io_error", "store_locked".
  static Result<BlockStore> Open(std::filesystem::path dir, const BlockStoreOptions& options = {});
  BlockStore(BlockStore&&) noexcept;
  BlockStore& operator=(BlockStore&&) noexcept;
  ~BlockStore();

  // Stores the blocks (skipping those already present) and, when syncing, makes them durable before returning.
  Status PutMany(const std::vector<std::pair<Cid, std::string_view>>& blocks);
  Status Put(const Cid& cid, std::string_view data) { return PutMany({{cid, data}}); }
  // Appends one block without waiting for the disk: durable once a later PutMany or Sync returns (or a
  // filesystem barrier). Safe to call from several threads.
  Status WriteOne(const Cid& cid, std::string_view data);
  Status Sync();  // fdatasync of the open pack (sealed packs already are)

  // Collects one writer thread's blocks and appends them as one batch of records per ~8 MiB, at a 4 KiB
  // aligned offset (a padding record fills the gap) and written with O_DIRECT where the filesystem allows.
  // For large imports: a buffered write copies every byte into the page cache and is then throttled to the
  // disk's writeback rate, which here halves a large add (docs/BENCHMARKS.md, "Content"). Blocks are readable
  // once their batch is flushed and durable as with WriteOne; what is not flushed when the writer goes is
  // dropped. One thread per writer, and a writer must not outlive its store.
  class BatchWriter {
   public:
    BatchWriter(BatchWriter&&) noexcept;
    BatchWriter& operator=(BatchWriter&&) noexcept;
    ~BatchWriter();
    Status Add(const Cid& cid, std::string_view data);
    Status Flush();

   private:
    friend class BlockStore;
    struct Buffer;
    BatchWriter(State* state, size_t batch_bytes);
    State* state_;  // not the BlockStore, which may move
    std::unique_ptr<Buffer> buffer_;
  };
  BatchWriter NewBatchWriter(size_t batch_bytes = size_t{8} << 20);
  // The stored bytes, NOT verified here (readers re-hash): "block_not_found", "io_error".
  Result<std::string> Get(const Cid& cid) const;
  Status Read(const Cid& cid, std::string* out) const;  // like Get, reusing `*out`'s capacity
  bool Has(const Cid& cid) const;
  Status Delete(const std::string& digest);
  // Rewrites sealed packs whose dead bytes exceed `max_dead_fraction` of their size; only the space of
  // deleted blocks is reclaimed, never a live one (copied and synced before its pack is removed).
  Result<CompactStats> Compact(double max_dead_fraction = 0.5);
  // Deletes "*.tmp.*" files that interrupted writes of the one-file-per-block layout left behind; only safe
  // while no write is in flight.
  Result<size_t> RemoveTemporaries();
  // Every stored digest (raw 32 bytes); "io_error".
  Status ForEach(const std::function<void(const std::string& digest)>& fn) const;

  // Where a block's bytes are on disk (for `medledger` diagnostics and tests).
  struct Location {
    std::filesystem::path file;
    uint64_t offset = 0;  // of the data, past the record header
    uint32_t size = 0;
  };
  std::optional<Location> Locate(const std::string& digest) const;

  const std::filesystem::path& dir() const;

 private:
  explicit BlockStore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace medledger::content
