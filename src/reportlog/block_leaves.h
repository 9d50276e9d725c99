// How the report log follows the chain: the leaves (and checkpoint anchors) of one committed block, taken
// from the chaincode events of its valid transactions, in transaction order. Every node holding the blocks
// derives the same leaves, on either ledger, because the events are part of the endorsed, signed transactions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "reportlog/leaf.h"

namespace medledger::reportlog {

// A checkpoint anchored on the ledger by AnchorCheckpoint (its CheckpointAnchored event).
struct Anchor {
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash;  // hex
  std::string tx_id;
  uint64_t block_number = 0;
};

// What one transaction contributes: at most one leaf or one anchor (a contract call emits one event).
struct TxEvents {
  std::optional<Leaf> leaf;
  std::optional<Anchor> anchor;
};

// The leaf or anchor of one endorser transaction (serialized common.Envelope) of `chaincode`, committed in
// block `block_number`. Nothing for transactions of other chaincodes, config transactions and events the log
// does not record. "tx_malformed" when the envelope or its event does not parse.
Result<TxEvents> EventsFromEnvelope(std::string_view envelope, uint64_t block_number, std::string_view chaincode);

struct BlockEvents {
  uint64_t number = 0;
  std::vector<Leaf> leaves;
  std::vector<Anchor> anchors;
};

// Every leaf and anchor of a serialized common.Block, from its valid transactions only (TRANSACTIONS_FILTER).
// "block_malformed" for a block without header or with a filter that does not cover every transaction.
Result<BlockEvents> EventsFromBlock(std::string_view block, std::string_view chaincode);

}  // namespace medledger::reportlog
