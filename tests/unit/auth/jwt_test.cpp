#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "rsa_test_key.h"

namespace medledger::auth {
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

// A repeated claim could be read two ways by two parsers ("sub" first or last); a signed token carrying one
// is refused, as is a header with a repeated member, a JWKS with a repeated key, and deep nesting.
TEST_F(JwtTest, RejectsRepeatedMembersAndDeepNestingEvenWhenSigned) {
  auto sign_text = [this](const std::string& header, const std::string& payload) {
    std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
    auto raw = crypto::DerSignatureToRaw(*key_.Sign(input));
    return input + "." + Base64UrlEncode(*raw);
  };
  std::string payload = Payload().dump();
  ASSERT_TRUE(verifier_.Verify(sign_text(Header().dump(), payload), kNow).ok());
  std::string twice = payload.substr(0, payload.size() - 1) + R"(,"sub":"admin"})";
  ExpectRejected(sign_text(Header().dump(), twice));
  std::string header = Header().dump();
  ExpectRejected(sign_text(header.substr(0, header.size() - 1) + R"(,"alg":"none"})", payload));
  std::string deep =
      payload.substr(0, payload.size() - 1) + R"(,"x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  ExpectRejected(sign_text(Header().dump(), deep));
  EXPECT_FALSE(JwtVerifier::PeekKid(Base64UrlEncode(R"({"kid":"a","kid":"b"})") + ".e30.x").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[],"keys":[]})").ok());
}

TEST(JwksTest, PublishedJwksParsesBackToTheSameKey) {
  auto key = *crypto::EcPrivateKey::Generate();
  JwtSigner signer(key);
  auto keys = ParseJwks(signer.JwksJson());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].first, signer.kid());
  EXPECT_TRUE(std::get<crypto::EcPublicKey>((*keys)[0].second.key) == key.PublicKey());
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
}  // namespace medledger::auth

namespace medledger::auth {
namespace {

// External providers: RS256 is OpenID Connect's default ID token algorithm, PS256 the other common RSA one.
class RsaJwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rsa_ = std::make_unique<testing::RsaTestKey>(); }
  static void TearDownTestSuite() { rsa_.reset(); }

  RsaJwtTest() : ec_(*crypto::EcPrivateKey::Generate()), verifier_(Options()) {
    json rsa_jwk = {{"kty", "RSA"},
                    {"kid", "rsa1"},
                    {"use", "sig"},
                    {"n", Base64UrlEncode(rsa_->modulus())},
                    {"e", Base64UrlEncode(rsa_->exponent())}};
    jwks_["keys"] = json::array({rsa_jwk, json::parse(PublicJwkJson(ec_.PublicKey(), "ec1"))});
    auto keys = ParseJwks(jwks_.dump());  // named: a range-for over *temporary would dangle
    for (auto& [kid, key] : *keys) verifier_.AddKey(kid, std::move(key));
  }
  static JwtVerifyOptions Options() {
    JwtVerifyOptions o{"https://idp", "medledger-web"};
    o.require_low_s = false;
    o.algorithms = {"ES256", "RS256", "PS256"};
    return o;
  }
  static json Payload() {
    return {{"iss", "https://idp"}, {"aud", "medledger-web"}, {"sub", "u-42"}, {"iat", kNow}, {"exp", kNow + 300}};
  }
  static std::string SignRsa(const std::string& alg, const std::string& kid, const json& payload) {
    json header = {{"alg", alg}, {"kid", kid}, {"typ", "JWT"}};
    std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
    return input + "." + Base64UrlEncode(rsa_->Sign(input, alg == "PS256"));
  }
  std::string Code(const std::string& token) const {
    auto r = verifier_.Verify(token, kNow);
    return r.ok() ? "ok" : r.error().code;
  }

  static std::unique_ptr<testing::RsaTestKey> rsa_;
  crypto::EcPrivateKey ec_;
  json jwks_;
  JwtVerifier verifier_;
};
std::unique_ptr<testing::RsaTestKey> RsaJwtTest::rsa_;

TEST_F(RsaJwtTest, AcceptsRs256AndPs256FromTheJwks) {
  auto claims = verifier_.Verify(SignRsa("RS256", "rsa1", Payload()), kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "u-42");
  EXPECT_EQ(Code(SignRsa("PS256", "rsa1", Payload())), "ok");
  // ES256 from the same JWKS still works alongside.
  json header = {{"alg", "ES256"}, {"kid", "ec1"}};
  EXPECT_EQ(Code(SignRaw(ec_, header, Payload())), "ok");
}

TEST_F(RsaJwtTest, RefusesTamperingAndAlgorithmConfusion) {
  std::string token = SignRsa("RS256", "rsa1", Payload());
  std::string tampered = token;
  tampered[token.find('.') + 4] ^= 0x01;
  EXPECT_EQ(Code(tampered), "token_invalid");
  std::string bad_sig = token;
  bad_sig[bad_sig.size() - 5] = bad_sig[bad_sig.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Code(bad_sig), "token_invalid");
  // The padding is the algorithm's: an RS256 signature labelled PS256 (or the reverse) does not verify.
  json ps_header = {{"alg", "PS256"}, {"kid", "rsa1"}};
  std::string input = Base64UrlEncode(ps_header.dump()) + "." + Base64UrlEncode(Payload().dump());
  EXPECT_EQ(Code(input + "." + Base64UrlEncode(rsa_->Sign(input, /*pss=*/false))), "token_invalid");
  // An RSA alg naming the EC key's kid, or ES256 naming the RSA key's, is refused whatever the signature.
  EXPECT_EQ(Code(SignRsa("RS256", "ec1", Payload())), "token_invalid");
  json es_header = {{"alg", "ES256"}, {"kid", "rsa1"}};
  EXPECT_EQ(Code(SignRaw(ec_, es_header, Payload())), "token_invalid");
  // HS256 keyed with the RSA modulus (the classic confusion attack) and "none" are not algorithms here.
  EXPECT_EQ(Code(SignRsa("HS256", "rsa1", Payload())), "token_invalid");
  EXPECT_EQ(Code(SignRsa("none", "rsa1", Payload())), "token_invalid");
  EXPECT_EQ(Code(SignRsa("RS512", "rsa1", Payload())), "token_invalid");
}

TEST_F(RsaJwtTest, BuiltInVerifierStaysEs256Only) {
  JwtVerifier builtin({"https://idp", "medledger-web"});
  auto keys = ParseJwks(jwks_.dump());
  for (auto& [kid, key] : *keys) builtin.AddKey(kid, std::move(key));
  auto r = builtin.Verify(SignRsa("RS256", "rsa1", Payload()), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unsupported alg");
}

TEST_F(RsaJwtTest, AJwkAlgBindsItsKeyToThatAlgorithm) {
  jwks_["keys"][0]["alg"] = "RS256";
  JwtVerifier strict(Options());
  auto keys = ParseJwks(jwks_.dump());
  for (auto& [kid, key] : *keys) strict.AddKey(kid, std::move(key));
  EXPECT_TRUE(strict.Verify(SignRsa("RS256", "rsa1", Payload()), kNow).ok());
  EXPECT_FALSE(strict.Verify(SignRsa("PS256", "rsa1", Payload()), kNow).ok());
}

// Property: changing any byte of a signed token's header or payload, or cutting it anywhere, never yields a
// token that verifies, whatever the algorithm; and the JWKS parser survives arbitrary mutations of a real
// document. (fuzz/jwt_fuzzer.cpp does the same unguided under libFuzzer.)
TEST_F(RsaJwtTest, MutatedTokensNeverVerify) {
  std::mt19937 rng(20261124);
  const std::vector<std::string> tokens = {SignRsa("RS256", "rsa1", Payload()), SignRsa("PS256", "rsa1", Payload()),
                                           SignRaw(ec_, {{"alg", "ES256"}, {"kid", "ec1"}}, Payload())};
  for (const std::string& token : tokens) {
    ASSERT_EQ(Code(token), "ok");
    const size_t signed_part = token.rfind('.');
    for (int i = 0; i < 400; ++i) {
      std::string m = token;
      const size_t at = rng() % signed_part;
      const char c = static_cast<char>(rng() % 256);
      if (c == m[at]) continue;
      m[at] = c;
      EXPECT_NE(Code(m), "ok") << m;
      EXPECT_NE(Code(token.substr(0, rng() % token.size())), "ok");
    }
  }
  const std::string doc = jwks_.dump();
  for (int i = 0; i < 2000; ++i) {
    std::string m = doc;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<char>(rng() % 256);
    auto keys = ParseJwks(m);
    if (keys.ok()) {
      for (const auto& [kid, key] : *keys) EXPECT_FALSE(kid.empty());
    }
  }
}

TEST(JwksRsaTest, SkipsWeakEncryptionAndMalformedRsaKeys) {
  testing::RsaTestKey weak(1024);
  testing::RsaTestKey good;
  auto jwk = [](const testing::RsaTestKey& k, json extra) {
    json j = {{"kty", "RSA"}, {"n", Base64UrlEncode(k.modulus())}, {"e", Base64UrlEncode(k.exponent())}};
    j.update(extra);
    return j;
  };
  json doc = {{"keys",
               {jwk(weak, {{"kid", "weak"}}), jwk(good, {{"kid", "enc"}, {"use", "enc"}}),
                jwk(good, {{"kid", "oaep"}, {"alg", "RSA-OAEP"}}), jwk(good, {{"kid", "bad-n"}, {"n", "!!"}}),
                jwk(good, {{"kid", "num-n"}, {"n", 5}}), jwk(good, {{"kid", "alg-num"}, {"alg", 1}}),
                jwk(good, json::object())}}};
  auto keys = ParseJwks(doc.dump());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);  // only the last, which has no kid: it gets its RFC 7638 thumbprint
  const std::string expected =
      Base64UrlEncode(crypto::Sha256(R"({"e":")" + Base64UrlEncode(good.exponent()) + R"(","kty":"RSA","n":")" +
                                     Base64UrlEncode(good.modulus()) + R"("})"));
  EXPECT_EQ((*keys)[0].first, expected);
}

}  // namespace
}  // namespace medledger::auth
