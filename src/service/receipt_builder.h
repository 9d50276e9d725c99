// The receipt (docs/RECEIPTS.md, application/vnd.medledger.receipt+json): one self-contained JSON document
// that proves a report event offline, assembled from the ledger's evidence for the transaction and the
// report log's proof for its leaf. Nothing in it is about another patient.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "ledger/ledger.h"
#include "service/report_log.h"

namespace medledger::service {

inline constexpr char kReceiptMediaType[] = "application/vnd.medledger.receipt+json";
inline constexpr char kReceiptFormat[] = "medledger-receipt/1";

struct ReceiptInputs {
  ledger::TransactionProof tx;  // orderer_signature: the serialized SIGNATURES metadata
  LeafProof log;
  std::string origin;
  std::string cid;
  std::string content_hash;
  std::vector<std::string> certificates_pem;  // the organisation's CA (and intermediates), for the reader
};

// "receipt_evidence_malformed" when the block's signature metadata does not parse.
Result<std::string> BuildReceiptJson(const ReceiptInputs& in);

}  // namespace medledger::service
