#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/random.h"

namespace medledger::crypto {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, with AAD).
TEST(AesGcm, McGrewViegaCase16) {
  std::string key = Unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::string iv = Unhex("cafebabefacedbaddecaf888");
  std::string pt = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
      "ba637b39");
  std::string aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
      "bcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b";
  auto sealed = AesGcmSeal(key, iv, pt, aad);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(HexEncode(*sealed), expected);
  auto opened = AesGcmOpen(key, iv, *sealed, aad);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, pt);
}

// Test cases 13 and 14: zero key and IV, empty and one-block plaintext.
TEST(AesGcm, McGrewViegaCases13And14) {
  std::string key(32, '\0');
  std::string iv(12, '\0');
  EXPECT_EQ(HexEncode(AesGcmSeal(key, iv, "", "").value()), "530f8afbc74536b9a963b4f1c4cb738b");
  EXPECT_EQ(HexEncode(AesGcmSeal(key, iv, std::string(16, '\0'), "").value()),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  EXPECT_EQ(AesGcmOpen(key, iv, Unhex("530f8afbc74536b9a963b4f1c4cb738b"), "").value(), "");
}

class AesGcmFailures : public ::testing::Test {
 protected:
  std::string key_ = RandomBytes(32);
  std::string nonce_ = RandomBytes(12);
  std::string aad_ = "report-42|patient-7";
  std::string sealed_ = AesGcmSeal(key_, nonce_, "the quick brown fox", aad_).value();

  void ExpectDecryptFailed(const Result<std::string>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "decrypt_failed");
  }
};

TEST_F(AesGcmFailures, EveryFlippedBitIsDetected) {
  for (size_t i = 0; i < sealed_.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = sealed_;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      ExpectDecryptFailed(AesGcmOpen(key_, nonce_, t, aad_));
    }
  }
}

TEST_F(AesGcmFailures, WrongKeyNonceAadOrTruncation) {
  std::string other_key = key_;
  other_key[0] ^= 1;
  ExpectDecryptFailed(AesGcmOpen(other_key, nonce_, sealed_, aad_));
  std::string other_nonce = nonce_;
  other_nonce[11] ^= 1;
  ExpectDecryptFailed(AesGcmOpen(key_, other_nonce, sealed_, aad_));
  ExpectDecryptFailed(AesGcmOpen(key_, nonce_, sealed_, "report-42|patient-8"));
  ExpectDecryptFailed(AesGcmOpen(key_, nonce_, sealed_, ""));
  ExpectDecryptFailed(AesGcmOpen(key_, nonce_, sealed_.substr(0, sealed_.size() - 1), aad_));
  ExpectDecryptFailed(AesGcmOpen(key_, nonce_, sealed_ + "x", aad_));
  EXPECT_EQ(AesGcmOpen(key_, nonce_, sealed_, aad_).value(), "the quick brown fox");
}

TEST_F(AesGcmFailures, BadSizesArePreciseErrors) {
  EXPECT_EQ(AesGcmSeal(std::string(16, 'k'), nonce_, "x", "").error().code, "bad_key_size");
  EXPECT_EQ(AesGcmSeal(key_, std::string(16, 'n'), "x", "").error().code, "bad_nonce_size");
  EXPECT_EQ(AesGcmOpen(key_, nonce_, std::string(15, 'c'), "").error().code, "ciphertext_too_short");
}

TEST(AesGcm, RoundTripManySizes) {
  std::string key = RandomBytes(32);
  for (size_t n : {0, 1, 15, 16, 17, 255, 4096, 100000}) {
    std::string nonce = RandomBytes(12);
    std::string pt = RandomBytes(n);
    std::string aad = RandomBytes(n % 37);
    auto sealed = AesGcmSeal(key, nonce, pt, aad);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), n + kGcmTagSize);
    EXPECT_EQ(AesGcmOpen(key, nonce, *sealed, aad).value(), pt);
  }
}

// The GCM specification's test case 2 (AES-128, zero key and IV, one zero block).
TEST(Aes128Gcm, SpecTestCase2) {
  auto sealed = Aes128GcmSeal(std::string(16, '\0'), std::string(12, '\0'), std::string(16, '\0'), "");
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(HexEncode(*sealed), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
  EXPECT_EQ(Aes128GcmOpen(std::string(16, '\0'), std::string(12, '\0'), *sealed, "").value(), std::string(16, '\0'));
  std::string tampered = *sealed;
  tampered[3] ^= 1;
  EXPECT_EQ(Aes128GcmOpen(std::string(16, '\0'), std::string(12, '\0'), tampered, "").error().code, "decrypt_failed");
}

TEST(Aes128Gcm, KeySizesAreNotInterchangeable) {
  EXPECT_EQ(Aes128GcmSeal(std::string(32, 'k'), std::string(12, 'n'), "x", "").error().code, "bad_key_size");
  EXPECT_EQ(AesGcmSeal(std::string(16, 'k'), std::string(12, 'n'), "x", "").error().code, "bad_key_size");
}

}  // namespace
}  // namespace medledger::crypto
