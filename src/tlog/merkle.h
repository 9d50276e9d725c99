// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification.
//
// Hashes are 32 raw bytes in std::string. Trees are read through a HashReader that returns the roots of
// complete, aligned subtrees (2^level leaves starting at leaf index << level); every other node is computed
// from those, so a store keeps only what it needs (tree_store.h keeps one level in eight).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::tlog {

inline constexpr size_t kHashSize = 32;
// A proof in a tree of at most 2^64 leaves has at most 64 hashes; longer input is refused before any work.
inline constexpr size_t kMaxProofHashes = 64;

std::string LeafHash(std::string_view leaf);                          // SHA-256(0x00 || leaf)
std::string NodeHash(std::string_view left, std::string_view right);  // SHA-256(0x01 || left || right)
std::string EmptyRoot();                                              // SHA-256("")

class HashReader {
 public:
  virtual ~HashReader() = default;
  // The root of the complete subtree of 2^level leaves [index << level, (index + 1) << level).
  virtual Result<std::string> StoredHash(int level, uint64_t index) const = 0;
};

// The root of the first `size` leaves. The caller guarantees size does not exceed the tree.
Result<std::string> RootHash(const HashReader& reader, uint64_t size);
// RFC 9162 §2.1.3.1 audit path, deepest sibling first. "index_out_of_range" unless index < size.
Result<std::vector<std::string>> InclusionProof(const HashReader& reader, uint64_t index, uint64_t size);
// RFC 9162 §2.1.4.1 consistency proof from size m to size n. "size_out_of_range" unless m <= n.
Result<std::vector<std::string>> ConsistencyProof(const HashReader& reader, uint64_t m, uint64_t n);

// Pure verifiers (RFC 9162 §2.1.3.2, §2.1.4.2). Codes: "proof_malformed" (a hash is not 32 bytes or the
// proof is absurdly long), "proof_wrong_length" (the proof has more or fewer hashes than the sizes imply),
// "index_out_of_range", "size_out_of_range", "inclusion_proof_invalid", "consistency_proof_invalid".
Status VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size, const std::vector<std::string>& proof,
                       std::string_view root);
Status VerifyConsistency(uint64_t m, uint64_t n, std::string_view old_root, std::string_view new_root,
                         const std::vector<std::string>& proof);

// An in-memory tree keeping every level: for tests, tools and cross-checks, not for the server.
class MemoryTree : public HashReader {
 public:
  void AppendLeaf(std::string_view leaf) { AppendLeafHash(LeafHash(leaf)); }
  void AppendLeafHash(std::string hash);
  uint64_t Size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Result<std::string> StoredHash(int level, uint64_t index) const override;

 private:
  std::vector<std::vector<std::string>> levels_;
};

}  // namespace medledger::tlog
