#include "crypto/ecdsa.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace medledger::crypto {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

constexpr char kOrderHex[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

// n - s as 32 big-endian bytes: the "other" valid signature for the same (r, message).
std::string Negate(std::string_view s32) {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kOrderHex);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(s32.data()), 32, nullptr);
  BIGNUM* out = BN_new();
  BN_sub(out, n, s);
  std::string r(32, '\0');
  BN_bn2binpad(out, reinterpret_cast<unsigned char*>(r.data()), 32);
  BN_free(n);
  BN_free(s);
  BN_free(out);
  return r;
}

// RFC 6979 appendix A.2.5: P-256 key and deterministic SHA-256 signatures of "sample" and "test".
class Rfc6979 : public ::testing::Test {
 protected:
  EcPublicKey key_ =
      EcPublicKey::FromUncompressedPoint(Unhex("0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                                               "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"))
          .value();
  std::string sample_r_ = Unhex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716");
  std::string sample_s_ = Unhex("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");  // high S
  std::string test_r_ = Unhex("f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367");
  std::string test_s_ = Unhex("019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083");  // low S
};

TEST_F(Rfc6979, LowSVectorVerifies) {
  std::string der = RawSignatureToDer(test_r_ + test_s_).value();
  EXPECT_TRUE(IsLowS(der));
  EXPECT_TRUE(key_.Verify("test", der));
  EXPECT_FALSE(key_.Verify("sample", der));
}

TEST_F(Rfc6979, HighSVectorIsRejectedAndItsNormalizationAccepted) {
  std::string high = RawSignatureToDer(sample_r_ + sample_s_).value();
  EXPECT_FALSE(IsLowS(high));
  EXPECT_FALSE(key_.Verify("sample", high)) << "high-S must be rejected even though mathematically valid";
  std::string low = NormalizeLowS(high).value();
  EXPECT_TRUE(IsLowS(low));
  EXPECT_EQ(DerSignatureToRaw(low).value(), sample_r_ + Negate(sample_s_));
  EXPECT_TRUE(key_.Verify("sample", low));
  EXPECT_TRUE(key_.VerifyDigest(Sha256("sample"), low));
}

TEST(Ecdsa, SignVerifyRoundTripAlwaysLowS) {
  auto key = EcPrivateKey::Generate().value();
  EcPublicKey pub = key.PublicKey();
  for (int i = 0; i < 200; ++i) {
    std::string msg = RandomBytes(static_cast<size_t>(i));
    std::string sig = key.Sign(msg).value();
    ASSERT_TRUE(IsLowS(sig)) << i;
    ASSERT_TRUE(pub.Verify(msg, sig)) << i;
    // The high-S twin of every signature we produce must be refused.
    std::string raw = DerSignatureToRaw(sig).value();
    std::string twin = RawSignatureToDer(raw.substr(0, 32) + Negate(raw.substr(32))).value();
    ASSERT_FALSE(IsLowS(twin));
    ASSERT_FALSE(pub.Verify(msg, twin));
  }
}

TEST(Ecdsa, RejectsWrongMessageKeyAndMalformedSignatures) {
  auto key = EcPrivateKey::Generate().value();
  auto other = EcPrivateKey::Generate().value();
  std::string sig = key.Sign("hello").value();
  EXPECT_TRUE(key.PublicKey().Verify("hello", sig));
  EXPECT_FALSE(key.PublicKey().Verify("hellO", sig));
  EXPECT_FALSE(other.PublicKey().Verify("hello", sig));
  EXPECT_FALSE(key.PublicKey().Verify("hello", ""));
  EXPECT_FALSE(key.PublicKey().Verify("hello", sig + '\0'));  // trailing byte: not canonical DER
  EXPECT_FALSE(key.PublicKey().Verify("hello", sig.substr(0, sig.size() - 1)));
  EXPECT_FALSE(key.PublicKey().VerifyDigest("short", sig));
  for (int i = 0; i < 500; ++i) EXPECT_FALSE(key.PublicKey().Verify("hello", RandomBytes(static_cast<size_t>(i % 90))));
  std::string flipped = sig;
  flipped[flipped.size() - 1] ^= 1;
  EXPECT_FALSE(key.PublicKey().Verify("hello", flipped));
  EXPECT_EQ(key.SignDigest("short").error().code, "bad_digest_size");
}

TEST(Ecdsa, DerRawConversions) {
  auto key = EcPrivateKey::Generate().value();
  std::string sig = key.Sign("m").value();
  std::string raw = DerSignatureToRaw(sig).value();
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_EQ(RawSignatureToDer(raw).value(), sig);
  // Leading zero bytes in r are stripped in DER and restored in raw form.
  std::string small = std::string(31, '\0') + "\x05" + std::string(31, '\0') + "\x07";
  std::string der = RawSignatureToDer(small).value();
  EXPECT_EQ(HexEncode(der), "3006020105020107");
  EXPECT_EQ(DerSignatureToRaw(der).value(), small);
  EXPECT_EQ(RawSignatureToDer("short").error().code, "bad_signature");
  EXPECT_EQ(DerSignatureToRaw("\x30\x00").error().code, "bad_signature");
  EXPECT_FALSE(DerSignatureToRaw(RandomBytes(64)).ok());
}

TEST(Ecdsa, KeyEncodingsRoundTrip) {
  auto key = EcPrivateKey::Generate().value();
  std::string pem = key.ToPem();
  EXPECT_NE(pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  auto again = EcPrivateKey::FromPem(pem).value();
  EXPECT_TRUE(again.PublicKey() == key.PublicKey());
  EXPECT_TRUE(key.PublicKey().Verify("x", again.Sign("x").value()));

  EcPublicKey pub = key.PublicKey();
  EXPECT_TRUE(EcPublicKey::FromPem(pub.ToPem()).value() == pub);
  EXPECT_TRUE(EcPublicKey::FromSpkiDer(pub.ToSpkiDer()).value() == pub);
  std::string point = pub.UncompressedPoint();
  ASSERT_EQ(point.size(), 65u);
  EXPECT_TRUE(EcPublicKey::FromUncompressedPoint(point).value() == pub);
  EXPECT_FALSE(EcPublicKey::FromSpkiDer(pub.ToSpkiDer() + "x").ok());
}

TEST(Ecdsa, BadKeysArePreciseErrors) {
  EXPECT_EQ(EcPrivateKey::FromPem("nonsense").error().code, "bad_private_key");
  EXPECT_EQ(EcPublicKey::FromPem("nonsense").error().code, "bad_public_key");
  EXPECT_EQ(EcPublicKey::FromUncompressedPoint(std::string(65, '\x04')).error().code, "bad_public_key");
  std::string off_curve = "\x04" + std::string(63, '\x01') + "\x02";
  EXPECT_EQ(EcPublicKey::FromUncompressedPoint(off_curve).error().code, "bad_public_key");
  EXPECT_EQ(EcPublicKey::FromUncompressedPoint("\x04").error().code, "bad_public_key");
  // A public key PEM is not a private key.
  auto key = EcPrivateKey::Generate().value();
  EXPECT_FALSE(EcPrivateKey::FromPem(key.PublicKey().ToPem()).ok());
}

TEST(Ecdsa, ConcurrentSignAndVerifyOnSharedKeys) {
  auto key = EcPrivateKey::Generate().value();
  EcPublicKey pub = key.PublicKey();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string msg = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto sig = key.Sign(msg);
        if (!sig.ok() || !pub.Verify(msg, *sig) || pub.Verify(msg + "x", *sig)) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace medledger::crypto
