// `medledger verify` as a library: a clean chain passes; flipped bytes in a block file, or a block
// rewritten with a valid checksum, fail and name the block; a state database that disagrees is caught.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "identity/organization.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/crc32c.h"
#include "test_support.h"

namespace medledger::ledger {
namespace {

using embedded::EmbeddedLedger;

class ChainVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("verify");
    std::filesystem::remove_all(dir_);  // Organization::Create wants an absent or empty directory
    auto org = identity::Organization::Create(dir_, "Org1");
    ASSERT_TRUE(org.ok()) << org.error().ToString();
    org_ = std::move(org).value();
    ASSERT_TRUE(org_->AddUser({"alice", identity::Role::kDoctor, "", std::nullopt}).ok());
    options_.chaincode = "kv";
    options_.progress_every = 2;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `blocks` blocks of 5 transactions, some of them MVCC-invalid.
  void MakeChain(int blocks = 8) {
    auto o = embedded::OptionsForOrganization(*org_, std::make_shared<testing::KvContract>());
    o.chaincode = "kv";
    o.batch.max_tx_count = 5;
    o.batch.timeout_ms = 200;
    o.batch.cut_when_idle = false;  // exactly 5 transactions per block
    o.execute_threads = 1;
    auto ledger = EmbeddedLedger::Open(std::move(o)).value();
    auto alice = org_->LoadIdentity("alice").value();
    for (int b = 0; b < blocks; ++b) {
      std::vector<std::future<Result<TxReceipt>>> futures;
      std::vector<std::shared_ptr<std::promise<Result<TxReceipt>>>> promises;
      for (int i = 0; i < 5; ++i) {
        auto p = std::make_shared<std::promise<Result<TxReceipt>>>();
        futures.push_back(p->get_future());
        Invocation call = i == 4   ? Invocation{"incr", {"shared"}}
                          : i == 3 ? Invocation{"incr", {"shared"}}
                                   : Invocation{"put",
                                                {"key-" + std::to_string(b) + "-" + std::to_string(i),
                                                 "value-" + std::to_string(b) + "-" + std::to_string(i)}};
        ledger->SubmitAsync(alice, call, [p](Result<TxReceipt> r) { p->set_value(std::move(r)); });
      }
      for (auto& f : futures) ASSERT_TRUE(f.get().ok() || true);
    }
  }

  embedded::VerifyReport VerifyWith(size_t threads) {
    auto o = options_;
    o.threads = threads;
    auto r = embedded::VerifyDataDir(dir_, o);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : embedded::VerifyReport{};
  }

  // Sequentially, and pipelined over 2 and 3 workers (windows of 8 and 12 blocks): every report must be
  // the same, field by field, whatever the chain holds.
  embedded::VerifyReport Verify() {
    auto sequential = VerifyWith(1);
    for (size_t threads : {2u, 3u}) {
      auto parallel = VerifyWith(threads);
      EXPECT_EQ(parallel.ok, sequential.ok) << threads;
      EXPECT_EQ(parallel.blocks, sequential.blocks) << threads;
      EXPECT_EQ(parallel.txs_valid, sequential.txs_valid) << threads;
      EXPECT_EQ(parallel.txs_invalid, sequential.txs_invalid) << threads;
      EXPECT_EQ(parallel.config_blocks, sequential.config_blocks) << threads;
      EXPECT_EQ(parallel.state_keys, sequential.state_keys) << threads;
      EXPECT_EQ(parallel.state_lag, sequential.state_lag) << threads;
      EXPECT_EQ(parallel.last_hash, sequential.last_hash) << threads;
      EXPECT_EQ(parallel.bad_block, sequential.bad_block) << threads;
      EXPECT_EQ(parallel.bad_tx, sequential.bad_tx) << threads;
      EXPECT_EQ(parallel.problem, sequential.problem) << threads;
    }
    return sequential;
  }

  // Rewrites block `n`'s record with `payload`, fixing its checksum so only the chain's own checks see it.
  void Rewrite(uint64_t n, const std::string& payload) {
    auto raw = Raw(n);
    uint32_t crc = storage::crc32c::Value(payload);
    std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                          static_cast<char>(crc)};
    Overwrite(raw.file, raw.offset + storage::kBlockRecordHeaderSize, payload);
    Overwrite(raw.file, raw.offset + 8, crc_be);
  }
  // Block `n` with its 5th validation code (MVCC_READ_CONFLICT = 11) set to VALID.
  std::string FlipFilterToValid(uint64_t n) {
    std::string payload = Raw(n).payload;
    std::string filter = {0, 0, 0, 0, 11};
    size_t at = payload.rfind(filter);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) payload[at + 4] = 0;
    return payload;
  }

  // The raw record of block `n`: which file, at what offset.
  storage::RawBlockRecord Raw(uint64_t n) {
    storage::BlockStoreOptions bo;
    bo.read_only = true;
    auto store = storage::BlockStore::Open(embedded::LedgerDirFor(dir_) + "/blocks", nullptr, bo).value();
    return store->ReadRaw(n).value();
  }

  static void Overwrite(const std::string& file, uint64_t offset, std::string_view bytes) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::string dir_;
  std::unique_ptr<identity::Organization> org_;
  embedded::VerifyOptions options_;
};

TEST_F(ChainVerifyTest, CleanChainVerifies) {
  MakeChain();
  std::vector<uint64_t> progress;
  options_.progress = [&](uint64_t done, uint64_t) { progress.push_back(done); };
  auto report = Verify();
  ASSERT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.blocks, 8u);
  EXPECT_EQ(report.txs_valid + report.txs_invalid, 40u);
  EXPECT_EQ(report.txs_invalid, 8u);  // the second incr of each block conflicts with the first
  EXPECT_EQ(report.state_keys, 8u * 3 + 1);
  EXPECT_EQ(report.last_hash.size(), 64u);
  // Once per run of Verify(): sequential, then 2 and 3 threads, each calling back in block order.
  EXPECT_EQ(progress, (std::vector<uint64_t>{2, 4, 6, 8, 2, 4, 6, 8, 2, 4, 6, 8}));
}

TEST_F(ChainVerifyTest, FlippedByteInBlockFileNamesTheBlock) {
  MakeChain();
  auto raw = Raw(5);
  Overwrite(raw.file, raw.offset + storage::kBlockRecordHeaderSize + raw.payload.size() / 2,
            std::string(1, static_cast<char>(raw.payload[raw.payload.size() / 2] ^ 0x20)));
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value()) << report.problem;
  EXPECT_EQ(*report.bad_block, 5u) << report.problem;
}

TEST_F(ChainVerifyTest, RewrittenBlockWithValidChecksumFailsTheHashChecks) {
  MakeChain();
  auto raw = Raw(3);
  // An attacker changes a stored value and fixes the record checksum: the chain itself must catch it.
  size_t at = raw.payload.find("value-3-1");
  ASSERT_NE(at, std::string::npos);
  std::string payload = raw.payload;
  payload[at + 6] = '9';
  uint32_t crc = storage::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + storage::kBlockRecordHeaderSize, payload);
  Overwrite(raw.file, raw.offset + 8, crc_be);
  ASSERT_EQ(Raw(3).payload, payload);  // the store itself sees a healthy record
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 3u);
  EXPECT_EQ(report.problem, "data_hash does not match the data");
}

TEST_F(ChainVerifyTest, ValidationCodeFlippedToValidIsCaught) {
  MakeChain();
  auto raw = Raw(2);
  // The filter is the last metadata entry: 5 code bytes, the 5th (MVCC_READ_CONFLICT = 11) set to VALID.
  std::string payload = raw.payload;
  std::string filter = {0, 0, 0, 0, 11};
  size_t at = payload.rfind(filter);
  ASSERT_NE(at, std::string::npos);
  payload[at + 4] = 0;
  uint32_t crc = storage::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + storage::kBlockRecordHeaderSize, payload);
  Overwrite(raw.file, raw.offset + 8, crc_be);
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 2u);
  ASSERT_TRUE(report.bad_tx.has_value());
  EXPECT_EQ(*report.bad_tx, 4u);
  EXPECT_EQ(report.problem, "recorded as VALID but re-validates as MVCC_READ_CONFLICT");
}

TEST_F(ChainVerifyTest, ForeignOrdererSignatureIsCaught) {
  MakeChain();
  auto raw = Raw(0);
  // Alter the orderer certificate inside the SIGNATURES metadata (the last copy in the block), fixing the CRC.
  std::string payload = raw.payload;
  std::string orderer_cert = org_->orderer().cert_pem();
  size_t at = payload.rfind(orderer_cert.substr(orderer_cert.size() / 2, 24));
  ASSERT_NE(at, std::string::npos);
  payload[at] = payload[at] == 'A' ? 'B' : 'A';
  uint32_t crc = storage::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + storage::kBlockRecordHeaderSize, payload);
  Overwrite(raw.file, raw.offset + 8, crc_be);
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 0u) << report.problem;
}

TEST_F(ChainVerifyTest, PipelinedVerifyWalksAChainLongerThanItsWindowLikeTheSequentialOne) {
  MakeChain(30);  // longer than the window of every thread count Verify() tries
  auto report = Verify();
  ASSERT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.blocks, 30u);
  EXPECT_EQ(report.txs_invalid, 30u);
}

TEST_F(ChainVerifyTest, TheFirstBadBlockInChainOrderIsReportedWhicheverCheckFindsIt) {
  MakeChain(20);
  // Block 4 fails only the in-order state check (a conflict recorded as VALID); block 9 fails a check a
  // worker makes (data hash) and is likely prepared first. The report must still name block 4.
  const std::string original = Raw(4).payload;
  Rewrite(4, FlipFilterToValid(4));
  auto raw = Raw(9);
  std::string payload = raw.payload;
  size_t at = payload.find("value-9-1");
  ASSERT_NE(at, std::string::npos);
  payload[at + 6] = '7';
  Rewrite(9, payload);
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 4u);
  EXPECT_EQ(report.bad_tx, std::optional<uint32_t>(4));
  EXPECT_EQ(report.problem, "recorded as VALID but re-validates as MVCC_READ_CONFLICT");
  // With block 4 intact again, block 9 is the first bad one.
  Rewrite(4, original);
  report = Verify();
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 9u);
  EXPECT_EQ(report.problem, "data_hash does not match the data");
}

TEST_F(ChainVerifyTest, ResumesFromASignedCheckpointAndStillCatchesAnyChangeBeforeIt) {
  MakeChain(6);
  options_.write_checkpoint = true;
  auto full = Verify();
  ASSERT_TRUE(full.ok) << full.problem;
  EXPECT_EQ(full.resumed_blocks, 0u);
  const auto checkpoint = std::filesystem::path(embedded::LedgerDirFor(dir_)) / "verify-checkpoint.json";
  ASSERT_TRUE(std::filesystem::exists(checkpoint));

  MakeChain(3);  // three more blocks after the checkpoint
  options_.use_checkpoint = true;
  auto resumed = Verify();
  ASSERT_TRUE(resumed.ok) << resumed.problem;
  EXPECT_EQ(resumed.resumed_blocks, 6u);
  EXPECT_EQ(resumed.blocks, 9u);
  options_.use_checkpoint = false;
  auto again_full = Verify();
  EXPECT_EQ(resumed.txs_valid, again_full.txs_valid);
  EXPECT_EQ(resumed.txs_invalid, again_full.txs_invalid);
  EXPECT_EQ(resumed.state_keys, again_full.state_keys);
  EXPECT_EQ(resumed.last_hash, again_full.last_hash);
  EXPECT_EQ(resumed.verified.state_digest, again_full.verified.state_digest);
  EXPECT_EQ(resumed.verified.records_digest, again_full.verified.records_digest);

  // A conflict re-marked VALID inside the checkpoint's prefix: no signature or data hash changes, so only
  // the records digest can see it; the resumed run must fail, not replay the altered code.
  options_.write_checkpoint = false;
  const std::string original = Raw(2).payload;
  Rewrite(2, FlipFilterToValid(2));
  options_.use_checkpoint = true;
  auto tampered = VerifyWith(2);
  EXPECT_FALSE(tampered.ok);
  ASSERT_TRUE(tampered.bad_block.has_value());
  EXPECT_EQ(*tampered.bad_block, 8u) << tampered.problem;  // the end of the checkpoint's prefix (9 blocks)
  EXPECT_NE(tampered.problem.find("verify checkpoint"), std::string::npos) << tampered.problem;
  options_.use_checkpoint = false;
  auto tampered_full = VerifyWith(2);
  EXPECT_EQ(tampered_full.bad_block, std::optional<uint64_t>(2));
  Rewrite(2, original);

  // A checkpoint edited by hand (a larger height) no longer verifies: refused, never ignored.
  std::string text;
  {
    std::ifstream in(checkpoint);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t at = text.find("\"height\": 9");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 12, "\"height\": 3");
  std::ofstream(checkpoint, std::ios::trunc) << text;
  options_.use_checkpoint = true;
  auto refused = embedded::VerifyDataDir(dir_, options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "verify_checkpoint_mismatch");
}

TEST(VerifyThreads, ZeroMeansOnePerCore) {
  EXPECT_EQ(embedded::VerifyThreads(3), 3u);
  EXPECT_GE(embedded::VerifyThreads(0), 1u);
}

}  // namespace
}  // namespace medledger::ledger
