#include "tlog/proof_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/encoding.h"
#include "tlog/merkle.h"

namespace medledger::tlog {
namespace {

using nlohmann::json;

TEST(ProofJsonTest, RoundTripsHashes) {
  const std::vector<std::string> hashes = {std::string(32, '\x01'), std::string(32, '\xfe'), std::string(32, '\0')};
  json encoded = ProofToJson(hashes);
  ASSERT_TRUE(encoded.is_array());
  EXPECT_EQ(encoded[0], Base64Encode(hashes[0]));
  auto back = ProofFromJson(encoded);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, hashes);
  EXPECT_TRUE(ProofFromJson(json::array())->empty());  // a one-leaf tree's proof is empty
}

TEST(ProofJsonTest, RefusesEveryMalformedShapeWithItsReason) {
  const std::string good = Base64Encode(std::string(32, 'a'));
  const struct {
    json in;
    const char* why;
  } cases[] = {
      {json::object(), "is not an array"},
      {json("abc"), "is not an array"},
      {json::array({good, 7}), "not a string"},
      {json::array({good, "!!!"}), "not base64 of 32 bytes"},
      {json::array({Base64Encode(std::string(31, 'a'))}), "not base64 of 32 bytes"},
      {json::array({Base64Encode(std::string(33, 'a'))}), "not base64 of 32 bytes"},
  };
  for (const auto& c : cases) {
    auto r = ProofFromJson(c.in);
    ASSERT_FALSE(r.ok()) << c.in.dump();
    EXPECT_EQ(r.error().code, "proof_malformed");
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
  }
}

TEST(ProofJsonTest, BoundsTheNumberOfHashes) {
  json at_bound = json::array();
  for (size_t i = 0; i < kMaxProofHashes; ++i) at_bound.push_back(Base64Encode(std::string(32, 'h')));
  EXPECT_TRUE(ProofFromJson(at_bound).ok());
  at_bound.push_back(Base64Encode(std::string(32, 'h')));
  auto over = ProofFromJson(at_bound);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("more than 64"), std::string::npos);
}

}  // namespace
}  // namespace medledger::tlog
