// Root CIDs printed by js-ipfs 0.66.1 (`jsipfs add -n`) for deterministic inputs: byte i = (31*i + 7) mod 256.
// They cover multi-chunk trees (3 chunks) and a two-level tree (174 * 256 KiB + 1 bytes), with CIDv0,
// CIDv1 and CIDv1 with dag-pb leaves.
#include <gtest/gtest.h>

#include "content/importer.h"

namespace medledger::content {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + 7) % 256);
  return s;
}

std::string Root(std::string_view bytes, int version, std::optional<bool> raw = std::nullopt) {
  return ComputeCid(bytes, ImportOptions::Ipfs(version, raw)).value().ToString();
}

TEST(IpfsVectors, ThreeChunks) {
  std::string bytes = Pattern(2 * kDefaultChunkSize + 1);
  EXPECT_EQ(Root(bytes, 0), "QmeRad176csajNUZjY3VBoka9NR3XtZxXRfTi7E7uaDBrn");
  EXPECT_EQ(Root(bytes, 1), "bafybeibchpu6rgx7b2njrnfx7xprj7xpacx3svuns2iwfv6jnoxubqtyqu");
  EXPECT_EQ(Root(bytes, 1, false), "bafybeicb2dvjv5ext3q4xlb4fr4isnph24vrqu4ca7wmdzm4low5gdbzmy");
}

TEST(IpfsVectors, TwoLevelTree) {
  std::string bytes = Pattern(174 * kDefaultChunkSize + 1);
  EXPECT_EQ(Root(bytes, 0), "QmQ7WSZzmsnaQuBHtVvLTbG2168kggQCHYXbA9wudKQ3ss");
  EXPECT_EQ(Root(bytes, 1), "bafybeicwdxbb76mvui4baybplblhw2574qsiivkhtm3vdukwto3g4hd7vm");
  EXPECT_EQ(Root(bytes, 1, false), "bafybeid5s7stiylj7tzoqnnoyqiqj3hmw63bumevg34x63mwh6vsoujjle");
}

}  // namespace
}  // namespace medledger::content
