// Reassembles a UnixFS file from its DAG, re-hashing every block against the CID that named it. Shared by
// the embedded store (blocks on disk) and CAR import (blocks in a file).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "content/cid.h"

namespace medledger::content {

// Reads the bytes of one block, unverified, into `*out` (whose capacity is reused across calls, which saves
// an allocation and its page faults per 256 KiB block); "block_not_found" when absent.
using BlockFetcher = std::function<Status(const Cid&, std::string* out)>;

struct ReadLimits {
  uint64_t max_file_size = uint64_t{1} << 32;  // refuse DAGs claiming more (a decompression bomb guard)
  int max_depth = 32;                          // 174^32 chunks is far beyond any real file
};

// Codes: "content_corrupted" (a block does not hash to its CID, or sizes in the DAG disagree with the data),
// "unixfs_unsupported" (directories, symlinks, HAMT shards), "content_too_large", dagpb_* / unixfs_*.
Result<std::string> ReadUnixFsFile(const BlockFetcher& fetch, const Cid& root, const ReadLimits& limits = {});

// Calls `visit` for every block of the DAG under `root` (parents before children, each verified),
// e.g. to export it as a CAR or to mark it reachable.
Status WalkDag(const BlockFetcher& fetch, const Cid& root,
               const std::function<Status(const Cid&, std::string_view)>& visit, int max_depth = 32);

}  // namespace medledger::content
