#include <gtest/gtest.h>

#include "contract/stub.h"

namespace medledger::contract {
namespace {

using namespace std::string_literals;

TEST(CompositeKey, FabricEncoding) {
  auto key = CreateCompositeKey("report", {"r1", "v2"});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, "\0report\0r1\0v2\0"s);
  auto no_attrs = CreateCompositeKey("event", {});
  ASSERT_TRUE(no_attrs.ok());
  EXPECT_EQ(*no_attrs, "\0event\0"s);
  auto empty_attr = CreateCompositeKey("t", {""});
  ASSERT_TRUE(empty_attr.ok());
  EXPECT_EQ(*empty_attr, "\0t\0\0"s);
}

TEST(CompositeKey, SplitRoundTrips) {
  std::vector<std::vector<std::string>> cases = {{}, {"a"}, {"a", "b", "c"}, {"", "x"}, {"\xC3\xA9t\xC3\xA9", "2"}};
  for (const auto& attrs : cases) {
    auto key = CreateCompositeKey("obj", attrs);
    ASSERT_TRUE(key.ok());
    auto split = SplitCompositeKey(*key);
    ASSERT_TRUE(split.ok());
    EXPECT_EQ(split->first, "obj");
    EXPECT_EQ(split->second, attrs);
  }
}

TEST(CompositeKey, RejectsReservedRunesAndBadUtf8) {
  EXPECT_EQ(CreateCompositeKey("a\0b"s, {}).error().code, "bad_composite_key");
  EXPECT_EQ(CreateCompositeKey("obj", {"x\0y"s}).error().code, "bad_composite_key");
  EXPECT_EQ(CreateCompositeKey("obj", {"x\xF4\x8F\xBF\xBFy"}).error().code, "bad_composite_key");
  EXPECT_EQ(CreateCompositeKey("obj", {"\xFF"}).error().code, "bad_composite_key");
  EXPECT_EQ(PartialCompositeKeyRange("obj", {"\xC0\x80"}).error().code, "bad_composite_key");
}

TEST(CompositeKey, SplitRejectsNonCompositeKeys) {
  EXPECT_FALSE(SplitCompositeKey("").ok());
  EXPECT_FALSE(SplitCompositeKey("plain").ok());
  EXPECT_FALSE(SplitCompositeKey("\0obj"s).ok());
  EXPECT_FALSE(SplitCompositeKey("\0"s).ok());
}

TEST(CompositeKey, PartialRangeCoversExactlyTheMatchingKeys) {
  auto range = PartialCompositeKeyRange("consent", {"p1"});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->first, "\0consent\0p1\0"s);
  EXPECT_EQ(range->second, "\0consent\0p1\0\xF4\x8F\xBF\xBF"s);
  auto inside = [&](const std::string& k) { return k >= range->first && k < range->second; };
  EXPECT_TRUE(inside(CreateCompositeKey("consent", {"p1"}).value()));
  EXPECT_TRUE(inside(CreateCompositeKey("consent", {"p1", "tx"}).value()));
  EXPECT_TRUE(inside(CreateCompositeKey("consent", {"p1", "\xF4\x8F\xBF\xBE"}).value()));  // U+10FFFE
  EXPECT_FALSE(inside(CreateCompositeKey("consent", {"p10"}).value()));  // a longer attribute is another key
  EXPECT_FALSE(inside(CreateCompositeKey("consent", {"p2"}).value()));
  EXPECT_FALSE(inside(CreateCompositeKey("consentdoc", {"p1"}).value()));
}

}  // namespace
}  // namespace medledger::contract
