#include "reportlog/block_leaves.h"

#include <nlohmann/json.hpp>

#include "common/common.pb.h"
#include "common/json_strict.h"
#include "common/time.h"
#include "peer/chaincode_event.pb.h"
#include "peer/proposal.pb.h"
#include "peer/proposal_response.pb.h"
#include "peer/transaction.pb.h"

namespace medledger::reportlog {
namespace {

using json = nlohmann::json;

Error TxMalformed(std::string why) {
  return MakeError(ErrorKind::kCorruption, "tx_malformed", std::move(why));
}

template <class Message>
bool ParseBytes(Message* m, const std::string& bytes) {
  return m->ParseFromString(bytes);
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
  common::Envelope env;
  common::Payload payload;
  common::ChannelHeader ch;
  if (!env.ParseFromArray(envelope.data(), static_cast<int>(envelope.size())) || !ParseBytes(&payload, env.payload()) ||
      !ParseBytes(&ch, payload.header().channel_header())) {
    return TxMalformed("the envelope does not parse");
  }
  if (ch.type() != common::ENDORSER_TRANSACTION) return TxEvents{};
  protos::Transaction tx;
  if (!ParseBytes(&tx, payload.data()) || tx.actions_size() != 1) return TxMalformed("not one transaction action");
  protos::ChaincodeActionPayload cap;
  protos::ProposalResponsePayload prp;
  protos::ChaincodeAction action;
  if (!ParseBytes(&cap, tx.actions(0).payload()) || !cap.has_action() ||
      !ParseBytes(&prp, cap.action().proposal_response_payload()) || !ParseBytes(&action, prp.extension())) {
    return TxMalformed("the endorsed action does not parse");
  }
  if (action.chaincode_id().name() != chaincode || action.events().empty()) return TxEvents{};
  protos::ChaincodeEvent event;
  if (!ParseBytes(&event, action.events())) return TxMalformed("the chaincode event does not parse");

  TxEvents out;
  const std::string& name = event.event_name();
  auto kind = KindForEvent(name);
  if (!kind && name != "CheckpointAnchored") return out;
  auto parsed = ParseStrictJson(event.payload());
  if (!parsed.ok() || !parsed->is_object()) return TxMalformed("the event payload is not a JSON object");
  const json& j = *parsed;
  if (!kind) {
    Anchor a;
    ML_ASSIGN_OR_RETURN(a.origin, TextField(j, "origin"));
    ML_ASSIGN_OR_RETURN(a.root_hash, TextField(j, "rootHash"));
    auto size = j.find("treeSize");
    if (size == j.end() || !size->is_number_unsigned()) return TxMalformed("the anchor has no tree size");
    a.tree_size = size->get<uint64_t>();
    a.tx_id = ch.tx_id();
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
  leaf.tx_id = ch.tx_id();
  leaf.block_number = block_number;
  // The contract's clock (ctx.now) is this timestamp, so the leaf's time equals the record's createdAt.
  leaf.ledger_time = Timestamp{ch.timestamp().seconds(), ch.timestamp().nanos()}.ToRfc3339();
  out.leaf = std::move(leaf);
  return out;
}

Result<BlockEvents> EventsFromBlock(std::string_view bytes, std::string_view chaincode) {
  common::Block block;
  if (!block.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !block.has_header()) {
    return MakeError(ErrorKind::kCorruption, "block_malformed", "the block does not parse");
  }
  BlockEvents out;
  out.number = block.header().number();
  const int n = block.data().data_size();
  if (block.metadata().metadata_size() <= common::TRANSACTIONS_FILTER ||
      static_cast<int>(block.metadata().metadata(common::TRANSACTIONS_FILTER).size()) != n) {
    return MakeError(ErrorKind::kCorruption, "block_malformed",
                     "block " + std::to_string(out.number) + " has no validation flag for every transaction");
  }
  const std::string& filter = block.metadata().metadata(common::TRANSACTIONS_FILTER);
  for (int i = 0; i < n; ++i) {
    if (filter[static_cast<size_t>(i)] != 0) continue;  // only VALID transactions (TxValidationCode 0)
    // A valid transaction whose event does not parse was still committed: the log cannot skip it silently.
    ML_ASSIGN_OR_RETURN(TxEvents ev, EventsFromEnvelope(block.data().data(i), out.number, chaincode));
    if (ev.leaf) out.leaves.push_back(std::move(*ev.leaf));
    if (ev.anchor) out.anchors.push_back(std::move(*ev.anchor));
  }
  return out;
}

}  // namespace medledger::reportlog
