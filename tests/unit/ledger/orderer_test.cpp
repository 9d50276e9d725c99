// The orderer alone: blocks cut by count, by size and by timeout, hash-chained, signed by the orderer.
#include "ledger/embedded/orderer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "ledger/embedded/block_codec.h"
#include "ledger/wire/protoutil.h"
#include "test_support.h"

namespace medledger::ledger::embedded {
namespace {

struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<OrderedBlock> blocks;
  size_t txs = 0;
  Orderer::Sink Sink() {
    return [this](OrderedBlock b) {
      std::lock_guard lock(mu);
      txs += b.txs.size();
      blocks.push_back(std::move(b));
      cv.notify_all();
    };
  }
  void WaitForTxs(size_t n) {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return txs >= n; }));
  }
};

PendingTx Tx(size_t bytes) {
  return PendingTx{std::string(bytes, 'e'), false, false, nullptr};
}

bool Send(Orderer& orderer, PendingTx tx) {
  return orderer.Broadcast(tx);
}

TEST(Orderer, CutsByCountThenByTimeoutAndChainsBlocks) {
  testing::LedgerFixture fx;
  Collected out;
  BatchConfig cfg;
  cfg.max_tx_count = 4;
  cfg.timeout_ms = 50;
  cfg.max_blocks_in_flight = 0;  // no committer in this test
  cfg.cut_when_idle = false;
  {
    Orderer orderer(*fx.orderer, cfg, 5, std::string(32, '\x07'), out.Sink());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(Send(orderer, Tx(100)));
    out.WaitForTxs(10);
  }
  ASSERT_EQ(out.blocks.size(), 3u);
  EXPECT_EQ(out.blocks[0].txs.size(), 4u);
  EXPECT_EQ(out.blocks[1].txs.size(), 4u);
  EXPECT_EQ(out.blocks[2].txs.size(), 2u);  // the remainder, cut by the timeout
  EXPECT_EQ(out.blocks[0].number, 5u);
  EXPECT_EQ(out.blocks[0].previous_hash, std::string(32, '\x07'));
  Membership membership(fx.org.msp_id, fx.org.ca_cert, fx.peer->certificate(), fx.orderer->certificate());
  for (size_t i = 0; i < out.blocks.size(); ++i) {
    auto& b = out.blocks[i];
    if (i > 0) {
      EXPECT_EQ(b.previous_hash, out.blocks[i - 1].header_hash);
    }
    EXPECT_EQ(b.header_hash, wire::BlockHeaderHash(b.number, b.previous_hash, b.data_hash));
    DecodedBlock d{b.number, b.previous_hash, b.data_hash, "", {}, b.signatures_metadata, ""};
    EXPECT_EQ(CheckBlockSignature(d, membership), "");
    d.data_hash[0] ^= 1;  // the signature covers the header
    EXPECT_EQ(CheckBlockSignature(d, membership), "orderer signature does not verify");
  }
  // A block signed by the peer instead of the orderer is refused.
  auto by_peer = SignBlock(*fx.peer, 1, "", std::string(32, '\0'));
  ASSERT_TRUE(by_peer.ok());
  DecodedBlock d{1, "", std::string(32, '\0'), "", {}, *by_peer, ""};
  EXPECT_EQ(CheckBlockSignature(d, membership), "block signed by an identity that is not the orderer");
}

TEST(Orderer, CutsBySizeAndFlushesOnStop) {
  testing::LedgerFixture fx;
  Collected out;
  BatchConfig cfg;
  cfg.max_tx_count = 1000;
  cfg.max_bytes = 1000;
  cfg.timeout_ms = 60000;  // only size and Stop may cut
  cfg.max_blocks_in_flight = 0;
  cfg.cut_when_idle = false;
  {
    Orderer orderer(*fx.orderer, cfg, 0, "", out.Sink());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(Send(orderer, Tx(400)));
    out.WaitForTxs(4);  // two blocks of 2 (800 bytes; a third envelope would pass 1000)
    orderer.Stop();
    PendingTx late = Tx(1);
    EXPECT_FALSE(orderer.Broadcast(late));
    EXPECT_EQ(late.envelope.size(), 1u);  // refused: still the caller's
  }
  ASSERT_EQ(out.txs, 5u);
  for (const auto& b : out.blocks) {
    uint64_t bytes = 0;
    for (const auto& t : b.txs) bytes += t.envelope.size();
    EXPECT_LE(bytes, 1000u);
  }
}

TEST(Orderer, CutsAtOnceWhenIdleAndBatchesWhileBusy) {
  testing::LedgerFixture fx;
  Collected out;
  BatchConfig cfg;
  cfg.timeout_ms = 60000;  // never the reason for a cut here
  cfg.max_blocks_in_flight = 1;
  Orderer orderer(*fx.orderer, cfg, 0, "", out.Sink());
  ASSERT_TRUE(Send(orderer, Tx(10)));
  out.WaitForTxs(1);  // idle pipeline: cut without waiting for the timeout
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Send(orderer, Tx(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard lock(out.mu);
    EXPECT_EQ(out.blocks.size(), 1u);  // block 0 is still "in flight": the rest waits and accumulates
  }
  orderer.BlockDone();
  out.WaitForTxs(8);
  std::lock_guard lock(out.mu);
  ASSERT_EQ(out.blocks.size(), 2u);
  EXPECT_EQ(out.blocks[1].txs.size(), 7u);
}

}  // namespace
}  // namespace medledger::ledger::embedded
