#include "reportlog/block_leaves.h"

#include <nlohmann/json.hpp>

#include "common/json_strict.h"
#include "common/time.h"
#include "pb/common/common.pb.h"
#include "reportlog/wire.h"

namespace medledger::reportlog {
namespace {

using json = nlohmann::json;

Error TxMalformed(std::string why) {
  return MakeError(ErrorKind::kCorruption, "tx_malformed", std::move(why));
}

std::optional<LeafKind> KindForEvent(std::string_view name) {
  if (name == "ReportCreated") return LeafKind::kCreated;
  if (name == "ReportAmended") return LeafKind::kAmended;
  if (name == "ReportAccessed") return LeafKind::kAccessed;
  if (name == "ReportErased") return LeafKind::kErased;
  return std::nullopt;
}

Result<std::string> TextField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return TxMalformed(std::string("the event has no ") + key);
  return it->get<std::string>();
}

}  // namespace

Result<TxEvents> EventsFromEnvelope(std::string_view envelope, uint64_t block_number, std::string_view chaincode) {
  // The follower reads every transaction of the chain, so the envelope is read in place (wire.h) rather than
  // through six nested protobuf parses that copy it six times. Only VALID transactions get here from the
  // follower, and every validator parsed them fully first.
  auto malformed = [] { return TxMalformed("the envelope does not parse"); };
  std::string_view env_payload, header, channel_header, data, tx_id, timestamp;
  std::string header_storage, timestamp_storage;
  if (!wire::Bytes(envelope, 1, &env_payload) || !wire::Message(env_payload, 1, &header, &header_storage) ||
      !wire::Bytes(header, 1, &channel_header) || !wire::Bytes(env_payload, 2, &data)) {
    return malformed();
  }
  uint64_t type = 0;
  if (!wire::Varint(channel_header, 1, &type) || !wire::Bytes(channel_header, 5, &tx_id) ||
      !wire::Message(channel_header, 3, &timestamp, &timestamp_storage)) {
    return malformed();
  }
  if (type != common::ENDORSER_TRANSACTION) return TxEvents{};
  std::vector<std::string_view> actions;
  if (!wire::Repeated(data, 1, &actions) || actions.size() != 1) return TxMalformed("not one transaction action");
  std::string_view action_payload, endorsed_action, response_payload, extension;
  std::string endorsed_storage;
  if (!wire::Bytes(actions[0], 2, &action_payload) ||
      !wire::Message(action_payload, 2, &endorsed_action, &endorsed_storage) || endorsed_action.empty() ||
      !wire::Bytes(endorsed_action, 1, &response_payload) || !wire::Bytes(response_payload, 2, &extension)) {
    return TxMalformed("the endorsed action does not parse");
  }
  std::string_view events, chaincode_id, chaincode_name;
  std::string chaincode_id_storage;
  if (!wire::Bytes(extension, 2, &events) || !wire::Message(extension, 4, &chaincode_id, &chaincode_id_storage) ||
      !wire::Bytes(chaincode_id, 2, &chaincode_name)) {
    return TxMalformed("the endorsed action does not parse");
  }
  if (chaincode_name != chaincode || events.empty()) return TxEvents{};
  std::string_view event_name, event_payload;
  if (!wire::Bytes(events, 3, &event_name) || !wire::Bytes(events, 4, &event_payload)) {
    return TxMalformed("the chaincode event does not parse");
  }
  uint64_t seconds = 0, nanos = 0;
  if (!wire::Varint(timestamp, 1, &seconds) || !wire::Varint(timestamp, 2, &nanos)) return malformed();

  TxEvents out;
  const std::string_view name = event_name;
  auto kind = KindForEvent(name);
  if (!kind && name != "CheckpointAnchored") return out;
  auto parsed = ParseStrictJson(event_payload);
  if (!parsed.ok() || !parsed->is_object()) return TxMalformed("the event payload is not a JSON object");
  const json& j = *parsed;
  if (!kind) {
    Anchor a;
    ML_ASSIGN_OR_RETURN(a.origin, TextField(j, "origin"));
    ML_ASSIGN_OR_RETURN(a.root_hash, TextField(j, "rootHash"));
    auto size = j.find("treeSize");
    if (size == j.end() || !size->is_number_unsigned()) return TxMalformed("the anchor has no tree size");
    a.tree_size = size->get<uint64_t>();
    a.tx_id = std::string(tx_id);
    a.block_number = block_number;
    out.anchor = std::move(a);
    return out;
  }
  Leaf leaf;
  leaf.kind = *kind;
  ML_ASSIGN_OR_RETURN(leaf.report_id, TextField(j, "reportId"));
  ML_ASSIGN_OR_RETURN(leaf.patient, TextField(j, "patientRef"));
  ML_ASSIGN_OR_RETURN(leaf.cid, TextField(j, "cid"));
  // Events committed before the log existed carry no content hash; their leaves say so with an empty one.
  auto hash = j.find("contentHash");
  if (hash != j.end() && hash->is_string()) leaf.content_hash = hash->get<std::string>();
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() < 0) {
    return TxMalformed("the event has no version");
  }
  leaf.version = version->get<int64_t>();
  leaf.tx_id = std::string(tx_id);
  leaf.block_number = block_number;
  // The contract's clock (ctx.now) is this timestamp, so the leaf's time equals the record's createdAt.
  leaf.ledger_time =
      Timestamp{static_cast<int64_t>(seconds), static_cast<int32_t>(static_cast<int64_t>(nanos))}.ToRfc3339();
  out.leaf = std::move(leaf);
  return out;
}

Result<BlockEvents> EventsFromBlock(std::string_view bytes, std::string_view chaincode) {
  auto malformed = [](std::string why) { return MakeError(ErrorKind::kCorruption, "block_malformed", std::move(why)); };
  std::string_view header, data, metadata;
  std::string header_storage, data_storage, metadata_storage;
  uint64_t number = 0;
  std::vector<std::string_view> envelopes, slots;
  if (!wire::Message(bytes, 1, &header, &header_storage) || header.data() == nullptr ||
      !wire::Message(bytes, 2, &data, &data_storage) || !wire::Message(bytes, 3, &metadata, &metadata_storage) ||
      !wire::Varint(header, 1, &number) || !wire::Repeated(data, 1, &envelopes) ||
      !wire::Repeated(metadata, 1, &slots)) {
    return malformed("the block does not parse");
  }
  BlockEvents out;
  out.number = number;
  if (slots.size() <= static_cast<size_t>(common::TRANSACTIONS_FILTER) ||
      slots[common::TRANSACTIONS_FILTER].size() != envelopes.size()) {
    return malformed("block " + std::to_string(number) + " has no validation flag for every transaction");
  }
  const std::string_view filter = slots[common::TRANSACTIONS_FILTER];
  for (size_t i = 0; i < envelopes.size(); ++i) {
    if (filter[i] != 0) continue;  // only VALID transactions (TxValidationCode 0)
    // A valid transaction whose event does not parse was still committed: the log cannot skip it silently.
    ML_ASSIGN_OR_RETURN(TxEvents ev, EventsFromEnvelope(envelopes[i], out.number, chaincode));
    if (ev.leaf) out.leaves.push_back(std::move(*ev.leaf));
    if (ev.anchor) out.anchors.push_back(std::move(*ev.anchor));
  }
  return out;
}

}  // namespace medledger::reportlog
