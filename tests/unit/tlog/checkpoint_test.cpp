#include "tlog/checkpoint.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::tlog {
namespace {

// The example of C2SP tlog-checkpoint and tlog-cosignature.
constexpr const char* kSpecBody =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

TEST(Checkpoint, ParsesAndFormatsTheSpecExample) {
  auto c = ParseCheckpoint(kSpecBody);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(c->size, 20852163u);
  EXPECT_EQ(Base64Encode(c->root_hash), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_EQ(FormatCheckpoint(*c), kSpecBody);
  auto ext = ParseCheckpoint(std::string(kSpecBody) + "ext one\next two\n");
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->extensions, (std::vector<std::string>{"ext one", "ext two"}));
  EXPECT_EQ(FormatCheckpoint(*ext), std::string(kSpecBody) + "ext one\next two\n");
  EXPECT_EQ(ParseCheckpoint("o\n0\n" + Base64Encode(EmptyRoot()) + "\n")->size, 0u);
  EXPECT_EQ(ParseCheckpoint("o\n18446744073709551615\n" + Base64Encode(EmptyRoot()) + "\n")->size, UINT64_MAX);
}

TEST(Checkpoint, StrictParsing) {
  const std::string root = Base64Encode(EmptyRoot());
  for (const std::string& bad : {
           std::string(""),
           std::string("o\n1\n"),
           "o\n1\n" + root,
           "\n1\n" + root + "\n",
           "o\n01\n" + root + "\n",
           "o\n+1\n" + root + "\n",
           "o\n-1\n" + root + "\n",
           "o\n 1\n" + root + "\n",
           "o\n1 \n" + root + "\n",
           "o\n\n" + root + "\n",
           "o\n18446744073709551616\n" + root + "\n",
           "o\n1\n" + root.substr(0, root.size() - 1) + "\n",  // unpadded
           "o\n1\n" + Base64Encode(std::string(31, 'a')) + "\n",
           "o\n1\n" + Base64Encode(std::string(33, 'a')) + "\n",
           "o\n1\n" + root + "\n\n",  // empty extension line
           "o\n1\n" + root + "\next\n\n",
           "o\x01\n1\n" + root + "\n",
       }) {
    EXPECT_EQ(ParseCheckpoint(bad).error().code, "invalid_checkpoint") << bad;
  }
  // A non-canonical base64 spelling of a 32-byte hash (non-zero padding bits).
  std::string noncanon = root;
  noncanon[noncanon.size() - 2] = noncanon[noncanon.size() - 2] == 'U' ? 'V' : 'U';
  if (Base64Decode(noncanon).ok()) {
    EXPECT_FALSE(ParseCheckpoint("o\n1\n" + noncanon + "\n").ok());
  }
}

TEST(Checkpoint, OpenVerifiesTheLogSignatureAndOrigin) {
  auto log = NoteSigner::Generate("medledger/Org1MSP/reports", SignatureType::kEd25519).value();
  Checkpoint c{"medledger/Org1MSP/reports", 7, LeafHash("x"), {}};
  const std::string note = SignNote(FormatCheckpoint(c), log).value();
  auto opened = OpenCheckpoint(note, log.Verifier());
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->checkpoint, c);

  auto other = NoteSigner::Generate("medledger/Org2MSP/reports", SignatureType::kEd25519).value();
  EXPECT_EQ(OpenCheckpoint(note, other.Verifier()).error().code, "note_unverified");
  Checkpoint wrong_origin = c;
  wrong_origin.origin = "somewhere/else";
  EXPECT_EQ(OpenCheckpoint(SignNote(FormatCheckpoint(wrong_origin), log).value(), log.Verifier()).error().code,
            "checkpoint_origin_mismatch");
  EXPECT_EQ(OpenCheckpoint(SignNote("not a checkpoint\n", log).value(), log.Verifier()).error().code,
            "invalid_checkpoint");
}

TEST(Cosignature, SignAndVerify) {
  auto witness = NoteSigner::Generate("witness.example/w1", SignatureType::kCosignatureV1).value();
  const std::string body = kSpecBody;
  auto sig = Cosign(witness, body, 1679315147);
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  // key ID(4) || time(8) || signature(64)
  EXPECT_EQ(Base64Decode(sig->base64)->size(), 76u);
  EXPECT_EQ(DecodeFixed64(sig->signature.data()), 1679315147u);
  auto time = VerifyCosignature(witness.Verifier(), body, sig->Line());
  ASSERT_TRUE(time.ok()) << time.error().ToString();
  EXPECT_EQ(*time, 1679315147u);
  // The message is exactly the spec's: header, time line, checkpoint body.
  EXPECT_TRUE(
      witness.key_pair().public_key().Verify("cosignature/v1\ntime 1679315147\n" + body, sig->signature.substr(8)));

  // Another body, another key, or a changed time fails.
  EXPECT_EQ(
      VerifyCosignature(witness.Verifier(),
                        "example.com/behind-the-sofa\n20852164\n" + std::string(kSpecBody).substr(37), sig->Line())
          .error()
          .code,
      "cosignature_invalid");
  auto other = NoteSigner::Generate("witness.example/w1", SignatureType::kCosignatureV1).value();
  EXPECT_EQ(VerifyCosignature(other.Verifier(), body, sig->Line()).error().code, "cosignature_unknown_key");
  NoteSignature retimed = *sig;
  retimed.signature[7] ^= 1;
  std::string raw;
  PutFixed32(&raw, retimed.key_id);
  retimed.base64 = Base64Encode(raw + retimed.signature);
  EXPECT_EQ(VerifyCosignature(witness.Verifier(), body, retimed.Line()).error().code, "cosignature_invalid");
  // A plain (0x01) key cannot cosign, and a cosignature key is not a log key.
  auto plain = NoteSigner::Generate("witness.example/w1", SignatureType::kEd25519).value();
  EXPECT_FALSE(Cosign(plain, body, 1).ok());
  EXPECT_FALSE(Cosign(witness, body, static_cast<uint64_t>(INT64_MAX) + 1).ok());
}

TEST(Cosignature, CosignedCheckpointOpensWithBothKeys) {
  auto log = NoteSigner::Generate("log.example", SignatureType::kEd25519).value();
  auto witness = NoteSigner::Generate("witness.example/w1", SignatureType::kCosignatureV1).value();
  const std::string body = FormatCheckpoint({"log.example", 3, LeafHash("r"), {}});
  const std::string note = SignNote(body, log).value() + Cosign(witness, body, 1700000000).value().Line();
  auto opened = OpenNote(note, {log.Verifier(), witness.Verifier()});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->verified.size(), 2u);
  // Only the log key known: the cosignature is ignored, the checkpoint still opens.
  EXPECT_TRUE(OpenCheckpoint(note, log.Verifier()).ok());
}

}  // namespace
}  // namespace medledger::tlog
