#include "tlog/witness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "temp_dir.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::tlog {
namespace {

constexpr const char* kOrigin = "medledger/Org1MSP/reports";

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A log: an honest tree, and the ability to sign any checkpoint (so tests can make it lie).
class WitnessTest : public ::testing::Test {
 protected:
  WitnessTest()
      : log_key_(NoteSigner::Generate(kOrigin, SignatureType::kEd25519).value()),
        witness_key_(NoteSigner::Generate("witness.example/w1", SignatureType::kCosignatureV1).value()) {}

  void Grow(int n) {
    for (int i = 0; i < n; ++i) tree_.AppendLeaf("leaf " + std::to_string(tree_.Size()));
  }
  std::string SignedCheckpoint(uint64_t size, const std::string& root) {
    return SignNote(FormatCheckpoint({kOrigin, size, root, {}}), log_key_).value();
  }
  std::string Honest(uint64_t size) { return SignedCheckpoint(size, RootHash(tree_, size).value()); }
  std::unique_ptr<Witness> OpenWitness() {
    auto w = Witness::Open(log_key_.Verifier(), witness_key_, dir_.path() / "state");
    EXPECT_TRUE(w.ok()) << w.error().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }
  std::vector<std::filesystem::path> Evidence() {
    std::vector<std::filesystem::path> out;
    const auto ev = dir_.path() / "state" / "evidence";
    if (!std::filesystem::exists(ev)) return out;
    for (const auto& e : std::filesystem::directory_iterator(ev)) out.push_back(e.path());
    return out;
  }

  NoteSigner log_key_;
  NoteSigner witness_key_;
  MemoryTree tree_;
  testing::TempDir dir_{"witness"};
};

TEST_F(WitnessTest, ConsistentGrowthIsCosignedAndRemembered) {
  auto w = OpenWitness();
  ASSERT_TRUE(w);
  Grow(5);
  auto first = w->Observe(Honest(5), {}, 1000);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->outcome, WitnessOutcome::kFirst);
  EXPECT_EQ(VerifyCosignature(witness_key_.Verifier(), FormatCheckpoint(first->checkpoint), first->cosignature.Line())
                .value(),
            1000u);
  Grow(37);
  auto grown = w->Observe(Honest(42), ConsistencyProof(tree_, 5, 42).value(), 1001);
  ASSERT_TRUE(grown.ok()) << grown.error().ToString();
  EXPECT_EQ(grown->outcome, WitnessOutcome::kGrown);
  EXPECT_EQ(w->last_size(), 42u);
  // The cosigned checkpoint opens with both keys, as a receipt verifier would see it.
  EXPECT_TRUE(OpenNote(grown->note + grown->cosignature.Line(), {log_key_.Verifier(), witness_key_.Verifier()}).ok());
  auto same = w->Observe(Honest(42), {}, 1002);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->outcome, WitnessOutcome::kUnchanged);

  // A restarted witness continues from the saved state.
  w.reset();
  auto again = OpenWitness();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->last_size(), 42u);
  Grow(1);
  EXPECT_TRUE(again->Observe(Honest(43), ConsistencyProof(tree_, 42, 43).value(), 1003).ok());
  EXPECT_TRUE(Evidence().empty());
}

TEST_F(WitnessTest, SameSizeDifferentRootIsAForkWithEvidence) {
  auto w = OpenWitness();
  ASSERT_TRUE(w);
  Grow(10);
  const std::string honest = Honest(10);
  ASSERT_TRUE(w->Observe(honest, {}, 2000).ok());
  const std::string forked = SignedCheckpoint(10, LeafHash("another history"));
  auto r = w->Observe(forked, {}, 2001);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "witness_fork");
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_NE(r.error().message.find(Base64Encode(RootHash(tree_, 10).value())), std::string::npos);
  EXPECT_NE(r.error().message.find(Base64Encode(LeafHash("another history"))), std::string::npos);
  auto ev = Evidence();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(Slurp(ev[0] / "cosigned.note"), honest);
  EXPECT_EQ(Slurp(ev[0] / "conflicting.note"), forked);
  // Both notes in the evidence are signed by the log: anyone can check the fork with the log's key.
  EXPECT_TRUE(OpenCheckpoint(Slurp(ev[0] / "cosigned.note"), log_key_.Verifier()).ok());
  EXPECT_TRUE(OpenCheckpoint(Slurp(ev[0] / "conflicting.note"), log_key_.Verifier()).ok());
  // The state did not move: the honest tree is still what the witness stands by.
  EXPECT_EQ(w->last()->checkpoint.root_hash, RootHash(tree_, 10).value());
  EXPECT_TRUE(w->Observe(honest, {}, 2002).ok());
}

TEST_F(WitnessTest, LargerTreeWithoutValidConsistencyIsAForkWithEvidence) {
  auto w = OpenWitness();
  ASSERT_TRUE(w);
  Grow(8);
  ASSERT_TRUE(w->Observe(Honest(8), {}, 3000).ok());
  // The log rewrote leaf 3 and grew: a tree of 12 leaves that does not extend the cosigned one.
  MemoryTree other;
  for (int i = 0; i < 12; ++i) other.AppendLeaf(i == 3 ? "rewritten" : "leaf " + std::to_string(i));
  const std::string forked = SignedCheckpoint(12, RootHash(other, 12).value());
  // Whatever proof the log sends (its own, or the honest tree's) cannot link the two roots.
  auto r = w->Observe(forked, ConsistencyProof(other, 8, 12).value(), 3001);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "witness_fork");
  ASSERT_EQ(Evidence().size(), 1u);
  EXPECT_FALSE(Slurp(Evidence()[0] / "proof").empty());
  EXPECT_EQ(w->last_size(), 8u);
  // A missing proof for a larger tree is refused the same way.
  EXPECT_EQ(w->Observe(forked, {}, 3002).error().code, "witness_fork");
}

TEST_F(WitnessTest, SizeGoingBackwardsIsRefused) {
  auto w = OpenWitness();
  ASSERT_TRUE(w);
  Grow(20);
  ASSERT_TRUE(w->Observe(Honest(20), {}, 4000).ok());
  auto r = w->Observe(Honest(19), {}, 4001);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "witness_rollback");
  EXPECT_EQ(w->last_size(), 20u);
  EXPECT_TRUE(Evidence().empty());
}

TEST_F(WitnessTest, RefusesWhatTheLogDidNotSign) {
  auto w = OpenWitness();
  ASSERT_TRUE(w);
  Grow(3);
  auto impostor = NoteSigner::Generate(kOrigin, SignatureType::kEd25519).value();
  const std::string body = FormatCheckpoint({kOrigin, 3, RootHash(tree_, 3).value(), {}});
  EXPECT_EQ(w->Observe(SignNote(body, impostor).value(), {}, 5000).error().code, "note_unverified");
  EXPECT_FALSE(w->last().has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "state" / "checkpoint"));
}

TEST_F(WitnessTest, TamperedStateIsDetected) {
  {
    auto w = OpenWitness();
    ASSERT_TRUE(w);
    Grow(4);
    ASSERT_TRUE(w->Observe(Honest(4), {}, 6000).ok());
  }
  std::string saved = Slurp(dir_.path() / "state" / "checkpoint");
  saved[saved.find('\n') + 1] = '9';  // the size line
  std::ofstream(dir_.path() / "state" / "checkpoint", std::ios::binary | std::ios::trunc) << saved;
  auto w = Witness::Open(log_key_.Verifier(), witness_key_, dir_.path() / "state");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "witness_state_invalid");
}

TEST_F(WitnessTest, KeyTypesAreChecked) {
  EXPECT_EQ(Witness::Open(witness_key_.Verifier(), witness_key_, dir_.path() / "s").error().code, "invalid_argument");
  EXPECT_EQ(Witness::Open(log_key_.Verifier(), log_key_, dir_.path() / "s").error().code, "invalid_argument");
}

}  // namespace
}  // namespace medledger::tlog

namespace medledger::tlog {
namespace {

// A split view: the log shows tree A to one witness and tree B (same size) to another. Each alone cosigns
// what it saw; comparing their cosigned checkpoints (what `medledger witness compare` does with two witnesses'
// state files, or a verifier holding two receipts) exposes the fork, and so does each witness as soon as it is
// shown the other's checkpoint.
TEST_F(WitnessTest, ASplitViewShownToTwoWitnessesIsDetectedWhenTheyCompare) {
  Grow(8);
  const std::string view_a = Honest(8);
  const std::string view_b = SignedCheckpoint(8, LeafHash("the other history"));
  auto w1 = OpenWitness();
  ASSERT_TRUE(w1);
  ASSERT_TRUE(w1->Observe(view_a, {}, 3000).ok());
  auto w2 = Witness::Open(log_key_.Verifier(),
                          NoteSigner::Generate("witness.example/w2", SignatureType::kCosignatureV1).value(),
                          dir_.path() / "state2");
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE((*w2)->Observe(view_b, {}, 3000).ok());

  auto compared = CheckCheckpoint(w1->last(), Slurp(dir_.path() / "state2" / "checkpoint"), log_key_.Verifier(), {});
  ASSERT_FALSE(compared.ok());
  EXPECT_EQ(compared.error().code, "witness_fork");
  auto gossip = w1->Observe(Slurp(dir_.path() / "state2" / "checkpoint"), {}, 3001);
  ASSERT_FALSE(gossip.ok());
  EXPECT_EQ(gossip.error().code, "witness_fork");
  EXPECT_EQ(Evidence().size(), 1u);
}

}  // namespace
}  // namespace medledger::tlog
