#include "service/receipt_builder.h"

#include <nlohmann/json.hpp>

#include "common/common.pb.h"
#include "common/encoding.h"
#include "common/json_strict.h"

namespace medledger::service {

Result<std::string> BuildReceiptJson(const ReceiptInputs& in) {
  using json = nlohmann::json;
  common::Metadata signatures;
  if (!signatures.ParseFromString(in.tx.orderer_signature) || signatures.signatures_size() < 1) {
    return MakeError(ErrorKind::kCorruption, "receipt_evidence_malformed",
                     "the block carries no orderer signature metadata");
  }
  common::Envelope envelope;
  common::Payload payload;
  common::ChannelHeader channel_header;
  if (!envelope.ParseFromString(in.tx.envelope) || !payload.ParseFromString(envelope.payload()) ||
      !channel_header.ParseFromString(payload.header().channel_header())) {
    return MakeError(ErrorKind::kCorruption, "receipt_evidence_malformed", "the transaction envelope does not parse");
  }
  json proof = json::array();
  for (const auto& h : in.log.inclusion_proof) proof.push_back(Base64Encode(h));
  auto fields = ParseStrictJson(in.log.leaf);
  json receipt = {
      {"format", kReceiptFormat},
      {"leaf",
       {{"data", Base64Encode(in.log.leaf)},
        {"index", in.log.index},
        {"fields", fields.ok() ? *fields : json::object()}}},
      {"log",
       {{"origin", in.origin},
        {"treeSize", in.log.checkpoint.checkpoint.size},
        {"inclusionProof", proof},
        {"checkpoint", in.log.checkpoint.note},
        {"cosignatures", in.log.checkpoint.cosignatures},
        {"timestampToken", Base64Encode(in.log.checkpoint.timestamp_token)},
        {"anchorTxId", in.log.checkpoint.anchor_tx_id}}},
      {"ledger",
       {{"channel", channel_header.channel_id()},
        {"txId", in.tx.tx_id},
        {"blockNumber", in.tx.block_number},
        {"envelope", Base64Encode(in.tx.envelope)},
        {"blockHeader", Base64Encode(in.tx.block_header)},
        {"blockSignature", Base64Encode(signatures.signatures(0).SerializeAsString())},
        {"blockMetadataValue", Base64Encode(signatures.value())},
        {"certificates", in.certificates_pem}}},
      {"content", {{"cid", in.cid}, {"contentHash", in.content_hash}}},
  };
  return receipt.dump(2);
}

}  // namespace medledger::service
