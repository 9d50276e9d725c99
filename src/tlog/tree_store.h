// A durable, append-only Merkle tree in one directory, laid out as C2SP tlog-tiles wants to serve it:
//
//   level-<k>.hashes   32-byte hashes of tile level k: level 0 the leaf hashes, level k the roots of the
//                      complete 256^k-leaf subtrees (tile height 8). Interior nodes between tile levels are
//                      recomputed from the level below (at most 255 hashes per node).
//   entries.data       the leaves' bytes, back to back
//   entries.index      the end offset of each leaf in entries.data (8 bytes, big-endian)
//   meta               "medledger-tlog/1\n<committed size>\n<cursor>\n", replaced atomically
//   lock               flock'ed while the store is open: one process at a time
//
// Appends are buffered in memory; Commit makes them durable (fsync of the data files, then the meta file by
// atomic rename), together with the caller's cursor (e.g. the last block number folded in). Open truncates
// everything beyond the committed size, so a crash (kill -9) at any point leaves exactly the last committed
// state and the caller re-appends from its cursor.
//
// Thread-safe: every method takes the store's mutex.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "io/env.h"
#include "tlog/merkle.h"
#include "tlog/tile_path.h"

namespace medledger::tlog {

inline constexpr size_t kMaxLeafSize = 65535;            // tile entry bundles carry a uint16 length
inline constexpr uint64_t kMaxPendingLeaves = 1 << 20;   // appended but not committed
inline constexpr uint64_t kMaxPendingBytes = 256 << 20;  // their bytes

class TreeStore : public HashReader {
 public:
  // Creates the directory (owner-only) if needed. "tlog_locked" if another process has it open,
  // "tlog_corrupt" if a data file is shorter than the committed size says, "io_error". The lock and the
  // meta file go through `env` (null: io::Env::Default()); the hash and entry files are read and written
  // at offsets with pread/pwrite, which io::Env does not offer yet.
  static Result<std::unique_ptr<TreeStore>> Open(const std::filesystem::path& dir, io::Env* env = nullptr);
  ~TreeStore() override;
  TreeStore(const TreeStore&) = delete;
  TreeStore& operator=(const TreeStore&) = delete;

  // Buffers one leaf ("leaf_too_large" beyond 65535 bytes; "tlog_pending_full" beyond 2^20 leaves or 256 MiB
  // since the last Commit). Not durable until Commit.
  Status Append(std::string_view leaf);
  // Drops every leaf appended since the last Commit.
  void DiscardPending();
  Status Commit(uint64_t cursor);

  uint64_t Size() const;  // committed + pending
  uint64_t CommittedSize() const;
  uint64_t CommittedCursor() const;

  // Reads see pending leaves too. "index_out_of_range" / "size_out_of_range" beyond Size().
  Result<std::string> Leaf(uint64_t index) const;
  Result<std::string> RootHash(uint64_t size) const;
  Result<std::vector<std::string>> InclusionProof(uint64_t index, uint64_t size) const;
  Result<std::vector<std::string>> ConsistencyProof(uint64_t m, uint64_t n) const;
  // C2SP tlog-tiles: hashes [n*256, n*256 + width) of tile level `level`, concatenated ("tile_not_found"
  // when the tree does not have them yet).
  Result<std::string> Tile(int level, uint64_t n, uint64_t width) const;
  // Leaves [n*256, n*256 + width), each as a big-endian uint16 length and its bytes.
  Result<std::string> EntryBundle(uint64_t n, uint64_t width) const;

  Result<std::string> StoredHash(int level, uint64_t index) const override;

 private:
  struct HashLevel {
    UniqueFd fd;
    uint64_t flushed = 0;              // hashes in the file
    std::vector<std::string> pending;  // hashes after them
  };
  class Unlocked;                 // HashReader over the store for callers already holding mu_
  using TileNodes = std::string;  // the 254 interior nodes of a complete tile, level by level, bottom-up
  static constexpr size_t kMaxCachedTiles = 4096;  // ~32 MiB

  TreeStore(std::filesystem::path dir, io::Env* env, std::unique_ptr<io::FileLock> lock)
      : dir_(std::move(dir)), env_(env), lock_(std::move(lock)) {}
  Status Load();
  Status OpenLevel(size_t k);
  uint64_t SizeLocked() const { return committed_size_ + pending_entries_.size(); }
  Result<std::string> LevelHash(size_t k, uint64_t i) const;
  // Hashes [start, start + count) of level k, concatenated: one read for the part on disk.
  Result<std::string> LevelRange(size_t k, uint64_t start, uint64_t count) const;
  Result<std::string> StoredHashLocked(int level, uint64_t index) const;
  Result<const TileNodes*> CompleteTileNodes(size_t k, uint64_t tile) const;
  Result<std::string> LeafLocked(uint64_t index) const;
  Result<uint64_t> EntryEnd(uint64_t index) const;  // end offset of committed entry `index`
  Status WriteMeta(uint64_t size, uint64_t cursor);

  std::filesystem::path dir_;
  io::Env* env_;
  std::unique_ptr<io::FileLock> lock_;
  mutable std::mutex mu_;
  std::vector<HashLevel> levels_;
  UniqueFd entries_data_;
  UniqueFd entries_index_;
  uint64_t committed_size_ = 0;
  uint64_t committed_cursor_ = 0;
  uint64_t data_size_ = 0;  // committed bytes of entries.data
  std::vector<std::string> pending_entries_;
  uint64_t pending_bytes_ = 0;
  mutable std::unordered_map<uint64_t, TileNodes> tile_nodes_;  // cache of committed complete tiles
};

}  // namespace medledger::tlog
