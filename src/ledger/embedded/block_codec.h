// Blocks as stored: a serialized common.Block. Encoding for the commit path, decoding plus the orderer
// signature check for recovery, proofs and verify.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ledger/embedded/membership.h"

namespace medledger::ledger::embedded {

struct OrderedBlock;

struct DecodedBlock {
  uint64_t number = 0;
  std::string previous_hash;  // raw
  std::string data_hash;      // raw, as recorded
  std::string header;         // serialized common.BlockHeader
  std::vector<std::string> envelopes;
  std::string signatures_metadata;  // serialized common.Metadata (SIGNATURES)
  std::string filter;               // TRANSACTIONS_FILTER: one TxValidationCode byte per envelope
};

// Moves the envelopes out of `block`. `filter` holds one validation code byte per transaction.
std::string EncodeBlock(OrderedBlock& block, std::string filter);
// Errors (kCorruption): "block_malformed" when the bytes are not a block with a header and data.
Result<DecodedBlock> DecodeBlock(std::string_view bytes);

// Checks the orderer's signature (metadata SIGNATURES) over the block header. Returns "" when it holds,
// otherwise why not.
std::string CheckBlockSignature(const DecodedBlock& block, const Membership& membership);

}  // namespace medledger::ledger::embedded
