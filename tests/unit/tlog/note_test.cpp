#include "tlog/note.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace medledger::tlog {
namespace {

// golang.org/x/mod/sumdb/note's own test keys and signature (note_test.go): our key strings, key IDs and
// signatures are byte-for-byte those of Go's reference implementation.
constexpr const char* kGoVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr const char* kGoSkey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr const char* kGoText =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
constexpr const char* kGoSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

TEST(Note, GoReferenceKeysAndSignature) {
  auto signer = NoteSigner::Parse(kGoSkey);
  ASSERT_TRUE(signer.ok()) << signer.error().ToString();
  EXPECT_EQ(signer->ToString(), kGoSkey);
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->Verifier().ToString(), kGoVkey);
  auto verifier = NoteVerifier::Parse(kGoVkey);
  ASSERT_TRUE(verifier.ok()) << verifier.error().ToString();
  EXPECT_EQ(verifier->ToString(), kGoVkey);

  auto signed_note = SignNote(kGoText, *signer);
  ASSERT_TRUE(signed_note.ok());
  EXPECT_EQ(*signed_note, std::string(kGoText) + "\n" + kGoSig);

  auto opened = OpenNote(*signed_note, {*verifier});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->text, kGoText);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].Line(), kGoSig);
}

TEST(Note, BadKeyStrings) {
  // From Go's tests: wrong length key and unknown algorithm, each with a matching key ID.
  EXPECT_EQ(
      NoteVerifier::Parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").error().code,
      "invalid_vkey");
  EXPECT_EQ(NoteVerifier::Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").error().code,
            "invalid_vkey");
  EXPECT_EQ(NoteVerifier::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").error().code,
            "vkey_id_mismatch");
  for (const char* bad :
       {"", "PeterNeumann", "PeterNeumann+c74f20a3", "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T"}) {
    EXPECT_FALSE(NoteVerifier::Parse(bad).ok()) << bad;
  }
  EXPECT_EQ(
      NoteSigner::Parse("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").error().code,
      "skey_id_mismatch");
  EXPECT_EQ(
      NoteSigner::Parse("PRIVATE+KEYS+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").error().code,
      "invalid_skey");
  EXPECT_EQ(NoteSigner::Parse(kGoVkey).error().code, "invalid_skey");
}

TEST(Note, KeyNames) {
  EXPECT_TRUE(IsValidKeyName("medledger/Org1MSP/reports"));
  EXPECT_TRUE(IsValidKeyName("witness.example/w1"));
  EXPECT_TRUE(IsValidKeyName("\xC3\xA9t\xC3\xA9"));  // UTF-8 is fine
  for (const char* bad : {"", "a b", "a+b", "a\tb", "a\nb",
                          "a\xC2\xA0"
                          "b",
                          "a\xE3\x80\x80"
                          "b",
                          "a\xE2\x80\x89"
                          "b",
                          "\xFF"}) {
    EXPECT_FALSE(IsValidKeyName(bad)) << bad;
  }
}

class NoteOpen : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = NoteSigner::Generate("a.example/log", SignatureType::kEd25519).value();
    b_ = NoteSigner::Generate("b.example/other", SignatureType::kEd25519).value();
  }
  std::optional<NoteSigner> a_;
  std::optional<NoteSigner> b_;
};

TEST_F(NoteOpen, UnknownSignaturesAreIgnoredKnownBadOnesRejectTheNote) {
  const std::string text = "line one\n\nline three\n";
  const std::string note_a = SignNote(text, *a_).value();
  const std::string sig_b = SignText(text, *b_).value().Line();
  const std::string both = note_a + sig_b;

  auto opened = OpenNote(both, {a_->Verifier()});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->text, text);
  EXPECT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->unverified.size(), 1u);

  EXPECT_EQ(OpenNote(both, {}).error().code, "note_unverified");
  // b's signature line under a's name and key ID: a known key whose signature fails.
  NoteSignature forged = SignText(text, *b_).value();
  forged.name = a_->name();
  std::string id;
  PutFixed32(&id, a_->key_id());
  forged.base64 = Base64Encode(id + forged.signature);
  EXPECT_EQ(OpenNote(text + "\n" + forged.Line(), {a_->Verifier()}).error().code, "note_signature_invalid");
  // Same name, different key ID: unknown, so ignored, and then nothing verifies.
  EXPECT_EQ(OpenNote(text + "\n" + sig_b, {a_->Verifier()}).error().code, "note_unverified");
}

TEST_F(NoteOpen, AnyFlippedByteFails) {
  const std::string note = SignNote("origin\n42\nroot\n", *a_).value();
  for (size_t i = 0; i < note.size(); ++i) {
    std::string bad = note;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(OpenNote(bad, {a_->Verifier()}).ok()) << i;
  }
}

TEST_F(NoteOpen, MalformedNotes) {
  const std::string text = "hello\n";
  const std::string line = SignText(text, *a_).value().Line();
  const std::vector<NoteVerifier> known{a_->Verifier()};
  EXPECT_EQ(OpenNote(text + line, known).error().code, "note_malformed");  // no blank line
  EXPECT_EQ(OpenNote(text + "\n" + line.substr(0, line.size() - 1), known).error().code, "note_malformed");
  EXPECT_EQ(OpenNote(text + "\n", known).error().code, "note_malformed");             // no signatures
  EXPECT_EQ(OpenNote("hel\rlo\n\n" + line, known).error().code, "note_malformed");    // control character
  EXPECT_EQ(OpenNote("hel\xFFlo\n\n" + line, known).error().code, "note_malformed");  // not UTF-8
  EXPECT_EQ(OpenNote(text + "\n- " + line.substr(4), known).error().code, "note_malformed");
  EXPECT_EQ(OpenNote(text + "\n" + line + "\n", known).error().code, "note_malformed");  // trailing blank line
  EXPECT_EQ(OpenNote(std::string(kMaxNoteSize + 1, 'a'), known).error().code, "note_too_large");
  // Non-canonical base64 of the same signature: refused rather than matched loosely.
  std::string unpadded = line;
  unpadded.erase(unpadded.size() - 2, 1);
  EXPECT_EQ(OpenNote(text + "\n" + unpadded, known).error().code, "note_malformed");
  // 100 signatures are accepted, 101 are not.
  std::string many = text + "\n";
  for (int i = 0; i < 100; ++i) many += line;
  EXPECT_TRUE(OpenNote(many, known).ok());
  EXPECT_EQ(OpenNote(many + line, known).error().code, "note_malformed");
}

TEST_F(NoteOpen, SignRefusesInvalidText) {
  EXPECT_EQ(SignNote("no newline", *a_).error().code, "note_malformed");
  EXPECT_EQ(SignNote("tab\there\n", *a_).error().code, "note_malformed");
  auto witness = NoteSigner::Generate("w.example", SignatureType::kCosignatureV1).value();
  EXPECT_EQ(SignNote("x\n", witness).error().code, "invalid_argument");
}

TEST_F(NoteOpen, SignerRoundTripsThroughItsKeyString) {
  for (auto type : {SignatureType::kEd25519, SignatureType::kCosignatureV1}) {
    auto s = NoteSigner::Generate("k.example/x", type).value();
    auto back = NoteSigner::Parse(s.ToString());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->ToString(), s.ToString());
    EXPECT_EQ(back->Verifier().ToString(), s.Verifier().ToString());
    auto v = NoteVerifier::Parse(s.Verifier().ToString());
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->type(), type);
    EXPECT_EQ(v->key_id(), KeyId("k.example/x", type, s.key_pair().public_key().bytes()));
  }
}

}  // namespace
}  // namespace medledger::tlog
