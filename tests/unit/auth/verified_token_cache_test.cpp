#include "auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "crypto/ecdsa.h"

namespace medledger::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;

class VerifiedTokenCacheTest : public ::testing::Test {
 protected:
  VerifiedTokenCacheTest() : signer_(*crypto::EcPrivateKey::Generate()), verifier_({"https://iss", "api"}) {
    verifier_.AddKey(signer_.kid(), signer_.public_key());
  }
  std::string Token(const std::string& sub, int64_t exp = kNow + 900, int64_t nbf = kNow) const {
    JwtClaims c;
    c.iss = "https://iss";
    c.aud = "api";
    c.sub = sub;
    c.jti = "j-" + sub;
    c.iat = nbf;
    c.nbf = nbf;
    c.exp = exp;
    return *signer_.Sign(c);
  }

  JwtSigner signer_;
  JwtVerifier verifier_;
};

TEST_F(VerifiedTokenCacheTest, RepeatsAreAnsweredFromTheCacheWithTheSameClaims) {
  VerifiedTokenCache cache(verifier_);
  const std::string token = Token("dr.house");
  auto first = cache.Verify(token, kNow);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(cache.hits(), 0u);
  auto second = cache.Verify(token, kNow + 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(second->sub, "dr.house");
  EXPECT_EQ(second->jti, first->jti);
  EXPECT_EQ(second->raw_payload, first->raw_payload);
}

TEST_F(VerifiedTokenCacheTest, ACachedTokenStillExpiresOnTime) {
  VerifiedTokenCache cache(verifier_);
  const std::string token = Token("dr.house", kNow + 60);
  ASSERT_TRUE(cache.Verify(token, kNow).ok());
  // Within the 30 s leeway after exp it is still accepted; at exp + leeway it is expired, as uncached.
  EXPECT_TRUE(cache.Verify(token, kNow + 60 + 29).ok());
  auto late = cache.Verify(token, kNow + 60 + 30);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "token_expired");
  EXPECT_EQ(late.error().code, verifier_.Verify(token, kNow + 60 + 30).error().code);
}

TEST_F(VerifiedTokenCacheTest, ACachedTokenIsNotValidBeforeItsNotBefore) {
  VerifiedTokenCache cache(verifier_);
  const std::string token = Token("dr.house", kNow + 900, kNow + 100);
  ASSERT_TRUE(cache.Verify(token, kNow + 100).ok());
  auto early = cache.Verify(token, kNow + 100 - 31);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, "token_invalid");
}

TEST_F(VerifiedTokenCacheTest, AnyChangedByteIsVerifiedInFullAndRefused) {
  VerifiedTokenCache cache(verifier_);
  const std::string token = Token("dr.house");
  ASSERT_TRUE(cache.Verify(token, kNow).ok());
  // Every single-byte change of a token that is in the cache: none may ride on the cached verdict.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string forged = token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    auto r = cache.Verify(forged, kNow);
    EXPECT_FALSE(r.ok()) << "byte " << i;
  }
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(VerifiedTokenCacheTest, RefusedTokensAreNotStored) {
  VerifiedTokenCache cache(verifier_);
  JwtSigner stranger(*crypto::EcPrivateKey::Generate());
  JwtClaims c;
  c.iss = "https://iss";
  c.aud = "api";
  c.sub = "mallory";
  c.exp = kNow + 900;
  const std::string foreign = *stranger.Sign(c);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cache.Verify(foreign, kNow).ok());
  EXPECT_FALSE(cache.Verify("not.a.token", kNow).ok());
  EXPECT_FALSE(cache.Verify(std::string(kMaxTokenBytes + 1, 'a'), kNow).ok());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(VerifiedTokenCacheTest, StaysWithinItsCapacityAndEvictsTheOldest) {
  VerifiedTokenCache cache(verifier_, 3);
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(Token("user" + std::to_string(i)));
  for (const auto& t : tokens) ASSERT_TRUE(cache.Verify(t, kNow).ok());
  EXPECT_EQ(cache.size(), 3u);
  // The two oldest were evicted: verifying them again is a miss (and still succeeds).
  ASSERT_TRUE(cache.Verify(tokens[4], kNow).ok());
  EXPECT_EQ(cache.hits(), 1u);
  ASSERT_TRUE(cache.Verify(tokens[0], kNow).ok());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(JwtLifetimeTest, AnExpiryNearTheEndOfTimeDoesNotOverflow) {
  JwtVerifier verifier({"https://iss", "api"});
  JwtClaims c;
  c.exp = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(verifier.CheckLifetime(c, kNow).ok());
  c.exp = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(verifier.CheckLifetime(c, kNow).error().code, "token_expired");
}

}  // namespace
}  // namespace medledger::auth
