#include "tlog/merkle.h"

#include <bit>

#include "crypto/hash.h"

namespace medledger::tlog {
namespace {

// The largest power of two strictly below n (n >= 2): RFC 9162's split point.
uint64_t SplitPoint(uint64_t n) {
  return std::bit_floor(n - 1);
}

Error Invalid(const char* code, const char* message) {
  return MakeError(ErrorKind::kInvalidArgument, code, message);
}

// The hash of leaves [lo, hi). Every range the RFC recursion produces starts on a multiple of its largest
// power-of-two part, so the complete left parts are always stored subtrees.
Result<std::string> SubtreeHash(const HashReader& r, uint64_t lo, uint64_t hi) {
  const uint64_t n = hi - lo;
  if (std::has_single_bit(n) && lo % n == 0) {
    return r.StoredHash(std::countr_zero(n), lo >> std::countr_zero(n));
  }
  const uint64_t k = SplitPoint(n);
  ML_ASSIGN_OR_RETURN(std::string left, SubtreeHash(r, lo, lo + k));
  ML_ASSIGN_OR_RETURN(std::string right, SubtreeHash(r, lo + k, hi));
  return NodeHash(left, right);
}

Status AppendPath(const HashReader& r, uint64_t m, uint64_t lo, uint64_t hi, std::vector<std::string>* out) {
  if (hi - lo == 1) return OkStatus();
  const uint64_t k = SplitPoint(hi - lo);
  if (m < lo + k) {
    ML_RETURN_IF_ERROR(AppendPath(r, m, lo, lo + k, out));
    ML_ASSIGN_OR_RETURN(std::string h, SubtreeHash(r, lo + k, hi));
    out->push_back(std::move(h));
  } else {
    ML_RETURN_IF_ERROR(AppendPath(r, m, lo + k, hi, out));
    ML_ASSIGN_OR_RETURN(std::string h, SubtreeHash(r, lo, lo + k));
    out->push_back(std::move(h));
  }
  return OkStatus();
}

// RFC 9162 SUBPROOF(m, D[lo:hi], b), with m counted from lo.
Status AppendSubproof(const HashReader& r, uint64_t m, uint64_t lo, uint64_t hi, bool b,
                      std::vector<std::string>* out) {
  const uint64_t n = hi - lo;
  if (m == n) {
    if (b) return OkStatus();
    ML_ASSIGN_OR_RETURN(std::string h, SubtreeHash(r, lo, hi));
    out->push_back(std::move(h));
    return OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    ML_RETURN_IF_ERROR(AppendSubproof(r, m, lo, lo + k, b, out));
    ML_ASSIGN_OR_RETURN(std::string h, SubtreeHash(r, lo + k, hi));
    out->push_back(std::move(h));
  } else {
    ML_RETURN_IF_ERROR(AppendSubproof(r, m - k, lo + k, hi, false, out));
    ML_ASSIGN_OR_RETURN(std::string h, SubtreeHash(r, lo, lo + k));
    out->push_back(std::move(h));
  }
  return OkStatus();
}

Status CheckHashes(const std::vector<std::string>& proof) {
  if (proof.size() > kMaxProofHashes) return Invalid("proof_malformed", "a proof has at most 64 hashes");
  for (const auto& h : proof) {
    if (h.size() != kHashSize) return Invalid("proof_malformed", "every proof hash is 32 bytes");
  }
  return OkStatus();
}

}  // namespace

std::string LeafHash(std::string_view leaf) {
  crypto::Sha256Hasher h;
  h.Update(std::string_view("\x00", 1));
  h.Update(leaf);
  return h.Finish();
}

std::string NodeHash(std::string_view left, std::string_view right) {
  crypto::Sha256Hasher h;
  h.Update("\x01");
  h.Update(left);
  h.Update(right);
  return h.Finish();
}

std::string EmptyRoot() {
  return crypto::Sha256("");
}

Result<std::string> RootHash(const HashReader& reader, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(reader, 0, size);
}

Result<std::vector<std::string>> InclusionProof(const HashReader& reader, uint64_t index, uint64_t size) {
  if (index >= size) return Invalid("index_out_of_range", "the leaf index must be below the tree size");
  std::vector<std::string> proof;
  ML_RETURN_IF_ERROR(AppendPath(reader, index, 0, size, &proof));
  return proof;
}

Result<std::vector<std::string>> ConsistencyProof(const HashReader& reader, uint64_t m, uint64_t n) {
  if (m > n) return Invalid("size_out_of_range", "the old size must not exceed the new size");
  std::vector<std::string> proof;
  if (m == 0 || m == n) return proof;
  ML_RETURN_IF_ERROR(AppendSubproof(reader, m, 0, n, true, &proof));
  return proof;
}

Status VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size, const std::vector<std::string>& proof,
                       std::string_view root) {
  ML_RETURN_IF_ERROR(CheckHashes(proof));
  if (leaf_hash.size() != kHashSize || root.size() != kHashSize) {
    return Invalid("proof_malformed", "leaf and root hashes are 32 bytes");
  }
  if (index >= size) return Invalid("index_out_of_range", "the leaf index must be below the tree size");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const auto& p : proof) {
    if (sn == 0) return Invalid("proof_wrong_length", "the inclusion proof is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("proof_wrong_length", "the inclusion proof is shorter than the tree is deep");
  if (!crypto::ConstantTimeEquals(r, root)) {
    return Invalid("inclusion_proof_invalid", "the inclusion proof does not lead to the root");
  }
  return OkStatus();
}

Status VerifyConsistency(uint64_t m, uint64_t n, std::string_view old_root, std::string_view new_root,
                         const std::vector<std::string>& proof) {
  ML_RETURN_IF_ERROR(CheckHashes(proof));
  if (old_root.size() != kHashSize || new_root.size() != kHashSize) {
    return Invalid("proof_malformed", "root hashes are 32 bytes");
  }
  if (m > n) return Invalid("size_out_of_range", "the old size must not exceed the new size");
  if (m == 0 || m == n) {
    if (!proof.empty()) return Invalid("proof_wrong_length", "this consistency proof must be empty");
    // The empty tree is a prefix of every tree, but only the empty tree's root describes it.
    if (m == 0 && old_root != EmptyRoot()) {
      return Invalid("consistency_proof_invalid", "a tree of size 0 has the empty root");
    }
    if (m == n && old_root != new_root) {
      return Invalid("consistency_proof_invalid", "two trees of the same size have different roots");
    }
    return OkStatus();
  }
  if (proof.empty()) return Invalid("proof_wrong_length", "the consistency proof is empty");
  std::vector<std::string_view> path(proof.begin(), proof.end());
  if (std::has_single_bit(m)) path.insert(path.begin(), old_root);
  uint64_t fn = m - 1;
  uint64_t sn = n - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr(path[0]);
  std::string sr(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    if (sn == 0) return Invalid("proof_wrong_length", "the consistency proof is too long");
    const std::string_view c = path[i];
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("proof_wrong_length", "the consistency proof is too short");
  if (!crypto::ConstantTimeEquals(fr, old_root) || !crypto::ConstantTimeEquals(sr, new_root)) {
    return Invalid("consistency_proof_invalid", "the consistency proof does not link the two roots");
  }
  return OkStatus();
}

void MemoryTree::AppendLeafHash(std::string hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(std::move(hash));
  // Each completed pair at a level completes one node at the next.
  for (size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    if (levels_.size() == level + 1) levels_.emplace_back();
    const auto& cur = levels_[level];
    levels_[level + 1].push_back(NodeHash(cur[cur.size() - 2], cur[cur.size() - 1]));
  }
}

Result<std::string> MemoryTree::StoredHash(int level, uint64_t index) const {
  if (level < 0 || static_cast<size_t>(level) >= levels_.size() || index >= levels_[level].size()) {
    return MakeError(ErrorKind::kNotFound, "hash_not_found", "no such complete subtree");
  }
  return levels_[level][index];
}

}  // namespace medledger::tlog
