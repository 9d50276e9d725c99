// Fuzz-style property tests: the parsers fed random and mutated inputs must return values (ok or a coded
// error), never crash, hang or throw. Seeds are fixed so a failure reproduces; the sanitizer build makes
// out-of-bounds reads fail loudly.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "content/cid.h"
#include "content/dag_pb.h"
#include "content/dag_reader.h"
#include "content/envelope.h"
#include "content/importer.h"
#include "content/multibase.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

std::string Mutate(std::string s, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        if (!s.empty()) s.resize(rng() % s.size());  // truncate
        break;
      case 2:
        s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % s.size()), static_cast<char>(rng()));
        break;
      case 3:
        if (!s.empty()) s.erase(s.begin() + static_cast<long>(rng() % s.size()));
        break;
      default:
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
    }
  }
  return s;
}

void ExpectCoded(const Error& e) {
  EXPECT_FALSE(e.code.empty());
  EXPECT_FALSE(e.message.empty());
}

TEST(Fuzz, CidAndMultibaseParsers) {
  std::mt19937_64 rng(20261123);
  std::vector<std::string> seeds = {
      "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
      Cid::Of(1, kCodecDagPb, "x").ToString(), "z" + Base58BtcEncode(Cid::Of(1, kCodecRaw, "y").Bytes())};
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input = i % 10 == 0 ? crypto::RandomBytes(rng() % 80) : Mutate(seeds[rng() % seeds.size()], rng);
    auto c = Cid::Parse(input);
    if (c.ok()) {
      ++ok;
      // Whatever parses must re-parse from its own canonical forms.
      EXPECT_EQ(Cid::Parse(c->ToString()).value(), *c);
      EXPECT_EQ(Cid::FromBytes(c->Bytes()).value(), *c);
    } else {
      ExpectCoded(c.error());
    }
    auto b = Cid::FromBytes(input);
    if (!b.ok()) ExpectCoded(b.error());
    auto m = MultibaseDecode(input);
    if (!m.ok()) ExpectCoded(m.error());
  }
  EXPECT_GT(ok, 0);  // some mutations (e.g. of the last character) stay valid
}

TEST(Fuzz, DagPbAndUnixFsDecoders) {
  std::mt19937_64 rng(7);
  auto dag = ImportFile(crypto::RandomBytes(5 * 1000),
                        [] {
                          ImportOptions o = ImportOptions::Ipfs(0);
                          o.chunk_size = 1000;
                          o.max_links = 3;
                          return o;
                        }())
                 .value();
  std::vector<std::string> seeds;
  for (const auto& b : dag.blocks) seeds.emplace_back(b.data());
  for (int i = 0; i < 20000; ++i) {
    std::string input = i % 10 == 0 ? crypto::RandomBytes(rng() % 200) : Mutate(seeds[rng() % seeds.size()], rng);
    auto node = DecodePbNode(input);
    if (node.ok()) {
      if (node->data) {
        auto fs = DecodeUnixFs(*node->data);
        if (!fs.ok()) ExpectCoded(fs.error());
      }
    } else {
      ExpectCoded(node.error());
    }
    auto fs = DecodeUnixFs(input);
    if (!fs.ok()) ExpectCoded(fs.error());
  }
}

// A DAG reader over mutated blocks whose CIDs are recomputed (so hashing passes and the structure is what is
// tested): every outcome is the original bytes or a coded error.
TEST(Fuzz, DagReaderOnMutatedDags) {
  std::mt19937_64 rng(99);
  std::string file = crypto::RandomBytes(7 * 500 + 3);
  ImportOptions o = ImportOptions::Ipfs(1, false);
  o.chunk_size = 500;
  o.max_links = 3;
  auto dag = ImportFile(file, o).value();
  for (int i = 0; i < 2000; ++i) {
    std::map<std::string, std::string> blocks;
    for (const auto& b : dag.blocks) blocks[b.cid.digest()] = std::string(b.data());
    // Mutate the root and rename it by its new hash.
    std::string root = Mutate(std::string(dag.blocks.back().data()), rng);
    Cid root_cid = Cid::Of(1, kCodecDagPb, root);
    blocks[root_cid.digest()] = root;
    BlockFetcher fetch = [&blocks](const Cid& c, std::string* out) -> Status {
      auto it = blocks.find(c.digest());
      if (it == blocks.end()) return MakeError(ErrorKind::kNotFound, "block_not_found", "missing");
      *out = it->second;
      return OkStatus();
    };
    auto r = ReadUnixFsFile(fetch, root_cid);
    if (r.ok()) {
      EXPECT_LE(r->size(), file.size() * 2);
    } else {
      ExpectCoded(r.error());
    }
  }
}

TEST(Fuzz, EnvelopeParserAndOpen) {
  std::mt19937_64 rng(5);
  std::string key = crypto::RandomBytes(32);
  EnvelopeBinding binding{"report-1", "patient-1"};
  std::string sealed = SealEnvelope(key, "key-1", binding, "the report body").value();
  int opened = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input = i % 10 == 0 ? crypto::RandomBytes(rng() % 100) : Mutate(sealed, rng);
    if (input == sealed) continue;  // a mutation can undo itself
    auto parsed = ParseEnvelope(input);
    if (!parsed.ok()) {
      ExpectCoded(parsed.error());
      continue;
    }
    auto plain = OpenEnvelope(key, *parsed, binding);
    if (plain.ok()) {
      ++opened;
      EXPECT_EQ(*plain, "the report body");  // a mutation that opens must be one GCM cannot see: none exist
    } else {
      ExpectCoded(plain.error());
    }
  }
  EXPECT_EQ(opened, 0);
}

}  // namespace
}  // namespace medledger::content
