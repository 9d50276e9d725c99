// The in-place wire reader agrees with protobuf's parser: last occurrence wins for bytes and scalars, repeated
// occurrences of an embedded message merge, malformed data fails.
#include "reportlog/wire.h"

#include <gtest/gtest.h>

#include <random>

#include "pb/common/common.pb.h"

namespace medledger::reportlog {
namespace {

std::string Field(uint32_t number, std::string_view bytes) {
  std::string out;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint((uint64_t{number} << 3) | 2);
  varint(bytes.size());
  out.append(bytes);
  return out;
}

TEST(Wire, AgreesWithProtobufOnDuplicatesAndMerges) {
  common::ChannelHeader a;
  a.set_tx_id("first");
  a.set_type(3);
  common::ChannelHeader b;
  b.set_tx_id("second");
  b.set_channel_id("ch");
  common::Header h1;
  h1.set_channel_header(a.SerializeAsString());
  h1.set_signature_header("sig1");
  common::Header h2;
  h2.set_channel_header(b.SerializeAsString());
  // Payload with its header field twice and data twice: protobuf merges the headers, keeps the last data.
  const std::string payload =
      Field(1, h1.SerializeAsString()) + Field(2, "d1") + Field(1, h2.SerializeAsString()) + Field(2, "d2");
  common::Payload parsed;
  ASSERT_TRUE(parsed.ParseFromString(payload));

  std::string_view header, data, channel_header, signature_header;
  std::string storage;
  ASSERT_TRUE(wire::Message(payload, 1, &header, &storage));
  ASSERT_TRUE(wire::Bytes(payload, 2, &data));
  EXPECT_EQ(data, parsed.data());
  ASSERT_TRUE(wire::Bytes(header, 1, &channel_header));
  ASSERT_TRUE(wire::Bytes(header, 2, &signature_header));
  EXPECT_EQ(channel_header, parsed.header().channel_header());
  EXPECT_EQ(signature_header, parsed.header().signature_header());
  std::string_view tx_id;
  uint64_t type = 0;
  ASSERT_TRUE(wire::Bytes(channel_header, 5, &tx_id));
  ASSERT_TRUE(wire::Varint(channel_header, 1, &type));
  common::ChannelHeader ch;
  ASSERT_TRUE(ch.ParseFromString(parsed.header().channel_header()));
  EXPECT_EQ(tx_id, ch.tx_id());
  EXPECT_EQ(type, static_cast<uint64_t>(ch.type()));
}

TEST(Wire, MalformedDataFailsWhereProtobufFails) {
  common::Envelope env;
  env.set_payload(std::string(300, 'p'));
  env.set_signature("sig");
  const std::string good = env.SerializeAsString();
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::string bad = good;
    const size_t cut = rng() % bad.size();
    if (i % 2 == 0) {
      bad.resize(cut);
    } else {
      bad[cut] = static_cast<char>(rng());
    }
    common::Envelope parsed;
    const bool proto_ok = parsed.ParseFromString(bad);
    std::string_view payload;
    const bool wire_ok = wire::Bytes(bad, 1, &payload);
    // The reader never accepts what protobuf refuses at this level, and agrees on the field when both accept.
    if (!proto_ok) {
      EXPECT_FALSE(wire_ok && wire::Bytes(bad, 2, &payload)) << i;
    }
    if (proto_ok && wire_ok) {
      EXPECT_EQ(payload, parsed.payload()) << i;
    }
  }
}

}  // namespace
}  // namespace medledger::reportlog
