#include "service/receipt_builder.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "pb/common/common.pb.h"
#include "receipt/ledger_evidence.h"
#include "tlog/proof_json.h"

namespace medledger::service {

Result<std::string> BuildReceiptJson(const ReceiptInputs& in) {
  using json = nlohmann::json;
  common::Envelope envelope;
  common::Payload payload;
  common::ChannelHeader channel_header;
  if (!envelope.ParseFromString(in.tx.envelope) || !payload.ParseFromString(envelope.payload()) ||
      !channel_header.ParseFromString(payload.header().channel_header())) {
    return MakeError(ErrorKind::kCorruption, "receipt_evidence_malformed", "the transaction envelope does not parse");
  }
  auto signature = receipt::SplitSignaturesMetadata(in.tx.orderer_signature);
  if (!signature.ok()) {
    return MakeError(ErrorKind::kCorruption, "receipt_evidence_malformed",
                     "the block carries no orderer signature metadata");
  }
  // The verifier's own encoder, so the server cannot drift from what verifiers parse.
  receipt::LedgerEvidence evidence;
  evidence.channel = channel_header.channel_id();
  evidence.tx_id = in.tx.tx_id;
  evidence.block_number = in.tx.block_number;
  evidence.envelope = in.tx.envelope;
  evidence.block_header = in.tx.block_header;
  evidence.block_signature = signature->metadata_signature;
  evidence.block_metadata_value = signature->metadata_value;
  evidence.certificate_pems = in.certificates_pem;
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
        {"inclusionProof", tlog::ProofToJson(in.log.inclusion_proof)},
        {"checkpoint", in.log.checkpoint.note},
        {"cosignatures", in.log.checkpoint.cosignatures},
        {"timestampToken", Base64Encode(in.log.checkpoint.timestamp_token)},
        {"anchorTxId", in.log.checkpoint.anchor_tx_id}}},
      {"ledger", receipt::LedgerEvidenceToJson(evidence)},
      {"content", {{"cid", in.cid}, {"contentHash", in.content_hash}}},
  };
  return receipt.dump(2);
}

}  // namespace medledger::service
