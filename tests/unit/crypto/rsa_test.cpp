#include "crypto/rsa.h"

#include <gtest/gtest.h>

#include <memory>

#include "rsa_test_key.h"

namespace medledger::crypto {
namespace {

using testing::RsaTestKey;

class RsaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = std::make_unique<RsaTestKey>(); }  // generation takes ~0.1 s
  static void TearDownTestSuite() { key_.reset(); }
  static RsaPublicKey Public() { return *RsaPublicKey::FromComponents(key_->modulus(), key_->exponent()); }
  static std::unique_ptr<RsaTestKey> key_;
};
std::unique_ptr<RsaTestKey> RsaTest::key_;

TEST_F(RsaTest, VerifiesPkcs1AndPssSignaturesAndOnlyThoseMessages) {
  RsaPublicKey pub = Public();
  EXPECT_EQ(pub.bits(), 2048);
  const std::string pkcs1 = key_->Sign("header.payload");
  const std::string pss = key_->Sign("header.payload", /*pss=*/true);
  EXPECT_TRUE(pub.VerifySha256("header.payload", pkcs1, RsaPublicKey::Padding::kPkcs1v15));
  EXPECT_TRUE(pub.VerifySha256("header.payload", pss, RsaPublicKey::Padding::kPss));
  // Each padding verifies only its own signatures, and only over the signed bytes.
  EXPECT_FALSE(pub.VerifySha256("header.payload", pss, RsaPublicKey::Padding::kPkcs1v15));
  EXPECT_FALSE(pub.VerifySha256("header.payload", pkcs1, RsaPublicKey::Padding::kPss));
  EXPECT_FALSE(pub.VerifySha256("header.payloaD", pkcs1, RsaPublicKey::Padding::kPkcs1v15));
  std::string flipped = pkcs1;
  flipped[100] ^= 0x01;
  EXPECT_FALSE(pub.VerifySha256("header.payload", flipped, RsaPublicKey::Padding::kPkcs1v15));
  // Wrong lengths are refused before OpenSSL sees them.
  EXPECT_FALSE(pub.VerifySha256("header.payload", pkcs1.substr(1), RsaPublicKey::Padding::kPkcs1v15));
  EXPECT_FALSE(pub.VerifySha256("header.payload", std::string(1, '\0') + pkcs1, RsaPublicKey::Padding::kPkcs1v15));
  EXPECT_FALSE(pub.VerifySha256("header.payload", "", RsaPublicKey::Padding::kPkcs1v15));
}

TEST_F(RsaTest, RefusesWeakOrMalformedComponents) {
  const std::string n = key_->modulus();
  const std::string e = key_->exponent();
  auto code = [](const Result<RsaPublicKey>& r) { return r.ok() ? std::string("ok") : r.error().code; };
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n, e)), "ok");
  // A leading zero byte does not change the number.
  EXPECT_EQ(code(RsaPublicKey::FromComponents(std::string(1, '\0') + n, e)), "ok");
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n.substr(0, 128), e)), "rsa_key_invalid");           // 1024 bits
  EXPECT_EQ(code(RsaPublicKey::FromComponents(std::string(1025, '\xff'), e)), "rsa_key_invalid");  // 8200 bits
  EXPECT_EQ(code(RsaPublicKey::FromComponents("", e)), "rsa_key_invalid");
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n, "")), "rsa_key_invalid");
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n, std::string("\x01\x00\x00", 3))), "rsa_key_invalid");  // even
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n, std::string("\x01", 1))), "rsa_key_invalid");
  EXPECT_EQ(code(RsaPublicKey::FromComponents(n, std::string(9, '\x01'))), "rsa_key_invalid");
  std::string even = n;
  even.back() = static_cast<char>(even.back() & 0xfe);
  EXPECT_EQ(code(RsaPublicKey::FromComponents(even, e)), "rsa_key_invalid");
}

}  // namespace
}  // namespace medledger::crypto
