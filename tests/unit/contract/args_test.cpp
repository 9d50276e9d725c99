#include "contract/args.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace medledger::contract {
namespace {

TEST(Patterns, Identifiers) {
  EXPECT_TRUE(MatchesPattern("report-1.v2:x_y", Pattern::kId));
  EXPECT_TRUE(MatchesPattern(std::string(128, 'a'), Pattern::kId));
  EXPECT_FALSE(MatchesPattern(std::string(129, 'a'), Pattern::kId));
  EXPECT_FALSE(MatchesPattern("", Pattern::kId));
  for (std::string bad : {"a b", "a/b", "a\"b", "\xC3\xA9", "a\nb", "a@b"}) {
    EXPECT_FALSE(MatchesPattern(bad, Pattern::kId)) << bad;
  }
}

TEST(Patterns, Hex64CallerIdCid) {
  EXPECT_TRUE(MatchesPattern(std::string(64, 'f'), Pattern::kHex64));
  EXPECT_FALSE(MatchesPattern(std::string(64, 'F'), Pattern::kHex64));
  EXPECT_FALSE(MatchesPattern(std::string(63, 'a'), Pattern::kHex64));
  EXPECT_FALSE(MatchesPattern(std::string(63, 'a') + "g", Pattern::kHex64));

  EXPECT_TRUE(MatchesPattern("Org1MSP/drhouse", Pattern::kCallerId));
  EXPECT_TRUE(MatchesPattern("Org1MSP/jane@example.org", Pattern::kCallerId));
  EXPECT_FALSE(MatchesPattern("drhouse", Pattern::kCallerId));
  EXPECT_FALSE(MatchesPattern("/drhouse", Pattern::kCallerId));
  EXPECT_FALSE(MatchesPattern("Org1MSP/", Pattern::kCallerId));
  EXPECT_FALSE(MatchesPattern("Org1MSP/a/b", Pattern::kCallerId));
  EXPECT_FALSE(MatchesPattern("Org@1/a", Pattern::kCallerId));

  EXPECT_TRUE(MatchesPattern("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", Pattern::kCid));
  EXPECT_TRUE(MatchesPattern("QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u", Pattern::kCid));
  EXPECT_TRUE(MatchesPattern("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", Pattern::kCid));
  EXPECT_FALSE(MatchesPattern("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5E", Pattern::kCid));
  EXPECT_FALSE(MatchesPattern("QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs80", Pattern::kCid));  // '0' not base58
  EXPECT_FALSE(MatchesPattern("bafk", Pattern::kCid));
  EXPECT_FALSE(MatchesPattern("https://example.org/ipfs/bafkreifzjut3te2nhyekklss27nh3k72ysco7y", Pattern::kCid));
}

TEST(Patterns, Text) {
  EXPECT_TRUE(MatchesPattern("line one\nline\ttwo \xC3\xA9", Pattern::kText));
  EXPECT_FALSE(MatchesPattern(std::string("nul\0", 4), Pattern::kText));
  EXPECT_FALSE(MatchesPattern("bell\a", Pattern::kText));
  EXPECT_FALSE(MatchesPattern("del\x7f", Pattern::kText));
  EXPECT_FALSE(MatchesPattern("\xC3", Pattern::kText));
  EXPECT_EQ(CodePoints("h\xC3\xA9llo \xF0\x9F\x98\x80"), 7u);
}

std::string ErrorCode(std::string_view text, std::initializer_list<std::string_view> allowed) {
  auto r = Args::Parse(text, allowed);
  return r.ok() ? "ok" : r.error().code;
}

TEST(Args, RejectsMalformedDocuments) {
  EXPECT_EQ(ErrorCode("", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("{", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("[]", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("\"a\"", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("null", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("{\"a\":1} x", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("{\"a\":\"\xFF\"}", {"a"}), "invalid_json");  // invalid UTF-8
  EXPECT_EQ(ErrorCode("{\"b\":1}", {"a"}), "unknown_field");
  EXPECT_EQ(ErrorCode("{\"a\":1,\"a\":2}", {"a"}), "duplicate_field");
  EXPECT_EQ(ErrorCode("{\"a\":{\"x\":1,\"x\":2}}", {"a"}), "duplicate_field");
  EXPECT_EQ(ErrorCode("{\"a\":[[[1]]]}", {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode(std::string(200000, '['), {"a"}), "argument_too_large");
  EXPECT_EQ(ErrorCode(std::string(30000, '[') + std::string(30000, ']'), {"a"}), "invalid_json");
  EXPECT_EQ(ErrorCode("{\"a\":\"[[[[[[\"}", {"a"}), "ok");  // brackets inside strings are not nesting
  EXPECT_EQ(ErrorCode("{\"a\":\"\\\"[[[[\"}", {"a"}), "ok");
  EXPECT_EQ(ErrorCode("{}", {"a"}), "ok");
}

TEST(Args, TypedAccessors) {
  auto args = Args::Parse(R"({"s":"abc","n":5,"big":18446744073709551615,"neg":-3,"f":1.5,"b":true,"e":""})",
                          {"s", "n", "big", "neg", "f", "b", "e"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->String("s", 3).value(), "abc");
  EXPECT_EQ(args->String("s", 2).error().code, "field_too_long");
  EXPECT_EQ(args->String("n", 10).error().code, "invalid_field");
  EXPECT_EQ(args->String("missing", 10).error().code, "missing_field");
  EXPECT_EQ(args->String("e", 10).error().code, "missing_field");
  EXPECT_FALSE(args->OptionalString("missing", 10).value().has_value());
  EXPECT_EQ(args->String("s", 10, Pattern::kHex64).error().code, "invalid_field");
  EXPECT_EQ(*args->OptionalInt("n", 1, 10).value(), 5);
  EXPECT_EQ(args->OptionalInt("n", 6, 10).error().code, "out_of_range");
  EXPECT_EQ(args->OptionalInt("big", 1, 100).error().code, "out_of_range");
  EXPECT_EQ(args->OptionalInt("neg", 1, 100).error().code, "out_of_range");
  EXPECT_EQ(args->OptionalInt("f", 1, 100).error().code, "invalid_field");
  EXPECT_EQ(args->OptionalInt("s", 1, 100).error().code, "invalid_field");
  EXPECT_TRUE(*args->OptionalBool("b").value());
  EXPECT_EQ(args->OptionalBool("n").error().code, "invalid_field");
}

TEST(Args, Metadata) {
  auto ok = Args::Parse(R"({"m":{"title":"t","size":3,"ok":true,"flags":["a","b"]}})", {"m"});
  ASSERT_TRUE(ok.ok());
  auto m = ok->OptionalMetadata("m");
  ASSERT_TRUE(m.ok());
  ASSERT_NE(*m, nullptr);
  EXPECT_EQ((**m)["size"], 3);
  auto absent = Args::Parse("{}", {"m"});
  EXPECT_EQ(absent->OptionalMetadata("m").value(), nullptr);

  auto code = [](const std::string& meta) {
    auto a = Args::Parse("{\"m\":" + meta + "}", {"m"});
    if (!a.ok()) return a.error().code;
    auto m = a->OptionalMetadata("m");
    return m.ok() ? std::string("ok") : m.error().code;
  };
  EXPECT_EQ(code("[1]"), "invalid_field");
  EXPECT_EQ(code(R"({"bad key":1})"), "invalid_field");
  EXPECT_EQ(code(R"({"list":[1]})"), "invalid_field");
  EXPECT_EQ(code(R"({"obj":{"x":1}})"), "invalid_field");
  EXPECT_EQ(code(R"({"n":null})"), "invalid_field");
  EXPECT_EQ(code(R"({"t":"a\u0000b"})"), "invalid_field");
  EXPECT_EQ(code("{\"t\":\"" + std::string(513, 'x') + "\"}"), "field_too_long");
  nlohmann::json many = nlohmann::json::object();
  for (int i = 0; i < 17; ++i) many[std::to_string(i) + "k"] = i;
  EXPECT_EQ(code(many.dump()), "invalid_field");
  nlohmann::json big = nlohmann::json::object();
  for (int i = 0; i < 10; ++i) big[std::to_string(i) + "k"] = std::string(500, 'x');
  EXPECT_EQ(code(big.dump()), "field_too_long");
  nlohmann::json list = {{"l", nlohmann::json::array()}};
  for (int i = 0; i < 17; ++i) list["l"].push_back("x");
  EXPECT_EQ(code(list.dump()), "invalid_field");
}

}  // namespace
}  // namespace medledger::contract
