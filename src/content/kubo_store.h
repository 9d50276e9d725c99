// ContentStore over any IPFS node's Kubo RPC API (/api/v0/add, cat, pin/add, pin/ls, pin/rm, block/stat),
// through libcurl. Every call has a connect and a total timeout, reads also pass `timeout=` to the node (js-ipfs
// otherwise waits forever for a missing block), connection failures are retried a bounded number of times
// with exponential backoff, and every CID is checked: the one `add` returns against the one computed
// locally, and `cat`'s bytes against the CID asked for.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "content/content_store.h"

namespace medledger::content {

struct KuboOptions {
  std::string url = "http://127.0.0.1:5001";  // the RPC API's base URL
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{30000};  // whole call, and `timeout=` on the node's side
  int max_attempts = 3;                              // connection failures and 502/503/504 only
  std::chrono::milliseconds initial_backoff{100};    // doubled after each failed attempt
  size_t max_response_bytes = size_t{1} << 30;
};

class KuboStore final : public ContentStore {
 public:
  // "invalid_url" unless the URL is http(s)://...
  static Result<std::unique_ptr<KuboStore>> Create(KuboOptions options);
  ~KuboStore() override;

  // Codes: "ipfs_unavailable" (node down), "ipfs_timeout", "ipfs_error" (the node refused),
  // "ipfs_cid_mismatch" (the node computed another CID), "ipfs_bad_response".
  Result<std::string> Add(std::string_view bytes, const AddOptions& options) override;
  // Also "content_corrupted" when the bytes do not re-import to the CID (default chunking assumed),
  // "content_too_large".
  Result<std::string> Cat(std::string_view cid) override;
  Status Pin(std::string_view cid) override;
  Status Unpin(std::string_view cid) override;  // "not_pinned"
  Result<bool> Has(std::string_view cid) override;
  Result<bool> IsPinned(std::string_view cid);

 private:
  struct Impl;
  explicit KuboStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::content
