#include "service/jwt.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "crypto/hash.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
constexpr int64_t kNow = 1'800'000'000;

std::string SignRaw(const crypto::EcPrivateKey& key, const json& header, const json& payload) {
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  auto der = key.Sign(input);
  auto raw = crypto::DerSignatureToRaw(*der);
  return input + "." + Base64UrlEncode(*raw);
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : key_(*crypto::EcPrivateKey::Generate()), signer_(key_), verifier_({"https://iss", "api"}) {
    verifier_.AddKey(signer_.kid(), signer_.public_key());
  }
  JwtClaims Claims() const {
    JwtClaims c;
    c.iss = "https://iss";
    c.aud = "api";
    c.sub = "dr.house";
    c.role = "doctor";
    c.jti = "j1";
    c.iat = kNow;
    c.nbf = kNow;
    c.exp = kNow + 900;
    return c;
  }
  json Header() const { return {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", signer_.kid()}}; }
  json Payload() const {
    return {{"iss", "https://iss"}, {"aud", "api"},      {"sub", "dr.house"}, {"iat", kNow},
            {"nbf", kNow},          {"exp", kNow + 900}, {"role", "doctor"}};
  }
  void ExpectRejected(const std::string& token, const char* code = "token_invalid") {
    auto r = verifier_.Verify(token, kNow);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(r.error().kind, ErrorKind::kUnauthenticated);
  }

  crypto::EcPrivateKey key_;
  JwtSigner signer_;
  JwtVerifier verifier_;
};

TEST_F(JwtTest, RoundTripCarriesClaims) {
  auto token = signer_.Sign(Claims());
  ASSERT_TRUE(token.ok());
  auto c = verifier_.Verify(*token, kNow + 10);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->sub, "dr.house");
  EXPECT_EQ(c->role, "doctor");
  EXPECT_EQ(c->exp, kNow + 900);
  // Our hand-built token through the same path verifies too: the helper is faithful.
  EXPECT_TRUE(verifier_.Verify(SignRaw(key_, Header(), Payload()), kNow).ok());
}

TEST_F(JwtTest, RejectsAlgNone) {
  json h = {{"alg", "none"}, {"typ", "JWT"}, {"kid", signer_.kid()}};
  std::string unsigned_token = Base64UrlEncode(h.dump()) + "." + Base64UrlEncode(Payload().dump()) + ".";
  ExpectRejected(unsigned_token);
  ExpectRejected(unsigned_token + "AAAA");
}

TEST_F(JwtTest, RejectsHs256KeyedWithThePublicKey) {
  for (const std::string& secret :
       {signer_.public_key().ToPem(), signer_.public_key().ToSpkiDer(), signer_.public_key().UncompressedPoint()}) {
    json h = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", signer_.kid()}};
    std::string input = Base64UrlEncode(h.dump()) + "." + Base64UrlEncode(Payload().dump());
    ExpectRejected(input + "." + Base64UrlEncode(crypto::HmacSha256(secret, input)));
  }
}

TEST_F(JwtTest, RejectsWrongKeyAndUnknownKid) {
  auto other = *crypto::EcPrivateKey::Generate();
  ExpectRejected(SignRaw(other, Header(), Payload()));  // right kid, wrong key
  json h = Header();
  h["kid"] = "no-such-key";
  ExpectRejected(SignRaw(key_, h, Payload()));
  h.erase("kid");
  ExpectRejected(SignRaw(key_, h, Payload()));
}

TEST_F(JwtTest, RejectsExpiredAndNotYetValid) {
  auto token = *signer_.Sign(Claims());
  auto r = verifier_.Verify(token, kNow + 900 + 31);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "token_expired");
  EXPECT_TRUE(verifier_.Verify(token, kNow + 900 + 29).ok());  // within the 30 s leeway
  json p = Payload();
  p["nbf"] = kNow + 120;
  ExpectRejected(SignRaw(key_, Header(), p));
  p = Payload();
  p["iat"] = kNow + 3600;
  ExpectRejected(SignRaw(key_, Header(), p));
  p = Payload();
  p.erase("exp");
  ExpectRejected(SignRaw(key_, Header(), p));
  p = Payload();
  p["exp"] = "tomorrow";
  ExpectRejected(SignRaw(key_, Header(), p));
}

TEST_F(JwtTest, RejectsWrongIssuerOrAudience) {
  json p = Payload();
  p["iss"] = "https://evil";
  ExpectRejected(SignRaw(key_, Header(), p));
  p = Payload();
  p["aud"] = "other-api";
  ExpectRejected(SignRaw(key_, Header(), p));
  p["aud"] = json::array({"x", "api"});
  EXPECT_TRUE(verifier_.Verify(SignRaw(key_, Header(), p), kNow).ok());
  p.erase("aud");
  ExpectRejected(SignRaw(key_, Header(), p));
}

TEST_F(JwtTest, RejectsTamperedPayloadAndSignature) {
  auto token = *signer_.Sign(Claims());
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  json p = Payload();
  p["role"] = "admin";
  std::string forged = token.substr(0, d1 + 1) + Base64UrlEncode(p.dump()) + token.substr(d2);
  ExpectRejected(forged);
  // Flip one bit of every signature byte position in turn: none may verify.
  auto sig = *Base64UrlDecode(token.substr(d2 + 1));
  for (size_t i = 0; i < sig.size(); i += 7) {
    std::string bad = sig;
    bad[i] ^= 0x01;
    ExpectRejected(token.substr(0, d2 + 1) + Base64UrlEncode(bad));
  }
}

TEST_F(JwtTest, RejectsHighSTwinOfAValidSignature) {
  auto token = *signer_.Sign(Claims());
  auto d2 = token.rfind('.');
  auto raw = *Base64UrlDecode(token.substr(d2 + 1));
  // s' = n - s: mathematically valid, but not the signature we issued.
  static const unsigned char kN[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                       0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  std::string s = raw.substr(32);
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kN[i] - static_cast<unsigned char>(s[i]) - borrow;
    borrow = d < 0;
    s[i] = static_cast<char>(d < 0 ? d + 256 : d);
  }
  const std::string twin = token.substr(0, d2 + 1) + Base64UrlEncode(raw.substr(0, 32) + s);
  ExpectRejected(twin);
  // An external issuer's verifier takes either half (other signers emit high-S at random), yet still only a
  // signature that verifies: the twin of a tampered payload does not.
  JwtVerifyOptions external{"https://iss", "api"};
  external.require_low_s = false;
  JwtVerifier lenient(external);
  lenient.AddKey(signer_.kid(), signer_.public_key());
  EXPECT_TRUE(lenient.Verify(twin, kNow).ok());
  std::string tampered = twin;
  tampered[tampered.find('.') + 3] ^= 0x01;
  EXPECT_FALSE(lenient.Verify(tampered, kNow).ok());
}

TEST_F(JwtTest, RejectsMalformedAndOversizeTokens) {
  auto token = *signer_.Sign(Claims());
  ExpectRejected("");
  ExpectRejected("abc");
  ExpectRejected("a.b");
  ExpectRejected(token + ".extra");
  ExpectRejected("!!!." + token.substr(token.find('.') + 1));
  json p = Payload();
  p["pad"] = std::string(9000, 'x');
  ExpectRejected(SignRaw(key_, Header(), p));
  json h = Header();
  h["jwk"] = json::parse(PublicJwkJson(signer_.public_key(), signer_.kid()));
  ExpectRejected(SignRaw(key_, h, Payload()));
  h = Header();
  h["crit"] = json::array({"exp"});
  ExpectRejected(SignRaw(key_, h, Payload()));
}

TEST(JwksTest, PublishedJwksParsesBackToTheSameKey) {
  auto key = *crypto::EcPrivateKey::Generate();
  JwtSigner signer(key);
  auto keys = ParseJwks(signer.JwksJson());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].first, signer.kid());
  EXPECT_TRUE((*keys)[0].second == key.PublicKey());
  EXPECT_FALSE(ParseJwks("[]").ok());
  auto hostile = ParseJwks(R"({"keys":[{"kty":1,"crv":[],"x":{}},"str",{"kty":"RSA","n":"x","e":"AQAB"}]})");
  ASSERT_TRUE(hostile.ok());
  EXPECT_TRUE(hostile->empty());
}

TEST(JwksTest, ThumbprintMatchesRfc7638Construction) {
  auto key = *crypto::EcPrivateKey::Generate();
  std::string point = key.PublicKey().UncompressedPoint();
  std::string expected = Base64UrlEncode(crypto::Sha256("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" +
                                                        Base64UrlEncode(point.substr(1, 32)) + "\",\"y\":\"" +
                                                        Base64UrlEncode(point.substr(33)) + "\"}"));
  EXPECT_EQ(JwkThumbprint(key.PublicKey()), expected);
  EXPECT_EQ(expected.size(), 43u);
}

}  // namespace
}  // namespace medledger::service
