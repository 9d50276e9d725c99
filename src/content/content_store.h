// The ContentStore interface: content-addressed storage that speaks IPFS. The embedded block store and
// the Kubo RPC client both implement it; CIDs are exactly those `ipfs add` computes for the same options.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

struct AddOptions {
  int cid_version = 1;     // 0 or 1
  bool raw_leaves = true;  // ipfs: implied by --cid-version=1; CIDv0 always uses dag-pb leaves
  bool pin = true;
};

class ContentStore {
 public:
  virtual ~ContentStore() = default;

  // Stores `bytes` as a UnixFS file (256 KiB chunks, balanced DAG, <= 174 links per node) and
  // returns the root CID as text (CIDv1: base32 lower "b..."; CIDv0: base58btc "Qm...").
  virtual Result<std::string> Add(std::string_view bytes, const AddOptions& options) = 0;
  // The file's bytes; every block read is re-hashed against its CID ("content_corrupted" on mismatch).
  virtual Result<std::string> Cat(std::string_view cid) = 0;
  virtual Status Pin(std::string_view cid) = 0;
  virtual Status Unpin(std::string_view cid) = 0;
  virtual Result<bool> Has(std::string_view cid) = 0;
};

}  // namespace medledger::content
