#include "reportlog/leaf.h"

#include <nlohmann/json.hpp>

#include "common/json_strict.h"

namespace medledger::reportlog {
namespace {

using json = nlohmann::json;

Error Malformed(std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, "leaf_malformed", std::move(why));
}

bool PlainAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

Result<LeafKind> KindFromName(std::string_view name) {
  for (LeafKind k : {LeafKind::kCreated, LeafKind::kAmended, LeafKind::kAccessed, LeafKind::kErased}) {
    if (name == LeafKindName(k)) return k;
  }
  return Malformed("unknown leaf kind");
}

}  // namespace

const char* LeafKindName(LeafKind kind) {
  switch (kind) {
    case LeafKind::kCreated: return "created";
    case LeafKind::kAmended: return "amended";
    case LeafKind::kAccessed: return "accessed";
    case LeafKind::kErased: return "erased";
  }
  return "created";
}

Result<std::string> EncodeLeaf(const Leaf& leaf) {
  for (std::string_view field :
       {std::string_view(leaf.report_id), std::string_view(leaf.patient), std::string_view(leaf.cid),
        std::string_view(leaf.content_hash), std::string_view(leaf.tx_id), std::string_view(leaf.ledger_time)}) {
    if (!PlainAscii(field) || field.size() > 256) {
      return MakeError(ErrorKind::kInvalidArgument, "leaf_field_invalid", "a leaf field is not plain ASCII");
    }
  }
  if (leaf.version < 0) {
    return MakeError(ErrorKind::kInvalidArgument, "leaf_field_invalid", "a leaf version is negative");
  }
  // Written by hand, in sorted key order, so the bytes do not depend on a JSON library's choices.
  std::string out;
  out.reserve(400);
  auto str = [&](std::string_view key, std::string_view value) {
    out += '"';
    out += key;
    out += "\":\"";
    out += value;
    out += "\",";
  };
  out += "{\"blockNumber\":" + std::to_string(leaf.block_number) + ",";
  str("cid", leaf.cid);
  str("contentHash", leaf.content_hash);
  str("format", kLeafFormat);
  str("kind", LeafKindName(leaf.kind));
  str("ledgerTime", leaf.ledger_time);
  str("patient", leaf.patient);
  str("reportId", leaf.report_id);
  str("txId", leaf.tx_id);
  out += "\"version\":" + std::to_string(leaf.version) + "}";
  return out;
}

Result<Leaf> ParseLeaf(std::string_view bytes) {
  if (bytes.size() > 4096) return Malformed("a leaf is at most 4 KiB");
  auto doc = ParseStrictJson(bytes);
  if (!doc.ok() || !doc->is_object()) return Malformed("a leaf is a JSON object");
  const json& j = *doc;
  auto text = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return Malformed(std::string("leaf field ") + key + " is missing");
    return it->get<std::string>();
  };
  auto number = [&](const char* key) -> Result<uint64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) {
      return Malformed(std::string("leaf field ") + key + " is not a number");
    }
    return it->get<uint64_t>();
  };
  if (j.size() != 10) return Malformed("a leaf has exactly ten fields");
  ML_ASSIGN_OR_RETURN(std::string format, text("format"));
  if (format != kLeafFormat) return Malformed("unknown leaf format");
  Leaf leaf;
  ML_ASSIGN_OR_RETURN(std::string kind, text("kind"));
  ML_ASSIGN_OR_RETURN(leaf.kind, KindFromName(kind));
  ML_ASSIGN_OR_RETURN(leaf.report_id, text("reportId"));
  ML_ASSIGN_OR_RETURN(uint64_t version, number("version"));
  if (version > (uint64_t{1} << 53)) return Malformed("leaf version out of range");
  leaf.version = static_cast<int64_t>(version);
  ML_ASSIGN_OR_RETURN(leaf.patient, text("patient"));
  ML_ASSIGN_OR_RETURN(leaf.cid, text("cid"));
  ML_ASSIGN_OR_RETURN(leaf.content_hash, text("contentHash"));
  ML_ASSIGN_OR_RETURN(leaf.tx_id, text("txId"));
  ML_ASSIGN_OR_RETURN(leaf.block_number, number("blockNumber"));
  ML_ASSIGN_OR_RETURN(leaf.ledger_time, text("ledgerTime"));
  // Canonical means byte-identical to what Encode writes: no reordering, spacing or escapes.
  auto canonical = EncodeLeaf(leaf);
  if (!canonical.ok() || *canonical != bytes) return Malformed("the leaf is not in canonical form");
  return leaf;
}

}  // namespace medledger::reportlog
