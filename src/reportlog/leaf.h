// The report log's leaf (docs/RECEIPTS.md): one committed, valid report event as canonical JSON bytes. The
// bytes are what the Merkle tree hashes, so there is exactly one encoding of a leaf: Parse accepts only what
// Encode produces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::reportlog {

inline constexpr std::string_view kLeafFormat = "medledger-leaf/1";

enum class LeafKind { kCreated, kAmended, kAccessed, kErased };
const char* LeafKindName(LeafKind kind);  // "created", "amended", "accessed", "erased"

struct Leaf {
  LeafKind kind = LeafKind::kCreated;
  std::string report_id;
  int64_t version = 0;
  std::string patient;       // the ledger's pseudonymous patient reference (64 hex)
  std::string cid;           // the envelope's CID
  std::string content_hash;  // hex SHA-256 of the canonical document
  std::string tx_id;         // 64 hex
  uint64_t block_number = 0;
  std::string ledger_time;  // the channel-header timestamp, RFC 3339 with milliseconds

  bool operator==(const Leaf&) const = default;
};

// Canonical JSON: keys sorted, no whitespace. Fields must be printable ASCII without '"' or '\\' (the
// contract's patterns guarantee it for every committed event); otherwise "leaf_field_invalid".
Result<std::string> EncodeLeaf(const Leaf& leaf);
// "leaf_malformed" unless `bytes` is exactly EncodeLeaf of some leaf.
Result<Leaf> ParseLeaf(std::string_view bytes);

}  // namespace medledger::reportlog
