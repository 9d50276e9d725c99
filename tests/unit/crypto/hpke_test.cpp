#include "crypto/hpke.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace medledger::crypto::hpke {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

// RFC 9180 Appendix A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base.
constexpr std::string_view kInfo = "4f6465206f6e2061204772656369616e2055726e";
constexpr std::string_view kIkmE = "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e";
constexpr std::string_view kPkEm =
    "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9b"
    "fcb9382657222d18c4";
constexpr std::string_view kSkEm = "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb";
constexpr std::string_view kIkmR = "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550";
constexpr std::string_view kPkRm =
    "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d"
    "128aafd68a2ce72ea0";
constexpr std::string_view kSkRm = "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2";
constexpr std::string_view kSharedSecret = "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8";
constexpr std::string_view kKey = "868c066ef58aae6dc589b6cfdd18f97e";
constexpr std::string_view kBaseNonce = "4e0bc5018beba4bf004cca59";
constexpr std::string_view kExporterSecret = "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f";
// Encryption at sequence number 0.
constexpr std::string_view kPt = "4265617574792069732074727574682c20747275746820626561757479";
constexpr std::string_view kAad = "436f756e742d30";
constexpr std::string_view kCt =
    "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434";

TEST(Hpke, Rfc9180A31DeriveKeyPair) {
  auto e = PrivateKey::Derive(Unhex(kIkmE));
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(HexEncode(e->Scalar()), kSkEm);
  EXPECT_EQ(HexEncode(e->public_key().bytes()), kPkEm);
  auto r = PrivateKey::Derive(Unhex(kIkmR));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(HexEncode(r->Scalar()), kSkRm);
  EXPECT_EQ(HexEncode(r->public_key().bytes()), kPkRm);
}

TEST(Hpke, Rfc9180A31EveryStep) {
  auto e = PrivateKey::FromScalar(Unhex(kSkEm)).value();
  auto r = PrivateKey::FromScalar(Unhex(kSkRm)).value();
  EXPECT_EQ(HexEncode(e.public_key().bytes()), kPkEm);
  EXPECT_EQ(HexEncode(r.public_key().bytes()), kPkRm);

  auto encap = detail::Encap(e, PublicKey::FromBytes(Unhex(kPkRm)).value());
  ASSERT_TRUE(encap.ok()) << encap.error().ToString();
  EXPECT_EQ(HexEncode(encap->enc), kPkEm);  // enc is the ephemeral public key
  EXPECT_EQ(HexEncode(encap->shared_secret), kSharedSecret);
  auto decap = detail::Decap(Unhex(kPkEm), r);
  ASSERT_TRUE(decap.ok()) << decap.error().ToString();
  EXPECT_EQ(HexEncode(*decap), kSharedSecret);

  auto ctx = detail::KeyScheduleBase(Unhex(kSharedSecret), Unhex(kInfo));
  ASSERT_TRUE(ctx.ok()) << ctx.error().ToString();
  EXPECT_EQ(HexEncode(ctx->key), kKey);
  EXPECT_EQ(HexEncode(ctx->base_nonce), kBaseNonce);
  EXPECT_EQ(HexEncode(ctx->exporter_secret), kExporterSecret);
}

TEST(Hpke, Rfc9180A31SealAndOpen) {
  auto e = PrivateKey::Derive(Unhex(kIkmE)).value();
  auto r = PrivateKey::Derive(Unhex(kIkmR)).value();
  auto sealed = detail::SealWithEphemeral(e, r.public_key(), Unhex(kInfo), Unhex(kAad), Unhex(kPt));
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(HexEncode(sealed->enc), kPkEm);
  EXPECT_EQ(HexEncode(sealed->ciphertext), kCt);
  auto opened = Open(r, Unhex(kPkEm), Unhex(kInfo), Unhex(kAad), Unhex(kCt));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(HexEncode(*opened), kPt);
}

TEST(Hpke, RoundTripWithFreshKeys) {
  auto r = PrivateKey::Generate().value();
  const std::string key(32, '\x5a');
  auto sealed = Seal(r.public_key(), "medledger key release v1", "aad", key);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(sealed->enc.size(), kEncSize);
  EXPECT_EQ(sealed->ciphertext.size(), key.size() + kTagSize);
  EXPECT_EQ(Open(r, sealed->enc, "medledger key release v1", "aad", sealed->ciphertext).value(), key);
  // A second seal uses another ephemeral key.
  auto again = Seal(r.public_key(), "medledger key release v1", "aad", key).value();
  EXPECT_NE(again.enc, sealed->enc);
  EXPECT_NE(again.ciphertext, sealed->ciphertext);
  // The scalar round-trips.
  auto copy = PrivateKey::FromScalar(r.Scalar()).value();
  EXPECT_EQ(copy.public_key(), r.public_key());
  EXPECT_EQ(Open(copy, sealed->enc, "medledger key release v1", "aad", sealed->ciphertext).value(), key);
}

TEST(Hpke, TamperedInputsAreRefused) {
  auto r = PrivateKey::Generate().value();
  auto sealed = Seal(r.public_key(), "info", "aad", "secret data key").value();
  auto code = [&](std::string_view enc, std::string_view info, std::string_view aad, std::string_view ct) {
    auto o = Open(r, enc, info, aad, ct);
    return o.ok() ? std::string("ok") : o.error().code;
  };
  EXPECT_EQ(code(sealed.enc, "info", "aad", sealed.ciphertext), "ok");
  std::string ct = sealed.ciphertext;
  ct[0] ^= 1;
  EXPECT_EQ(code(sealed.enc, "info", "aad", ct), "decrypt_failed");
  ct = sealed.ciphertext;
  ct.back() ^= 1;  // the tag
  EXPECT_EQ(code(sealed.enc, "info", "aad", ct), "decrypt_failed");
  EXPECT_EQ(code(sealed.enc, "info", "aad", sealed.ciphertext.substr(0, 15)), "ciphertext_too_short");
  EXPECT_EQ(code(sealed.enc, "infO", "aad", sealed.ciphertext), "decrypt_failed");
  EXPECT_EQ(code(sealed.enc, "info", "aaD", sealed.ciphertext), "decrypt_failed");
  EXPECT_EQ(code(sealed.enc, "info", "", sealed.ciphertext), "decrypt_failed");
  // Another valid point as enc: a different shared secret.
  auto other = PrivateKey::Generate().value();
  EXPECT_EQ(code(other.public_key().bytes(), "info", "aad", sealed.ciphertext), "decrypt_failed");
  // A flipped bit in enc's X coordinate almost surely leaves the curve.
  std::string enc = sealed.enc;
  enc[10] ^= 1;
  EXPECT_EQ(code(enc, "info", "aad", sealed.ciphertext), "bad_public_key");
  // The wrong recipient.
  auto wrong = Open(other, sealed.enc, "info", "aad", sealed.ciphertext);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "decrypt_failed");
}

TEST(Hpke, InvalidPointsAreRefused) {
  std::string point = Unhex(kPkRm);
  EXPECT_TRUE(PublicKey::FromBytes(point).ok());
  std::string off_curve = point;
  off_curve[64] ^= 1;  // Y no longer matches X
  EXPECT_EQ(PublicKey::FromBytes(off_curve).error().code, "bad_public_key");
  std::string compressed = point.substr(0, 33);
  compressed[0] = 0x02;
  EXPECT_EQ(PublicKey::FromBytes(compressed).error().code, "bad_public_key");
  std::string hybrid = point;
  hybrid[0] = 0x06;
  EXPECT_EQ(PublicKey::FromBytes(hybrid).error().code, "bad_public_key");
  EXPECT_EQ(PublicKey::FromBytes(std::string(65, '\0')).error().code, "bad_public_key");
  EXPECT_EQ(PublicKey::FromBytes(std::string(1, '\0')).error().code, "bad_public_key");  // the identity
  EXPECT_EQ(PublicKey::FromBytes("").error().code, "bad_public_key");
  EXPECT_EQ(PublicKey::FromBytes(point + "x").error().code, "bad_public_key");
  // X = p (the field prime) is out of range even though Y might be anything.
  std::string big =
      "\x04" + Unhex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff") + point.substr(33);
  EXPECT_EQ(PublicKey::FromBytes(big).error().code, "bad_public_key");
}

TEST(Hpke, InvalidScalarsAreRefused) {
  EXPECT_EQ(PrivateKey::FromScalar(std::string(32, '\0')).error().code, "bad_private_key");
  // n, the group order, and n + 1 are out of range; n - 1 is the largest valid scalar.
  const std::string n = Unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  EXPECT_EQ(PrivateKey::FromScalar(n).error().code, "bad_private_key");
  EXPECT_EQ(PrivateKey::FromScalar(std::string(32, '\xff')).error().code, "bad_private_key");
  std::string n_minus_1 = n;
  n_minus_1[31] = '\x50';
  EXPECT_TRUE(PrivateKey::FromScalar(n_minus_1).ok());
  EXPECT_EQ(PrivateKey::FromScalar(std::string(31, '\x01')).error().code, "bad_private_key");
  EXPECT_EQ(PrivateKey::FromScalar(std::string(33, '\x01')).error().code, "bad_private_key");
}

TEST(Hpke, OversizedInfoOrAadIsRefused) {
  auto r = PrivateKey::Generate().value();
  const std::string big(kMaxLabelInput + 1, 'x');
  EXPECT_EQ(Seal(r.public_key(), big, "", "k").error().code, "input_too_large");
  EXPECT_EQ(Seal(r.public_key(), "", big, "k").error().code, "input_too_large");
  auto sealed = Seal(r.public_key(), "", "", "k").value();
  EXPECT_EQ(Open(r, sealed.enc, big, "", sealed.ciphertext).error().code, "input_too_large");
}

}  // namespace
}  // namespace medledger::crypto::hpke
