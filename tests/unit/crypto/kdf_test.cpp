#include "crypto/kdf.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace medledger::crypto {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

TEST(Hkdf, Rfc5869Case1) {
  auto okm =
      HkdfSha256(std::string(22, '\x0b'), Unhex("000102030405060708090a0b0c"), Unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.error().ToString();
  EXPECT_EQ(HexEncode(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, Rfc5869Case3EmptySaltAndInfo) {
  auto okm = HkdfSha256(std::string(22, '\x0b'), "", "", 42);
  ASSERT_TRUE(okm.ok()) << okm.error().ToString();
  EXPECT_EQ(HexEncode(*okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, BadLengths) {
  EXPECT_EQ(HkdfSha256("k", "s", "i", 0).error().code, "bad_kdf_length");
  EXPECT_EQ(HkdfSha256("k", "s", "i", 255 * 32 + 1).error().code, "bad_kdf_length");
  EXPECT_EQ(HkdfSha256("k", "s", "i", 255 * 32).value().size(), 255u * 32);
}

// The PRKs and OKMs of RFC 5869 cases 1 and 3, through the separate halves HPKE uses.
TEST(Hkdf, ExtractAndExpandSeparately) {
  auto prk = HkdfSha256Extract(Unhex("000102030405060708090a0b0c"), std::string(22, '\x0b'));
  ASSERT_TRUE(prk.ok()) << prk.error().ToString();
  EXPECT_EQ(HexEncode(*prk), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  auto okm = HkdfSha256Expand(*prk, Unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.error().ToString();
  EXPECT_EQ(HexEncode(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");

  auto prk3 = HkdfSha256Extract("", std::string(22, '\x0b'));
  ASSERT_TRUE(prk3.ok());
  EXPECT_EQ(HexEncode(*prk3), "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  EXPECT_EQ(HexEncode(HkdfSha256Expand(*prk3, "", 42).value()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, ExpandRefusesShortPrkAndBadLengths) {
  EXPECT_EQ(HkdfSha256Expand(std::string(31, 'k'), "i", 16).error().code, "bad_prk_size");
  EXPECT_EQ(HkdfSha256Expand(std::string(32, 'k'), "i", 0).error().code, "bad_kdf_length");
  EXPECT_EQ(HkdfSha256Expand(std::string(32, 'k'), "i", 255 * 32 + 1).error().code, "bad_kdf_length");
}

}  // namespace
}  // namespace medledger::crypto
