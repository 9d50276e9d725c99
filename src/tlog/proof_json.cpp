#include "tlog/proof_json.h"

#include "common/encoding.h"
#include "tlog/merkle.h"

namespace medledger::tlog {

nlohmann::json ProofToJson(const std::vector<std::string>& hashes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : hashes) out.push_back(Base64Encode(h));
  return out;
}

Result<std::vector<std::string>> ProofFromJson(const nlohmann::json& array) {
  const auto bad = [](const std::string& why) {
    return MakeError(ErrorKind::kInvalidArgument, "proof_malformed", "the proof " + why);
  };
  if (!array.is_array()) return bad("is not an array");
  if (array.size() > kMaxProofHashes) return bad("has more than " + std::to_string(kMaxProofHashes) + " hashes");
  std::vector<std::string> hashes;
  hashes.reserve(array.size());
  for (const auto& h : array) {
    if (!h.is_string()) return bad("holds a hash that is not a string");
    auto raw = Base64Decode(h.get<std::string>());
    if (!raw.ok() || raw->size() != kHashSize) return bad("holds a hash that is not base64 of 32 bytes");
    hashes.push_back(std::move(raw).value());
  }
  return hashes;
}

}  // namespace medledger::tlog
