#include "ledger/storage/state_db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "temp_dir.h"

namespace medledger::ledger::storage {
namespace {

using medledger::testing::TempDir;

wire::KeyWrite Put(std::string ns, std::string key, std::string value) {
  return {std::move(ns), std::move(key), value};
}
wire::KeyWrite Del(std::string ns, std::string key) {
  return {std::move(ns), std::move(key), std::nullopt};
}

storage::TxUpdate Tx(uint32_t index, std::string id, std::vector<wire::KeyWrite> writes, int32_t code = 0) {
  storage::TxUpdate tx;
  tx.tx_index = index;
  tx.tx_id = std::move(id);
  tx.timestamp = Timestamp{1700000000 + index, static_cast<int32_t>(index * 1000)};
  tx.validation_code = code;
  tx.writes = std::move(writes);
  return tx;
}

storage::BlockUpdate Block(uint64_t number, std::vector<storage::TxUpdate> txs) {
  return storage::BlockUpdate{number, std::move(txs)};
}

std::unique_ptr<storage::StateDb> MustOpen(const std::string& dir) {
  auto db = storage::StateDb::Open(dir);
  if (!db.ok()) ADD_FAILURE() << db.error().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::vector<std::string> Keys(const std::vector<std::pair<std::string, storage::VersionedValue>>& rows) {
  std::vector<std::string> keys;
  for (const auto& row : rows) keys.push_back(row.first);
  return keys;
}

TEST(StateDb, EmptyDatabase) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  EXPECT_FALSE(db->Savepoint().value().has_value());
  EXPECT_FALSE(db->Get("records", "k").value().has_value());
  EXPECT_FALSE(db->FindTx("tx").value().has_value());
  EXPECT_TRUE(db->History("records", "k").value().empty());
  EXPECT_TRUE(db->Range("records", "", "", 0).value().empty());
}

TEST(StateDb, WritesCarryVersionsAndLaterWritesWin) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  ASSERT_TRUE(db->ApplyBlock(Block(0, {})).ok());  // genesis: no transactions
  ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "t1", {Put("records", "a", "1"), Put("records", "b", "1")}),
                                       Tx(1, "t2", {Put("records", "a", "2")})}))
                  .ok());
  auto a = db->Get("records", "a").value();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(a->version, (wire::Version{1, 1}));
  EXPECT_EQ(db->Get("records", "b").value()->version, (wire::Version{1, 0}));
  ASSERT_TRUE(db->ApplyBlock(Block(2, {Tx(0, "t3", {Put("records", "b", std::string("bin\0ary", 7))})})).ok());
  auto b = db->Get("records", "b").value();
  EXPECT_EQ(b->value, std::string("bin\0ary", 7));
  EXPECT_EQ(b->version, (wire::Version{2, 0}));
  EXPECT_FALSE(db->Get("other", "a").value().has_value());  // namespaces are separate
}

TEST(StateDb, DeletesRemoveStateAndLeaveATombstoneInHistory) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t1", {Put("records", "k", "v1")})})).ok());
  ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "t2", {Del("records", "k")})})).ok());
  ASSERT_TRUE(db->ApplyBlock(Block(2, {Tx(3, "t3", {Put("records", "k", "v3")})})).ok());
  ASSERT_TRUE(db->ApplyBlock(Block(3, {Tx(0, "t4", {Del("records", "k")})})).ok());
  EXPECT_FALSE(db->Get("records", "k").value().has_value());
  const auto history = db->History("records", "k").value();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].value, std::optional<std::string>("v1"));
  EXPECT_FALSE(history[1].value.has_value());
  EXPECT_EQ(history[2].value, std::optional<std::string>("v3"));
  EXPECT_EQ(history[2].tx_id, "t3");
  EXPECT_EQ(history[2].block, 2u);
  EXPECT_EQ(history[2].tx, 3u);
  EXPECT_EQ(history[2].timestamp, (Timestamp{1700000003, 3000}));
  EXPECT_FALSE(history[3].value.has_value());
}

TEST(StateDb, InvalidTransactionsAreIndexedButNotApplied) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  constexpr int32_t kMvccReadConflict = 11;
  ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "good", {Put("records", "a", "1")}),
                                       Tx(1, "bad", {Put("records", "b", "1")}, kMvccReadConflict)}))
                  .ok());
  EXPECT_TRUE(db->Get("records", "a").value().has_value());
  EXPECT_FALSE(db->Get("records", "b").value().has_value());
  EXPECT_TRUE(db->History("records", "b").value().empty());
  const auto bad = db->FindTx("bad").value();
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->block, 0u);
  EXPECT_EQ(bad->tx, 1u);
  EXPECT_EQ(bad->validation_code, kMvccReadConflict);
  EXPECT_EQ(db->FindTx("good").value()->validation_code, 0);
}

TEST(StateDb, ATransactionIdKeepsItsFirstLocation) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  constexpr int32_t kDuplicateTxId = 9;
  ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t", {Put("records", "a", "1")}), Tx(1, "t", {}, kDuplicateTxId)})).ok());
  ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "t", {}, kDuplicateTxId)})).ok());
  const auto loc = db->FindTx("t").value();
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->block, 0u);
  EXPECT_EQ(loc->tx, 0u);
  EXPECT_EQ(loc->validation_code, 0);
}

TEST(StateDb, RangeHonoursBoundsLimitAndNamespaces) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  std::vector<wire::KeyWrite> writes;
  for (const char* k : {"a", "b", "b1", "c", "d", "\xff"}) writes.push_back(Put("records", k, k));
  writes.push_back(Put("recordsX", "a", "other namespace"));
  writes.push_back(Put("record", "z", "shorter namespace"));
  const std::string composite1("\0report\0p1\0r1\0", 14), composite2("\0report\0p1\0r2\0", 14);
  const std::string composite_other("\0report\0p2\0r1\0", 14);
  writes.push_back(Put("records", composite1, "1"));
  writes.push_back(Put("records", composite2, "2"));
  writes.push_back(Put("records", composite_other, "3"));
  ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t", writes)})).ok());

  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(db->Range("records", "b", "d", 0).value()), (V{"b", "b1", "c"}));
  EXPECT_EQ(Keys(db->Range("records", "b", "", 0).value()), (V{"b", "b1", "c", "d", "\xff"}));
  EXPECT_EQ(Keys(db->Range("records", "a", "", 2).value()), (V{"a", "b"}));
  EXPECT_EQ(Keys(db->Range("records", "a", "a", 0).value()), V{});
  EXPECT_EQ(Keys(db->Range("records", "d", "b", 0).value()), V{});
  EXPECT_EQ(db->Range("records", "", "", 0).value().size(), 9u);
  // A composite-key partial query: [prefix, prefix + U+10FFFF) as Fabric's shim asks for it.
  const std::string prefix("\0report\0p1\0", 11);
  EXPECT_EQ(Keys(db->Range("records", prefix, prefix + "\xf4\x8f\xbf\xbf", 0).value()), (V{composite1, composite2}));
  const auto rows = db->Range("records", "c", "d", 0).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second.value, "c");
  EXPECT_EQ(rows[0].second.version, (wire::Version{0, 0}));
}

TEST(StateDb, HistoryIsOldestFirstAndNotConfusedByPrefixKeys) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  const std::string key("\0k\0", 3);
  const std::string longer("\0k\0x\0", 5);  // the history key of `key` would prefix this one's without lengths
  for (uint64_t b = 0; b < 260; ++b) {
    std::vector<storage::TxUpdate> txs;
    for (uint32_t t = 0; t < 3; ++t) {
      txs.push_back(Tx(t, "t" + std::to_string(b) + "." + std::to_string(t),
                       {Put("records", key, std::to_string(b * 10 + t)), Put("records", longer, "noise")}));
    }
    ASSERT_TRUE(db->ApplyBlock(Block(b, std::move(txs))).ok());
  }
  const auto history = db->History("records", key).value();
  ASSERT_EQ(history.size(), 780u);
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].block, i / 3);  // past block 255 too: the numbers are big-endian in the key
    EXPECT_EQ(history[i].tx, i % 3);
    EXPECT_EQ(history[i].value, std::optional<std::string>(std::to_string((i / 3) * 10 + i % 3)));
  }
  EXPECT_EQ(db->History("records", longer).value().size(), 780u);
}

TEST(StateDb, BlocksMustArriveInOrder) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  EXPECT_EQ(db->ApplyBlock(Block(1, {})).error().code, "unexpected_block_number");
  ASSERT_TRUE(db->ApplyBlock(Block(0, {})).ok());
  EXPECT_EQ(db->ApplyBlock(Block(0, {})).error().code, "unexpected_block_number");
  EXPECT_EQ(db->ApplyBlock(Block(2, {})).error().code, "unexpected_block_number");
  ASSERT_TRUE(db->ApplyBlock(Block(1, {})).ok());
  EXPECT_EQ(db->Savepoint().value(), std::optional<uint64_t>(1));
}

// Validation happens before anything is written: a bad write anywhere leaves the block unapplied.
TEST(StateDb, ARejectedBlockLeavesNoTrace) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  ASSERT_TRUE(db->ApplyBlock(Block(0, {})).ok());
  for (const wire::KeyWrite& bad :
       {Put("records", "", "v"), Put("", "k", "v"), Put(std::string("re\0c", 4), "k", "v")}) {
    const Status s = db->ApplyBlock(Block(1, {Tx(0, "first", {Put("records", "a", "1")}), Tx(1, "second", {bad})}));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_FALSE(db->Get("records", "a").value().has_value());
    EXPECT_FALSE(db->FindTx("first").value().has_value());
    EXPECT_TRUE(db->History("records", "a").value().empty());
    EXPECT_EQ(db->Savepoint().value(), std::optional<uint64_t>(0));
  }
  EXPECT_EQ(db->Get(std::string("a\0b", 3), "k").error().code, "bad_namespace");
}

TEST(StateDb, ReopenKeepsEverything) {
  TempDir dir;
  {
    auto db = MustOpen(dir.path());
    ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t0", {Put("records", "a", "1")})})).ok());
    ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "t1", {Put("records", "a", "2"), Put("audit", "e", "x")})})).ok());
  }
  auto db = MustOpen(dir.path());
  EXPECT_EQ(db->Savepoint().value(), std::optional<uint64_t>(1));
  EXPECT_EQ(db->Get("records", "a").value()->value, "2");
  EXPECT_EQ(db->History("records", "a").value().size(), 2u);
  EXPECT_EQ(db->FindTx("t0").value()->block, 0u);
  EXPECT_EQ(db->ApplyBlock(Block(1, {})).error().code, "unexpected_block_number");
  ASSERT_TRUE(db->ApplyBlock(Block(2, {})).ok());
}

TEST(StateDb, ReadOnlyOpensBesideTheWriter) {
  TempDir dir;
  storage::StateDbOptions ro;
  ro.read_only = true;
  EXPECT_FALSE(storage::StateDb::Open(dir.Sub("missing"), ro).ok());
  {
    auto db = MustOpen(dir.Sub("state"));
    ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t0", {Put("records", "a", "1")})})).ok());
  }  // a clean close flushes
  auto db = MustOpen(dir.Sub("state"));
  ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "t1", {Put("records", "a", "2"), Put("records", "b", "3")})})).ok());
  EXPECT_EQ(storage::StateDb::Open(dir.Sub("state")).error().code, "state_db_error");  // the writer holds the lock
  auto reader = storage::StateDb::Open(dir.Sub("state"), ro);
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  // The reader sees the state as of the writer's last flush, whole: block 1 is still in the writer's
  // memtables (there is no write-ahead log to read it from), so neither of its writes nor its savepoint.
  EXPECT_EQ((*reader)->Savepoint().value(), std::optional<uint64_t>(0));
  EXPECT_EQ((*reader)->Get("records", "a").value()->value, "1");
  EXPECT_FALSE((*reader)->Get("records", "b").value().has_value());
  EXPECT_EQ((*reader)->ApplyBlock(Block(2, {})).error().code, "state_db_read_only");
}

TEST(StateDb, ForEachVisitsTheWholeState) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  ASSERT_TRUE(db->ApplyBlock(Block(0, {Tx(0, "t",
                                          {Put("records", "a", "1"), Put("records", std::string("\0c\0", 3), "2"),
                                           Put("audit", "x", "3"), Put("records", "gone", "4")})}))
                  .ok());
  ASSERT_TRUE(db->ApplyBlock(Block(1, {Tx(0, "u", {Del("records", "gone")})})).ok());
  std::map<std::pair<std::string, std::string>, std::string> seen;
  ASSERT_TRUE(db->ForEach([&](std::string_view ns, std::string_view key, const storage::VersionedValue& v) {
                  seen[{std::string(ns), std::string(key)}] = v.value;
                }).ok());
  const std::map<std::pair<std::string, std::string>, std::string> expected = {
      {{"audit", "x"}, "3"}, {{"records", "a"}, "1"}, {{"records", std::string("\0c\0", 3)}, "2"}};
  EXPECT_EQ(seen, expected);
}

TEST(StateDb, ConcurrentReadersSeeWholeBlocks) {
  TempDir dir;
  auto db = MustOpen(dir.path());
  // Each block sets both keys to the block number; a reader must never see them from different blocks
  // once it has read them through one consistent Range.
  std::atomic<bool> done{false}, torn{false};
  std::thread reader([&] {
    while (!done.load()) {
      auto rows = db->Range("records", "", "", 0);
      if (!rows.ok()) {
        torn = true;
        continue;
      }
      if (rows->size() == 2 && (*rows)[0].second.value != (*rows)[1].second.value) torn = true;
      (void)db->Get("records", "x");
    }
  });
  for (uint64_t b = 0; b < 300; ++b) {
    const std::string v = std::to_string(b);
    ASSERT_TRUE(db->ApplyBlock(Block(b, {Tx(0, "t" + v, {Put("records", "x", v), Put("records", "y", v)})})).ok());
  }
  done = true;
  reader.join();
  EXPECT_FALSE(torn.load());
}

}  // namespace
}  // namespace medledger::ledger::storage
