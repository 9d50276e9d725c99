#include "tlog/merkle.h"

#include <gtest/gtest.h>

#include <random>

#include "common/encoding.h"

namespace medledger::tlog {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

// The Certificate Transparency reference tree (RFC 6962 tests, transparency-dev/merkle testonly): its
// eight leaves and the root after each of them.
const char* const kLeaves[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
const char* const kRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

MemoryTree ReferenceTree() {
  MemoryTree t;
  for (const char* leaf : kLeaves) t.AppendLeaf(Unhex(leaf));
  return t;
}

std::vector<std::string> Hashes(std::initializer_list<const char*> hex) {
  std::vector<std::string> out;
  for (const char* h : hex) out.push_back(Unhex(h));
  return out;
}

TEST(Merkle, ReferenceRoots) {
  MemoryTree t = ReferenceTree();
  EXPECT_EQ(HexEncode(RootHash(t, 0).value()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(EmptyRoot(), RootHash(t, 0).value());
  for (uint64_t n = 1; n <= 8; ++n) EXPECT_EQ(HexEncode(RootHash(t, n).value()), kRoots[n - 1]) << n;
}

struct InclusionVector {
  uint64_t index;
  uint64_t size;
  std::vector<std::string> proof;
};

std::vector<InclusionVector> ReferenceInclusion() {
  return {
      {0, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Hashes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {0, 1, {}},
  };
}

TEST(Merkle, ReferenceInclusionProofs) {
  MemoryTree t = ReferenceTree();
  for (const auto& v : ReferenceInclusion()) {
    auto proof = InclusionProof(t, v.index, v.size);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(*proof, v.proof) << v.index << "/" << v.size;
    const std::string leaf = LeafHash(Unhex(kLeaves[v.index]));
    const std::string root = Unhex(kRoots[v.size - 1]);
    EXPECT_TRUE(VerifyInclusion(leaf, v.index, v.size, v.proof, root).ok());
    // The probes of the reference verifier tests: each must fail.
    EXPECT_FALSE(VerifyInclusion(leaf, v.index + 1, v.size, v.proof, root).ok());
    if (v.index > 0) {
      EXPECT_FALSE(VerifyInclusion(leaf, v.index - 1, v.size, v.proof, root).ok());
    }
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size * 2, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(LeafHash("WrongLeaf"), v.index, v.size, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, v.proof, EmptyRoot()).ok());
    auto longer = v.proof;
    longer.push_back(root);
    EXPECT_EQ(VerifyInclusion(leaf, v.index, v.size, longer, root).error().code, "proof_wrong_length");
    if (!v.proof.empty()) {
      auto shorter = v.proof;
      shorter.pop_back();
      EXPECT_EQ(VerifyInclusion(leaf, v.index, v.size, shorter, root).error().code, "proof_wrong_length");
    }
  }
}

TEST(Merkle, ReferenceConsistencyProofs) {
  MemoryTree t = ReferenceTree();
  struct Vector {
    uint64_t m, n;
    std::vector<std::string> proof;
  };
  const Vector vectors[] = {
      {1, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const auto& v : vectors) {
    auto proof = ConsistencyProof(t, v.m, v.n);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(*proof, v.proof) << v.m << "->" << v.n;
    const std::string r1 = Unhex(kRoots[v.m - 1]);
    const std::string r2 = Unhex(kRoots[v.n - 1]);
    EXPECT_TRUE(VerifyConsistency(v.m, v.n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(v.m, v.n, r2, r1, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(v.m + 1, v.n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(v.m - 1, v.n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(v.m, v.n * 2, r1, r2, v.proof).ok());
    EXPECT_EQ(VerifyConsistency(v.m, v.n, r1, r2, {}).error().code, "proof_wrong_length");
    auto prepended = v.proof;
    prepended.insert(prepended.begin(), r1);
    EXPECT_FALSE(VerifyConsistency(v.m, v.n, r1, r2, prepended).ok());
  }
}

TEST(Merkle, TrivialConsistencyCases) {
  const std::string a = LeafHash("a");
  const std::string b = LeafHash("b");
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyRoot(), b, {}).ok());
  EXPECT_TRUE(VerifyConsistency(3, 3, a, a, {}).ok());
  // Same size, different roots: a fork, never consistent.
  EXPECT_EQ(VerifyConsistency(3, 3, a, b, {}).error().code, "consistency_proof_invalid");
  EXPECT_EQ(VerifyConsistency(3, 3, a, a, {a}).error().code, "proof_wrong_length");
  EXPECT_EQ(VerifyConsistency(0, 5, a, b, {}).error().code, "consistency_proof_invalid");
  EXPECT_EQ(VerifyConsistency(4, 3, a, b, {a}).error().code, "size_out_of_range");
  EXPECT_EQ(VerifyConsistency(1, 2, a, b, {std::string(31, 'x')}).error().code, "proof_malformed");
  EXPECT_EQ(VerifyConsistency(1, 2, a, b, std::vector<std::string>(65, a)).error().code, "proof_malformed");
  EXPECT_EQ(VerifyInclusion(a, 0, 0, {}, a).error().code, "index_out_of_range");
  EXPECT_EQ(VerifyInclusion(a, 0, 1, {}, "short").error().code, "proof_malformed");
}

// Every proof of every tree shape up to the bound verifies, and flipping any one byte of it (or of the
// roots) makes it fail. Sizes are exhaustive below 70, then random up to ~2000.
TEST(Merkle, PropertyAllProofsVerifyAndAnyFlipFails) {
  std::mt19937_64 rng(20261207);
  MemoryTree t;
  std::vector<std::string> roots{EmptyRoot()};
  for (int i = 0; i < 2100; ++i) {
    t.AppendLeaf("leaf " + std::to_string(i));
    roots.push_back(RootHash(t, t.Size()).value());
  }
  std::vector<uint64_t> sizes;
  for (uint64_t s = 1; s < 70; ++s) sizes.push_back(s);
  for (int i = 0; i < 12; ++i) sizes.push_back(70 + rng() % 2000);
  sizes.push_back(1024);
  sizes.push_back(2048);
  for (uint64_t size : sizes) {
    ASSERT_EQ(RootHash(t, size).value(), roots[size]);
    const bool exhaustive = size < 70;
    for (uint64_t k = 0; k < (exhaustive ? size : 40); ++k) {
      const uint64_t index = exhaustive ? k : rng() % size;
      auto proof = InclusionProof(t, index, size).value();
      const std::string leaf = LeafHash("leaf " + std::to_string(index));
      ASSERT_TRUE(VerifyInclusion(leaf, index, size, proof, roots[size]).ok()) << index << "/" << size;
      if (!proof.empty()) {
        auto bad = proof;
        const size_t at = rng() % bad.size();
        bad[at][rng() % kHashSize] ^= static_cast<char>(1 << (rng() % 8));
        EXPECT_EQ(VerifyInclusion(leaf, index, size, bad, roots[size]).error().code, "inclusion_proof_invalid");
      }
      std::string bad_root = roots[size];
      bad_root[rng() % kHashSize] ^= 0x40;
      EXPECT_FALSE(VerifyInclusion(leaf, index, size, proof, bad_root).ok());

      const uint64_t m = exhaustive ? k + 1 : 1 + rng() % size;
      auto cproof = ConsistencyProof(t, m, size).value();
      ASSERT_TRUE(VerifyConsistency(m, size, roots[m], roots[size], cproof).ok()) << m << "->" << size;
      if (!cproof.empty()) {
        auto bad = cproof;
        bad[rng() % bad.size()][rng() % kHashSize] ^= 0x01;
        EXPECT_FALSE(VerifyConsistency(m, size, roots[m], roots[size], bad).ok()) << m << "->" << size;
        std::string bad_old = roots[m];
        bad_old[rng() % kHashSize] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(m, size, bad_old, roots[size], cproof).ok());
        EXPECT_FALSE(VerifyConsistency(m, size, roots[m], bad_root, cproof).ok());
      }
    }
  }
}

}  // namespace
}  // namespace medledger::tlog
