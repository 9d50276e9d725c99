// Fabric's wire conventions against fixed vectors: the DER block header, tx IDs, data hashes, codes.
#include "ledger/wire/protoutil.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/hash.h"

namespace medledger::ledger::embedded {
namespace {

std::string Hex(std::string_view s) {
  return HexEncode(s);
}

TEST(ProtoUtil, BlockHeaderAsn1MatchesHandEncodedDer) {
  // SEQUENCE { INTEGER 0, OCTET STRING "", OCTET STRING "" }
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(0, "", "")),
            "3007020100040004"
            "00");
  // 128 needs a leading zero byte to stay positive; 127 does not.
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(127, "", "")), "300702017f04000400");
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(128, "", "")), "30080202008004000400");
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(256, "", "")), "30080202010004000400");
  // The largest block number: 9 content bytes.
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(UINT64_MAX, "", "")), "300f020900ffffffffffffffff04000400");
  // Two 32-byte hashes: body 3 + 34 + 34 = 71 = 0x47.
  std::string a(32, '\x11'), b(32, '\x22');
  EXPECT_EQ(Hex(wire::BlockHeaderAsn1(1, a, b)),
            "3047020101"
            "0420" +
                Hex(a) + "0420" + Hex(b));
  // Long-form lengths once content reaches 128 bytes.
  std::string big(200, '\x33');
  std::string der = wire::BlockHeaderAsn1(2, "", big);
  // body: 3 (INTEGER) + 2 (empty OCTET STRING) + 3 + 200 = 208 = 0xd0.
  EXPECT_EQ(Hex(der.substr(0, 12)),
            "3081d00201020400"
            "0481c833");
  EXPECT_EQ(der.size(), 3u + 0xd0);
}

TEST(ProtoUtil, BlockHeaderHashIsSha256OfDer) {
  std::string prev(32, '\x01'), data(32, '\x02');
  EXPECT_EQ(wire::BlockHeaderHash(7, prev, data), crypto::Sha256(wire::BlockHeaderAsn1(7, prev, data)));
  EXPECT_NE(wire::BlockHeaderHash(7, prev, data), wire::BlockHeaderHash(8, prev, data));
  EXPECT_NE(wire::BlockHeaderHash(7, prev, data), wire::BlockHeaderHash(7, data, prev));
}

TEST(ProtoUtil, TxIdAndDataHashUseTheSha256OfTheConcatenation) {
  // FIPS 180-2 vector: SHA-256("abc").
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(wire::ComputeTxId("ab", "c"), abc);
  EXPECT_EQ(wire::ComputeTxId("", "abc"), abc);
  EXPECT_EQ(Hex(wire::BlockDataHash({"a", "b", "c"})), abc);
  EXPECT_EQ(Hex(wire::BlockDataHash({"abc"})), abc);
  // SHA-256 of the empty string for an empty block.
  EXPECT_EQ(Hex(wire::BlockDataHash({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ProtoUtil, ValidationCodesAndTheirErrors) {
  EXPECT_EQ(wire::TxCodeName(wire::kTxValid), "VALID");
  EXPECT_EQ(wire::TxCodeName(11), "MVCC_READ_CONFLICT");
  EXPECT_EQ(wire::TxCodeName(200), "CODE_200");
  Error dup = wire::TxCodeError(wire::kTxDuplicateTxId, "abc");
  EXPECT_EQ(dup.code, "duplicate_txid");
  EXPECT_EQ(dup.kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(wire::TxCodeError(wire::kTxMvccReadConflict, "x").kind, ErrorKind::kConflict);
  EXPECT_EQ(wire::TxCodeError(wire::kTxBadCreatorSignature, "x").code, "bad_creator_signature");
  EXPECT_EQ(wire::TxCodeError(wire::kTxBadCreatorSignature, "x").kind, ErrorKind::kPermissionDenied);
}

TEST(ProtoUtil, ContractErrorsSplitCodeAndMessage) {
  Error e = wire::ContractError(409, "report_exists: a report with this ID already exists");
  EXPECT_EQ(e.kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(e.code, "report_exists");
  EXPECT_EQ(e.message, "a report with this ID already exists");
  EXPECT_EQ(wire::ContractError(400, "x").kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(wire::ContractError(403, "a: b").kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(wire::ContractError(404, "a: b").kind, ErrorKind::kNotFound);
  EXPECT_EQ(wire::ContractError(500, "boom").kind, ErrorKind::kInternal);
  // Text that does not start with a snake_case code stays whole.
  Error plain = wire::ContractError(400, "Bad Thing: happened");
  EXPECT_EQ(plain.code, "contract_error");
  EXPECT_EQ(plain.message, "Bad Thing: happened");
}

}  // namespace
}  // namespace medledger::ledger::embedded
