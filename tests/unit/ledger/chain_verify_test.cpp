// `medledger verify` as a library: a clean chain passes; flipped bytes in a block file, or a block
// rewritten with a valid checksum, fail and name the block; a state database that disagrees is caught.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "identity/organization.h"
#include "ledger/embedded/block_store.h"
#include "ledger/embedded/crc32c.h"
#include "ledger/embedded/data_dir.h"
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

  // 8 blocks of 5 transactions, some of them MVCC-invalid.
  void MakeChain() {
    auto o = embedded::OptionsForOrganization(*org_, std::make_shared<testing::KvContract>());
    o.chaincode = "kv";
    o.batch.max_tx_count = 5;
    o.batch.timeout_ms = 200;
    o.batch.cut_when_idle = false;  // exactly 5 transactions per block
    o.execute_threads = 1;
    auto ledger = EmbeddedLedger::Open(std::move(o)).value();
    auto alice = org_->LoadIdentity("alice").value();
    for (int b = 0; b < 8; ++b) {
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

  embedded::VerifyReport Verify() {
    auto r = embedded::VerifyDataDir(dir_, options_);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : embedded::VerifyReport{};
  }

  // The raw record of block `n`: which file, at what offset.
  embedded::RawBlockRecord Raw(uint64_t n) {
    embedded::BlockStoreOptions bo;
    bo.read_only = true;
    auto store = embedded::BlockStore::Open(embedded::LedgerDirFor(dir_) + "/blocks", nullptr, bo).value();
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
  EXPECT_EQ(progress, (std::vector<uint64_t>{2, 4, 6, 8}));
}

TEST_F(ChainVerifyTest, FlippedByteInBlockFileNamesTheBlock) {
  MakeChain();
  auto raw = Raw(5);
  Overwrite(raw.file, raw.offset + embedded::kBlockRecordHeaderSize + raw.payload.size() / 2,
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
  uint32_t crc = embedded::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + embedded::kBlockRecordHeaderSize, payload);
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
  uint32_t crc = embedded::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + embedded::kBlockRecordHeaderSize, payload);
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
  uint32_t crc = embedded::crc32c::Value(payload);
  std::string crc_be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
  Overwrite(raw.file, raw.offset + embedded::kBlockRecordHeaderSize, payload);
  Overwrite(raw.file, raw.offset + 8, crc_be);
  auto report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.bad_block.has_value());
  EXPECT_EQ(*report.bad_block, 0u) << report.problem;
}

}  // namespace
}  // namespace medledger::ledger
