#include "identity/signing_identity.h"

#include <gtest/gtest.h>

#include <random>

#include "crypto/random.h"

namespace medledger::identity {
namespace {

SigningIdentity MakeIdentity() {
  auto key = crypto::EcPrivateKey::Generate().value();
  auto cert = crypto::IssueCertificate({.common_name = "alice", .organization = "Hospital", .is_ca = true},
                                       key.PublicKey(), key, nullptr)
                  .value();
  return SigningIdentity("HospitalMSP", cert, key);
}

TEST(SerializedIdentity, KnownEncoding) {
  // Field 1 (tag 0x0a) len 3 "Org", field 2 (tag 0x12) len 4 "cert": what protoc emits for these values.
  EXPECT_EQ(SerializeIdentity("Org", "cert"), std::string("\x0a\x03Org\x12\x04"
                                                          "cert"));
  std::string long_pem(300, 'p');
  std::string enc = SerializeIdentity("M", long_pem);
  EXPECT_EQ(enc.substr(0, 6), std::string("\x0a\x01M\x12\xac\x02"));  // 300 = varint ac 02
  auto parsed = ParseSerializedIdentity(enc).value();
  EXPECT_EQ(parsed.first, "M");
  EXPECT_EQ(parsed.second, long_pem);
}

TEST(SerializedIdentity, IdentityRoundTripAndSignature) {
  SigningIdentity id = MakeIdentity();
  auto parsed = ParseSerializedIdentity(id.serialized()).value();
  EXPECT_EQ(parsed.first, "HospitalMSP");
  EXPECT_EQ(parsed.second, id.cert_pem());
  auto cert = crypto::Certificate::FromPem(parsed.second).value();
  std::string sig = id.Sign("proposal bytes").value();
  EXPECT_TRUE(crypto::IsLowS(sig));
  EXPECT_TRUE(cert.PublicKey().Verify("proposal bytes", sig));
}

TEST(SerializedIdentity, SkipsUnknownFieldsInAnyOrder) {
  std::string enc = std::string("\x18\x96\x01", 3) + SerializeIdentity("M", "pem").substr(3) + "\x25" +
                    std::string(4, 'x') + SerializeIdentity("M", "pem").substr(0, 3);
  auto parsed = ParseSerializedIdentity(enc);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->first, "M");
  EXPECT_EQ(parsed->second, "pem");
}

TEST(SerializedIdentity, MalformedInputsArePreciseErrors) {
  const std::string good = SerializeIdentity("M", "pem");
  const std::vector<std::string> bad = {
      "",
      good.substr(0, good.size() - 1),               // truncated value
      std::string("\x0a\x05M", 3) + good.substr(3),  // length past the end
      std::string("\x08\x01", 2) + good.substr(3),   // field 1 as a varint
      good + good.substr(0, 3),                      // mspid twice
      std::string("\x12\x03pem", 5),                 // no mspid
      std::string("\x0a\x01M", 3),                   // no id_bytes
      std::string("\x0a\x00\x12\x03pem", 7),         // empty mspid
      std::string("\x0a\x01\xff\x12\x03pem", 8),     // mspid not UTF-8
      good + "\x0b",                                 // group start (wire type 3)
      good + "\x0f",                                 // wire type 7
      good + std::string(1, '\0'),                   // field number 0
      good + std::string(11, '\x80'),                // overlong varint key
      good + "\x1a",                                 // unknown length-delimited field, no length
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto r = ParseSerializedIdentity(bad[i]);
    ASSERT_FALSE(r.ok()) << "case " << i;
    EXPECT_EQ(r.error().code, "bad_identity") << "case " << i;
  }
}

// Property: random bytes and random mutations of a valid message never crash, and whatever parses
// re-serializes to a message that parses to the same fields.
TEST(SerializedIdentity, RandomBytesProperty) {
  std::mt19937_64 rng(20261123);
  const std::string good = MakeIdentity().serialized();
  int parsed_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input = crypto::RandomBytes(rng() % 64);
    } else {
      input = good;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) input[rng() % input.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) input.resize(rng() % input.size());
    }
    auto r = ParseSerializedIdentity(input);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "bad_identity");
      continue;
    }
    ++parsed_ok;
    EXPECT_FALSE(r->first.empty());
    EXPECT_FALSE(r->second.empty());
    auto again = ParseSerializedIdentity(SerializeIdentity(r->first, r->second));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->first, r->first);
    EXPECT_EQ(again->second, r->second);
  }
  EXPECT_GT(parsed_ok, 0);  // mutations inside the PEM still parse: the property was exercised
}

TEST(SigningIdentity, CreateRejectsMismatchedKey) {
  SigningIdentity id = MakeIdentity();
  auto other = crypto::EcPrivateKey::Generate().value();
  EXPECT_EQ(SigningIdentity::Create("M", id.certificate(), other).error().code, "identity_key_mismatch");
  EXPECT_EQ(SigningIdentity::Create("", id.certificate(), id.private_key()).error().code, "bad_identity");
  EXPECT_TRUE(SigningIdentity::Create("M", id.certificate(), id.private_key()).ok());
}

}  // namespace
}  // namespace medledger::identity
