#include "reportlog/leaf.h"

#include <gtest/gtest.h>

#include <random>

namespace medledger::reportlog {
namespace {

Leaf Sample() {
  Leaf l;
  l.kind = LeafKind::kAmended;
  l.report_id = "r-2026-0001";
  l.version = 2;
  l.patient = std::string(64, 'a');
  l.cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
  l.content_hash = std::string(64, 'b');
  l.tx_id = std::string(64, 'c');
  l.block_number = 7;
  l.ledger_time = "2026-12-07T05:00:00.123Z";
  return l;
}

TEST(Leaf, EncodesCanonicalJsonWithSortedKeys) {
  auto bytes = EncodeLeaf(Sample());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes,
            "{\"blockNumber\":7,\"cid\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\","
            "\"contentHash\":\"" +
                std::string(64, 'b') +
                "\",\"format\":\"medledger-leaf/1\",\"kind\":\"amended\",\"ledgerTime\":\"2026-12-07T05:00:00.123Z\","
                "\"patient\":\"" +
                std::string(64, 'a') + "\",\"reportId\":\"r-2026-0001\",\"txId\":\"" + std::string(64, 'c') +
                "\",\"version\":2}");
  auto back = ParseLeaf(*bytes);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, Sample());
}

TEST(Leaf, ParseRefusesEverythingButTheCanonicalBytes) {
  std::string good = EncodeLeaf(Sample()).value();
  std::vector<std::string> bad = {
      "{ " + good.substr(1),                                          // whitespace
      good.substr(0, good.size() - 1) + ",\"x\":1}",                  // extra field
      std::string(good).replace(good.find("amended"), 7, "deleted"),  // unknown kind
      std::string(good).replace(good.find("leaf/1"), 6, "leaf/2"),    // unknown format
      std::string(good).replace(good.find(":7,"), 3, ":07,"),         // non-canonical number
      std::string(good).replace(good.find("r-2026"), 1, "\\u0072"),   // an escape for a plain character
      "[]",
      "",
  };
  for (const auto& b : bad) {
    auto r = ParseLeaf(b);
    EXPECT_FALSE(r.ok()) << b;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "leaf_malformed");
    }
  }
  // Reordered keys parse as JSON but are not the canonical bytes.
  std::string reordered = "{\"cid\"" + good.substr(good.find(":\"bafk"));
  EXPECT_FALSE(ParseLeaf(reordered).ok());
}

TEST(Leaf, EncodeRefusesFieldsThatWouldNeedEscaping) {
  for (const char* s : {"a\"b", "a\\b", "a\nb", "caf\xc3\xa9"}) {
    Leaf l = Sample();
    l.report_id = s;
    EXPECT_FALSE(EncodeLeaf(l).ok()) << s;
  }
}

TEST(Leaf, EveryFlippedByteIsRefusedOrChangesTheLeaf) {
  const std::string good = EncodeLeaf(Sample()).value();
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string b = good;
    b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
    auto r = ParseLeaf(b);
    if (r.ok()) {
      EXPECT_NE(*r, Sample());
    }
  }
}

}  // namespace
}  // namespace medledger::reportlog
