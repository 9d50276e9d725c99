#include "service/report_sealer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "service/idempotency_store.h"

namespace medledger::service {
namespace {

namespace fs = std::filesystem;

class SealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ml-sealer-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  identity::MasterKey key_ = identity::MasterKey::FromBytes(std::string(32, '\x07'));
};

TEST_F(SealerTest, RoundTripTamperAadAndShred) {
  auto sealer = ReportSealer::Open(dir_ / "keys", key_);
  ASSERT_TRUE(sealer.ok());
  SealContext ctx{"r1", 1, std::string(64, 'a')};
  auto env = sealer->Seal(ctx, "{\"doc\":1}");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->substr(0, 4), "MLE1");
  EXPECT_EQ(env->find("doc"), std::string::npos);  // encrypted
  EXPECT_EQ(*sealer->Open(ctx, *env), "{\"doc\":1}");
  // Every single-byte change of the envelope is caught.
  for (size_t i = 0; i < env->size(); ++i) {
    std::string bad = *env;
    bad[i] ^= 0x20;
    auto r = sealer->Open(ctx, bad);
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.error().kind, ErrorKind::kCorruption);
  }
  // The envelope is bound to its report, version and patient.
  EXPECT_FALSE(sealer->Open({"r1", 2, ctx.patient_id}, *env).ok());
  EXPECT_FALSE(sealer->Open({"r1", 1, std::string(64, 'b')}, *env).ok());
  // A second seal uses a fresh data key: different bytes for the same document.
  SealContext ctx2{"r2", 1, ctx.patient_id};
  EXPECT_NE(sealer->Seal(ctx2, "{\"doc\":1}")->substr(4), env->substr(4));
  ASSERT_TRUE(sealer->Shred(ctx).ok());
  EXPECT_EQ(sealer->Open(ctx, *env).error().code, "report_key_missing");
  // Another master key cannot unwrap the data key.
  auto other = ReportSealer::Open(dir_ / "keys", identity::MasterKey::FromBytes(std::string(32, '\x08')));
  EXPECT_EQ(other->Open(ctx2, *sealer->Seal(ctx2, "x")).error().code, "sealed_data_corrupt");
}

TEST_F(SealerTest, IdempotencyStoreIsDurableAndPerUser) {
  {
    auto store = IdempotencyStore::Open(dir_ / "idem");
    ASSERT_TRUE(store.ok());
    auto first = (*store)->Start("dr.a", "k1", "h1");
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first->stored_result);
    EXPECT_EQ((*store)->Start("dr.a", "k1", "h1").error().code, "idempotency_in_progress");
    EXPECT_TRUE((*store)->Start("dr.b", "k1", "h1").ok());  // another user's key space
    ASSERT_TRUE((*store)->Complete("dr.a", "k1", "h1", "{\"receipt\":1}").ok());
    EXPECT_EQ((*store)->Start("", "k", "h").ok(), true);
    EXPECT_EQ((*store)->Start("dr.a", "", "h").error().code, "idempotency_key_invalid");
    EXPECT_EQ((*store)->Start("dr.a", "bad key", "h").error().code, "idempotency_key_invalid");
    EXPECT_EQ((*store)->Start("dr.a", std::string(129, 'k'), "h").error().code, "idempotency_key_invalid");
  }
  auto reopened = IdempotencyStore::Open(dir_ / "idem");  // survives a restart
  auto replay = (*reopened)->Start("dr.a", "k1", "h1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->stored_result.value_or(""), "{\"receipt\":1}");
  EXPECT_EQ((*reopened)->Start("dr.a", "k1", "other-body").error().code, "idempotency_key_reused");
  // An abandoned attempt frees the key.
  ASSERT_TRUE((*reopened)->Start("dr.a", "k2", "h").ok());
  (*reopened)->Abandon("dr.a", "k2");
  EXPECT_TRUE((*reopened)->Start("dr.a", "k2", "h").ok());
}

}  // namespace
}  // namespace medledger::service
