#include "crypto/ed25519.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace medledger::crypto {
namespace {

std::string Unhex(std::string_view h) {
  return HexDecode(h).value();
}

// RFC 8032 §7.1, tests 1 and 2: the seed derives the published public key and the signature is the published
// one (Ed25519 is deterministic), so a wrong key derivation or message handling fails here.
TEST(Ed25519, Rfc8032Vectors) {
  struct Vector {
    const char* seed;
    const char* pub;
    const char* msg;
    const char* sig;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
       "24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
       "eeb00d291612bb0c00"},
  };
  for (const auto& v : vectors) {
    auto key = Ed25519KeyPair::FromSeed(Unhex(v.seed));
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    EXPECT_EQ(HexEncode(key->public_key().bytes()), v.pub);
    auto sig = key->Sign(Unhex(v.msg));
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(HexEncode(*sig), v.sig);
    auto pub = Ed25519PublicKey::FromBytes(Unhex(v.pub));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->Verify(Unhex(v.msg), *sig));
  }
}

TEST(Ed25519, GeneratedKeysSignAndVerify) {
  auto a = Ed25519KeyPair::Generate();
  auto b = Ed25519KeyPair::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->seed(), b->seed());
  auto sig = a->Sign("checkpoint body\n");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(a->public_key().Verify("checkpoint body\n", *sig));
  EXPECT_FALSE(b->public_key().Verify("checkpoint body\n", *sig));
  EXPECT_FALSE(a->public_key().Verify("checkpoint body!", *sig));
  // The seed alone rebuilds the same key.
  auto again = Ed25519KeyPair::FromSeed(a->seed());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), a->public_key());
}

TEST(Ed25519, AnyFlippedSignatureBitFails) {
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign("message");
  ASSERT_TRUE(sig.ok());
  for (size_t i = 0; i < sig->size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string bad = *sig;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(key->public_key().Verify("message", bad)) << i << ":" << bit;
    }
  }
  EXPECT_FALSE(key->public_key().Verify("message", sig->substr(0, 63)));
  EXPECT_FALSE(key->public_key().Verify("message", *sig + "x"));
}

TEST(Ed25519, RejectsWrongKeyLengths) {
  EXPECT_EQ(Ed25519KeyPair::FromSeed(std::string(31, 'a')).error().code, "invalid_key");
  EXPECT_EQ(Ed25519KeyPair::FromSeed(std::string(33, 'a')).error().code, "invalid_key");
  EXPECT_EQ(Ed25519PublicKey::FromBytes("").error().code, "invalid_key");
  EXPECT_EQ(Ed25519PublicKey::FromBytes(std::string(64, 'a')).error().code, "invalid_key");
}

}  // namespace
}  // namespace medledger::crypto
