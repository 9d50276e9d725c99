// The strict parser against nlohmann's own: the same tree for every document within the limits, and the
// precise refusal for nesting beyond them, repeated keys and broken syntax, over random documents.
#include "common/json_strict.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace medledger {
namespace {

using json = nlohmann::json;

std::string Code(const Result<json>& r) {
  return r.ok() ? std::string("ok") : r.error().code;
}

TEST(JsonStrictTest, AcceptsWhatNlohmannAccepts) {
  for (const char* text : {R"({"a":1,"b":[true,false,null],"c":{"d":"e\u00e9"},"f":-1.5e3})", "[]", "{}", "0", "\"s\"",
                           " [1, [2, [3]]] ", R"({"a":{"a":{"a":1}}})", R"([{"k":1},{"k":2}])"}) {
    auto r = ParseStrictJson(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().ToString();
    EXPECT_EQ(*r, json::parse(text)) << text;
  }
}

TEST(JsonStrictTest, RefusesDuplicateKeysAtAnyDepth) {
  for (const char* text : {R"({"a":1,"a":2})", R"({"a":{"b":1,"c":2,"b":3}})", R"([{"x":1},{"y":2,"y":2}])",
                           R"({"role":"patient","role":"admin"})"}) {
    auto r = ParseStrictJson(text);
    EXPECT_EQ(Code(r), "duplicate_json_key") << text;
  }
  // The same key in sibling objects is not a repeat.
  EXPECT_TRUE(ParseStrictJson(R"({"a":{"k":1},"b":{"k":1}})").ok());
}

TEST(JsonStrictTest, RefusesNestingBeyondTheLimitAndNotAtIt) {
  StrictJsonOptions o;
  o.max_depth = 4;
  EXPECT_TRUE(ParseStrictJson("[[[[1]]]]", o).ok());
  EXPECT_EQ(Code(ParseStrictJson("[[[[[1]]]]]", o)), "json_too_deep");
  EXPECT_EQ(Code(ParseStrictJson(R"({"a":{"b":{"c":{"d":{}}}}})", o)), "json_too_deep");
  EXPECT_EQ(ParseStrictJson("[[[[[1]]]]]", o).error().kind, ErrorKind::kInvalidArgument);
}

TEST(JsonStrictTest, RefusesHostileNestingWithoutReadingIt) {
  // 16 MiB of '[' (twice the largest body the server takes): refused at the 33rd bracket, so the time is that
  // of a few bytes, not of building sixteen million arrays (which took seconds and hundreds of MiB).
  const std::string hostile(16u << 20, '[');
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Code(ParseStrictJson(hostile)), "json_too_deep");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(Code(ParseStrictJson(std::string(1u << 20, '{'))), "malformed_json");  // '{' then not a key
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_EQ(Code(ParseStrictJson(objects)), "json_too_deep");
}

TEST(JsonStrictTest, RefusesMalformedInput) {
  for (const char* text : {"", " ", "{", "[1,]", R"({"a":1,})", "{'a':1}", "[1] x", "{} {}", "NaN", "[01]",
                           "/* c */ {}", "{\"a\" 1}", "\"\xff\"", "\"\xc3\"", "[1e99999]x"}) {
    EXPECT_EQ(Code(ParseStrictJson(text)), "malformed_json") << text;
  }
}

// Random documents: a tree of random depth and fan-out, printed; sometimes a repeated key is spliced into
// one of its objects. The oracle is what the generator did.
struct Generated {
  std::string text;
  int depth = 0;
  bool duplicate = false;
};

void Gen(std::mt19937& rng, int levels_left, bool plant_duplicate, std::string& out, int depth, Generated& g) {
  g.depth = std::max(g.depth, depth);
  std::uniform_int_distribution<int> kind(0, levels_left > 0 ? 5 : 2);
  int k = kind(rng);
  if (k == 0) {
    out += std::to_string(rng() % 1000);
    return;
  }
  if (k == 1) {
    out += "\"s" + std::to_string(rng() % 100) + "\"";
    return;
  }
  if (k == 2) {
    out += (rng() % 2) ? "true" : "null";
    return;
  }
  int n = static_cast<int>(rng() % 4);
  if (k == 3) {
    out += '[';
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      Gen(rng, levels_left - 1, plant_duplicate, out, depth + 1, g);
    }
    out += ']';
    g.depth = std::max(g.depth, depth + 1);
    return;
  }
  out += '{';
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "\"k" + std::to_string(i) + "\":";
    Gen(rng, levels_left - 1, plant_duplicate, out, depth + 1, g);
  }
  if (plant_duplicate && !g.duplicate && rng() % 2 == 0) {
    if (n > 0) {
      out += ",\"k" + std::to_string(rng() % static_cast<unsigned>(n)) + "\":0";
      g.duplicate = true;
    }
  }
  out += '}';
  g.depth = std::max(g.depth, depth + 1);
}

TEST(JsonStrictTest, RandomDocumentsProperty) {
  std::mt19937 rng(20261207);
  StrictJsonOptions o;
  o.max_depth = 8;
  int accepted = 0, too_deep = 0, duplicates = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    Generated g;
    std::string text;
    // Wrap in a random number of arrays so that depths both below and above the limit come up often.
    int wraps = static_cast<int>(rng() % 10);
    for (int i = 0; i < wraps; ++i) text += '[';
    Gen(rng, static_cast<int>(rng() % 6), iter % 3 == 0, text, wraps, g);
    for (int i = 0; i < wraps; ++i) text += ']';
    g.depth = std::max(g.depth, wraps);
    auto r = ParseStrictJson(text, o);
    if (g.depth > o.max_depth) {
      // The first bracket past the limit stops the parse, wherever a repeated key may sit after it; one
      // before it (shallower, earlier in the text) is reported instead, so either refusal is right here.
      EXPECT_TRUE(Code(r) == "json_too_deep" || (g.duplicate && Code(r) == "duplicate_json_key")) << text;
      too_deep += Code(r) == "json_too_deep";
    } else if (g.duplicate) {
      EXPECT_EQ(Code(r), "duplicate_json_key") << text;
      ++duplicates;
    } else {
      ASSERT_TRUE(r.ok()) << text << ": " << r.error().ToString();
      EXPECT_EQ(*r, json::parse(text)) << text;
      ++accepted;
    }
  }
  // The generator must exercise all three outcomes, or the property says nothing.
  EXPECT_GT(accepted, 500);
  EXPECT_GT(too_deep, 200);
  EXPECT_GT(duplicates, 100);
}

}  // namespace
}  // namespace medledger
