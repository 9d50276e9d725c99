// The UnixFS file importer of `ipfs add`: fixed-size chunks, balanced DAG layout, at most 174 links per
// node. For the same bytes and options the root CID equals the one `ipfs add` prints.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "content/cid.h"

namespace medledger::content {

inline constexpr size_t kDefaultChunkSize = 256 * 1024;
inline constexpr size_t kDefaultMaxLinks = 174;

struct ImportOptions {
  int cid_version = 1;
  bool raw_leaves = true;  // CIDv1 raw leaves; with CIDv0, raw leaves get CIDv1 as in `ipfs add --raw-leaves`
  size_t chunk_size = kDefaultChunkSize;
  size_t max_links = kDefaultMaxLinks;
  unsigned threads = 2;  // leaf hashing is spread over this many threads for multi-chunk inputs
  // Called by the hashing thread for each leaf as soon as it is hashed, so a store can write leaves while
  // other chunks are still being hashed. `worker` (< max(1, threads)) names the calling thread: calls for one
  // worker come from one thread, in file order, so a sink can keep per-worker buffers without a lock. The
  // first error aborts the import.
  std::function<Status(unsigned worker, const Cid& cid, std::string_view data)> leaf_sink;

  // The defaults of `ipfs add`: --raw-leaves follows --cid-version unless given.
  static ImportOptions Ipfs(int cid_version, std::optional<bool> raw_leaves = std::nullopt);
};

struct Block {
  Cid cid;
  std::string owned;      // encoded dag-pb node
  std::string_view view;  // a raw leaf: a slice of the imported bytes (no copy)
  bool is_view = false;
  std::string_view data() const { return is_view ? view : std::string_view(owned); }
};

// The DAG of one file. Raw leaves refer into the imported bytes, which must outlive it.
struct ImportedDag {
  Cid root;
  std::vector<Block> blocks;  // every block once, children before parents, root last
};

// "invalid_cid_version", "invalid_import_options".
Result<ImportedDag> ImportFile(std::string_view bytes, const ImportOptions& options);
Result<Cid> ComputeCid(std::string_view bytes, const ImportOptions& options);

}  // namespace medledger::content
