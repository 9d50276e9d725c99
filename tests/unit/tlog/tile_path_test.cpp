#include "tlog/tile_path.h"

#include <gtest/gtest.h>

#include <random>

namespace medledger::tlog {
namespace {

TEST(TilePath, SpecExamples) {
  EXPECT_EQ(FormatTilePath({false, 0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(FormatTilePath({false, 0, 1234067, 8}), "tile/0/x001/x234/067.p/8");
  EXPECT_EQ(FormatTilePath({true, 0, 1234067, 256}), "tile/entries/x001/x234/067");
  EXPECT_EQ(FormatTilePath({false, 1, 0, 256}), "tile/1/000");
  EXPECT_EQ(FormatTilePath({false, 2, 1000, 255}), "tile/2/x001/000.p/255");
  auto t = ParseTilePath("tile/entries/x001/x234/067.p/8");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_TRUE(t->entries);
  EXPECT_EQ(t->index, 1234067u);
  EXPECT_EQ(t->width, 8u);
  t = ParseTilePath("tile/63/x018/x446/x744/x073/x709/x551/615");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->level, 63);
  EXPECT_EQ(t->index, UINT64_MAX);
}

TEST(TilePath, RoundTripsRandomTiles) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    TilePath t;
    t.entries = rng() % 3 == 0;
    t.level = t.entries ? 0 : static_cast<int>(rng() % 64);
    t.index = rng() >> (rng() % 64);
    t.width = rng() % 2 ? kTileWidth : 1 + rng() % 255;
    const std::string path = FormatTilePath(t);
    auto back = ParseTilePath(path);
    ASSERT_TRUE(back.ok()) << path;
    EXPECT_EQ(*back, t) << path;
  }
}

TEST(TilePath, RefusesNonCanonicalForms) {
  for (const char* bad : {
           "",
           "tile",
           "tile/0",
           "tile/0/",
           "/tile/0/000",
           "tile/0/000/",
           "tiles/0/000",
           "tile/00/000",  // leading zero in the level
           "tile/64/000",  // level out of range
           "tile/-1/000",
           "tile/+1/000",
           "tile/1a/000",
           "tile/0/0",  // groups are 3 digits
           "tile/0/0000",
           "tile/0/67",
           "tile/0/x000/067",   // leading zero group
           "tile/0/001/067",    // missing x
           "tile/0/x001/x067",  // x on the last group
           "tile/0/x1/067",
           "tile/0/xx01/067",
           "tile/0/067.p/0",    // width 0
           "tile/0/067.p/256",  // a full tile has no .p
           "tile/0/067.p/08",   // leading zero in the width
           "tile/0/067.p/",
           "tile/0/067.p",
           "tile/0/067.q/8",
           "tile/0/067.p/8/",
           "tile/0/x018/x446/x744/x073/x709/x551/616",       // 2^64
           "tile/0/x001/x000/x000/x000/x000/x000/x000/000",  // 8 groups
           "tile/entries/x000/001",
           "tile/Entries/001",
           "tile/entries",
           "tile/0/067\n",
       }) {
    EXPECT_FALSE(ParseTilePath(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseTilePath("tile/00/000").error().code, "invalid_tile_path");
}

}  // namespace
}  // namespace medledger::tlog
