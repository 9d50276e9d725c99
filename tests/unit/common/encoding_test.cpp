#include "common/encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace medledger {
namespace {

TEST(Hex, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(HexDecode("00FF10").value(), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_EQ(HexDecode("zz").error().code, "bad_hex");
}

TEST(Base64, MatchesRfc4648Vectors) {
  // RFC 4648 §10 test vectors.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded).value(), plain);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Z").ok());
}

TEST(Base64, RandomRoundTripProperty) {
  std::mt19937 rng(42);
  for (int i = 0; i < 500; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = char(rng());
    EXPECT_EQ(Base64Decode(Base64Encode(s)).value(), s);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)).value(), s);
    EXPECT_EQ(HexDecode(HexEncode(s)).value(), s);
  }
}

TEST(Utf8, AcceptsValidAndRejectsMalformed) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

TEST(Fixed, BigEndianRoundTrip) {
  std::string buf;
  PutFixed32(&buf, 0x01020304u);
  PutFixed64(&buf, 0x0102030405060708ull);
  ASSERT_EQ(buf.size(), 12u);
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(DecodeFixed32(buf.data()), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(buf.data() + 4), 0x0102030405060708ull);
}

TEST(Fixed, LittleEndianInPlace) {
  char buf[12];
  EncodeFixed32LE(buf, 0x01020304u);
  EncodeFixed64LE(buf + 4, 0xf102030405060708ull);
  EXPECT_EQ(std::string(buf, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(static_cast<unsigned char>(buf[11]), 0xf1);
  EXPECT_EQ(DecodeFixed32LE(buf), 0x01020304u);
  EXPECT_EQ(DecodeFixed64LE(buf + 4), 0xf102030405060708ull);
}

TEST(SplitOn, KeepsEmptyPiecesAndViewsIntoTheText) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(SplitOn("a,,b", ','), (V{"a", "", "b"}));
  EXPECT_EQ(SplitOn("", ','), (V{""}));
  EXPECT_EQ(SplitOn(",", ','), (V{"", ""}));
  EXPECT_EQ(SplitOn("tile/0/x001/234", '/'), (V{"tile", "0", "x001", "234"}));
  const std::string text = "k=v";
  EXPECT_EQ(SplitOn(text, '=')[1].data(), text.data() + 2);
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 7;
  Result<int> bad = MakeError(ErrorKind::kNotFound, "x_missing", "no x");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().ToString(), "x_missing: no x");
  Status st = OkStatus();
  EXPECT_TRUE(st.ok());
}

}  // namespace
}  // namespace medledger
