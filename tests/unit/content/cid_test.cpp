#include "content/cid.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "content/dag_pb.h"
#include "content/importer.h"
#include "content/multibase.h"
#include "content/varint.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

TEST(Varint, RoundTripsAndRejectsBadInput) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 16383ull, 16384ull, 0xffffffffull, ~0ull}) {
    std::string s;
    PutVarint(&s, v);
    EXPECT_EQ(s.size(), VarintLength(v));
    std::string_view in = s;
    auto r = ReadVarint(&in);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, v);
    EXPECT_TRUE(in.empty());
  }
  std::string_view truncated = "\x80";
  EXPECT_EQ(ReadVarint(&truncated).error().code, "varint_truncated");
  std::string_view overflow("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  EXPECT_EQ(ReadVarint(&overflow).error().code, "varint_overflow");
  std::string_view non_minimal("\x81\x00", 2);
  EXPECT_EQ(ReadVarint(&non_minimal).error().code, "varint_not_minimal");
  std::string_view sample("\xac\x02", 2);  // protobuf docs: 300
  EXPECT_EQ(ReadVarint(&sample).value(), 300u);
}

TEST(Multibase, Rfc4648AndBitcoinVectors) {
  EXPECT_EQ(Base32LowerEncode(""), "");
  EXPECT_EQ(Base32LowerEncode("f"), "my");
  EXPECT_EQ(Base32LowerEncode("foobar"), "mzxw6ytboi");
  EXPECT_EQ(Base32Decode("mzxw6ytboi").value(), "foobar");
  EXPECT_EQ(Base32Decode("MZXW6YTBOI").value(), "foobar");
  EXPECT_EQ(Base58BtcEncode("Hello World!"), "2NEpo7TZRRrLZSi2U");
  EXPECT_EQ(Base58BtcEncode(std::string("\0\0\x01", 3)), "112");
  EXPECT_EQ(Base58BtcDecode("2NEpo7TZRRrLZSi2U").value(), "Hello World!");
  EXPECT_EQ(Base58BtcDecode("112").value(), std::string("\0\0\x01", 3));
  EXPECT_EQ(Base58BtcDecode("0OIl").error().code, "multibase_invalid");
  EXPECT_EQ(Base32Decode("mZ").error().code, "multibase_invalid");        // mixed case
  EXPECT_EQ(Base32Decode("mz").error().code, "multibase_invalid");        // non-zero trailing bits
  EXPECT_EQ(Base32Decode("my======").error().code, "multibase_invalid");  // padding not allowed
  EXPECT_EQ(MultibaseDecode("mAAAA").error().code, "multibase_unsupported");
}

TEST(Multibase, RandomRoundTrips) {
  for (size_t n = 0; n < 80; ++n) {
    std::string bytes = crypto::RandomBytes(n);
    if (n % 3 == 0 && n > 2) bytes[0] = bytes[1] = '\0';  // leading zeros are special in base58
    EXPECT_EQ(Base32Decode(Base32LowerEncode(bytes)).value(), bytes);
    EXPECT_EQ(Base58BtcDecode(Base58BtcEncode(bytes)).value(), bytes);
  }
}

TEST(Cid, KnownVectors) {
  // `echo -n "hello world" | ipfs add --cid-version=1`
  auto c = Cid::Of(1, kCodecRaw, "hello world");
  EXPECT_EQ(c.ToString(), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  EXPECT_EQ(HexEncode(c.digest()), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  // The empty raw block.
  EXPECT_EQ(Cid::Of(1, kCodecRaw, "").ToString(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

TEST(Cid, ParseFormatsRoundTrip) {
  for (const char* text : {"QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
                           "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"}) {
    auto c = Cid::Parse(text);
    ASSERT_TRUE(c.ok()) << text << ": " << c.error().ToString();
    EXPECT_EQ(c->ToString(), text);
    auto again = Cid::FromBytes(c->Bytes());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *c);
  }
  auto v0 = Cid::Parse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH").value();
  EXPECT_EQ(v0.version(), 0);
  EXPECT_EQ(v0.codec(), kCodecDagPb);
  // The same CID as v1 (dag-pb) in other multibases parses to the same digest.
  Cid v1 = v0.ToV1();
  EXPECT_EQ(v1.ToString().substr(0, 4), "bafy");
  EXPECT_EQ(Cid::Parse("z" + Base58BtcEncode(v1.Bytes())).value(), v1);
  EXPECT_EQ(Cid::Parse("f" + HexEncode(v1.Bytes())).value(), v1);
  std::string upper = v1.ToString();
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(Cid::Parse(upper).value(), v1);
}

TEST(Cid, MalformedInputGivesPreciseErrors) {
  EXPECT_EQ(Cid::Parse("").error().code, "cid_invalid");
  EXPECT_EQ(Cid::Parse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ0").error().code, "multibase_invalid");
  // Dropping the last character leaves non-canonical trailing bits; dropping a byte leaves a short digest.
  EXPECT_EQ(Cid::Parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5").error().code, "multibase_invalid");
  std::string short_digest = Cid::Of(1, kCodecRaw, "x").Bytes();
  short_digest.pop_back();
  EXPECT_EQ(Cid::Parse("b" + Base32LowerEncode(short_digest)).error().code, "cid_invalid");
  EXPECT_EQ(Cid::Parse("xyz").error().code, "multibase_unsupported");
  // CIDv1 with a sha2-512 multihash (0x13).
  std::string bytes = "\x01\x55\x13\x40" + std::string(64, 'a');
  EXPECT_EQ(Cid::FromBytes(bytes).error().code, "cid_unsupported_hash");
  // dag-cbor (0x71) is not something a UnixFS file is made of.
  EXPECT_EQ(Cid::FromBytes("\x01\x71\x12\x20" + std::string(32, 'a')).error().code, "cid_unsupported_codec");
  EXPECT_EQ(Cid::FromBytes("\x02\x55\x12\x20" + std::string(32, 'a')).error().code, "cid_invalid");
  EXPECT_EQ(Cid::FromBytes("\x01\x55\x12\x20" + std::string(31, 'a')).error().code, "cid_invalid");
}

TEST(DagPb, EmptyFileLeafIsByteExact) {
  // go-ipfs: PBNode{Data: UnixFS{Type: File, filesize: 0}} = 0a 04 08 02 18 00.
  auto dag = ImportFile("", ImportOptions::Ipfs(0)).value();
  ASSERT_EQ(dag.blocks.size(), 1u);
  EXPECT_EQ(HexEncode(dag.blocks[0].data()), "0a0408021800");
  EXPECT_EQ(dag.root.ToString(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
}

TEST(DagPb, NodeRoundTripAndStrictDecoding) {
  PbNode node;
  node.links.push_back(PbLink{Cid::Of(1, kCodecRaw, "a"), "", 1});
  node.links.push_back(PbLink{Cid::Of(0, kCodecDagPb, "b"), "name", 300});
  node.data = EncodeUnixFs(UnixFsData{UnixFsType::kFile, std::nullopt, 301, {1, 300}});
  std::string enc = EncodePbNode(node);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), 0x12);  // Links (field 2) come first
  auto dec = DecodePbNode(enc);
  ASSERT_TRUE(dec.ok()) << dec.error().ToString();
  ASSERT_EQ(dec->links.size(), 2u);
  EXPECT_EQ(dec->links[0].hash, node.links[0].hash);
  EXPECT_EQ(dec->links[1].name, "name");
  EXPECT_EQ(dec->links[1].tsize, 300u);
  auto fs = DecodeUnixFs(*dec->data).value();
  EXPECT_EQ(fs.type, UnixFsType::kFile);
  EXPECT_EQ(*fs.filesize, 301u);
  EXPECT_EQ(fs.blocksizes, (std::vector<uint64_t>{1, 300}));
  EXPECT_EQ(EncodePbNode(*dec), enc);

  EXPECT_EQ(DecodePbNode("\x0a\x05"
                         "abc")
                .error()
                .code,
            "dagpb_invalid");                                                 // truncated
  EXPECT_EQ(DecodePbNode("\x1a\x00").error().code, "dagpb_invalid");          // unknown field 3
  EXPECT_EQ(DecodePbNode("\x08\x01").error().code, "dagpb_invalid");          // wrong wire type
  EXPECT_EQ(DecodePbNode("\x0a\x00\x12\x00").error().code, "dagpb_invalid");  // link after data
  EXPECT_EQ(DecodePbNode("\x12\x00").error().code, "dagpb_invalid");          // link without hash
  EXPECT_EQ(DecodeUnixFs("\x12\x00").error().code, "unixfs_invalid");         // no Type
  EXPECT_EQ(DecodeUnixFs("\x08\x09").error().code, "unixfs_invalid");         // bad Type
}

TEST(Importer, SingleChunkVectors) {
  // `echo -n "hello world" | ipfs add` and `... --cid-version=1`.
  EXPECT_EQ(ComputeCid("hello world", ImportOptions::Ipfs(0)).value().ToString(),
            "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
  EXPECT_EQ(ComputeCid("hello world", ImportOptions::Ipfs(1)).value().ToString(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  EXPECT_EQ(ComputeCid("", ImportOptions::Ipfs(1)).value().ToString(),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  // A single-chunk CIDv1 file is just the raw block.
  std::string chunk(kDefaultChunkSize, 'x');
  auto dag = ImportFile(chunk, ImportOptions::Ipfs(1)).value();
  ASSERT_EQ(dag.blocks.size(), 1u);
  EXPECT_EQ(dag.root, Cid::Of(1, kCodecRaw, chunk));
  EXPECT_EQ(ComputeCid("x", ImportOptions::Ipfs(2)).error().code, "invalid_cid_version");
}

// Walks a DAG from the importer and checks its structure: the tree invariants ipfs relies on.
uint64_t CheckNode(const ImportedDag& dag, const Cid& cid, size_t max_links, std::string* out, int* depth) {
  for (const auto& b : dag.blocks) {
    if (b.cid != cid) continue;
    EXPECT_TRUE(cid.Matches(b.data()));
    if (cid.codec() == kCodecRaw) {
      out->append(b.data());
      *depth = 0;
      return b.data().size();
    }
    auto node = DecodePbNode(b.data()).value();
    auto fs = DecodeUnixFs(*node.data).value();
    EXPECT_LE(node.links.size(), max_links);
    EXPECT_EQ(fs.blocksizes.size(), node.links.size());
    if (fs.data) out->append(*fs.data);
    uint64_t tsize = b.data().size();
    int child_depth = -1;
    for (size_t i = 0; i < node.links.size(); ++i) {
      size_t before = out->size();
      int d = 0;
      uint64_t t = CheckNode(dag, node.links[i].hash, max_links, out, &d);
      EXPECT_EQ(t, node.links[i].tsize);
      EXPECT_EQ(out->size() - before, fs.blocksizes[i]);
      if (child_depth >= 0) {
        EXPECT_EQ(d, child_depth);  // balanced: siblings have equal depth
      }
      child_depth = d;
      tsize += t;
    }
    *depth = child_depth + 1;
    return tsize;
  }
  ADD_FAILURE() << "missing block " << cid.ToString();
  return 0;
}

TEST(Importer, BalancedTreesReassembleExactly) {
  // Small chunks and a small fan-out exercise three-level trees quickly; the structure is size-independent.
  for (int version : {0, 1}) {
    for (size_t size : {0u, 1u, 9u, 10u, 11u, 40u, 41u, 160u, 161u, 1000u}) {
      std::string bytes = crypto::RandomBytes(size);
      ImportOptions o = ImportOptions::Ipfs(version);
      o.chunk_size = 10;
      o.max_links = 4;
      auto dag = ImportFile(bytes, o).value();
      EXPECT_EQ(dag.root, dag.blocks.back().cid);
      std::string out;
      int depth = 0;
      CheckNode(dag, dag.root, o.max_links, &out, &depth);
      EXPECT_EQ(out, bytes) << "size " << size << " v" << version;
      size_t chunks = size == 0 ? 1 : (size + 9) / 10;
      int expected_depth = 0;
      for (size_t cap = 1; cap < chunks; cap *= 4) ++expected_depth;
      EXPECT_EQ(depth, expected_depth) << "size " << size;
    }
  }
}

TEST(Importer, ParallelHashingMatchesSerial) {
  std::string bytes = crypto::RandomBytes(5 * kDefaultChunkSize + 17);
  ImportOptions serial = ImportOptions::Ipfs(1);
  serial.threads = 1;
  ImportOptions parallel = ImportOptions::Ipfs(1);
  parallel.threads = 4;
  EXPECT_EQ(ComputeCid(bytes, serial).value(), ComputeCid(bytes, parallel).value());
}

}  // namespace
}  // namespace medledger::content
