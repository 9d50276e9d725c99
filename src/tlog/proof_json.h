// Merkle proofs as the HTTP API and receipts carry them: a JSON array of base64 hashes. One encoder and one
// bounded decoder, shared by the log's proof routes, the receipt builder, the witness and the offline verifier.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace medledger::tlog {

// ["<base64 of 32 bytes>", ...]
nlohmann::json ProofToJson(const std::vector<std::string>& hashes);
// The raw hashes of such an array: at most kMaxProofHashes, each base64 of exactly kHashSize bytes.
// "proof_malformed" (kInvalidArgument) naming what is wrong otherwise.
Result<std::vector<std::string>> ProofFromJson(const nlohmann::json& array);

}  // namespace medledger::tlog
