// Verifies the signature of a medledger FHIR Provenance (docs/FHIR.md, "Checking a Provenance's signature")
// offline, with only the organisation's root certificate: the signature's data is the Fabric envelope of the
// transaction that wrote the report version, and it must
//   1. be named as such (sigFormat application/vnd.hyperledger.fabric.envelope+protobuf);
//   2. pass the receipt's envelope checks (docs/RECEIPTS.md check 2: creator signature, every endorsement,
//      each signer chaining to the root) for the transaction ID the Provenance's ledger entity names;
//   3. be endorsed by the peer `signature.who` names (its MSP and certificate common name);
//   4. carry the endorsed chaincode event of exactly the target version (reportId and version);
//   5. have been made at `signature.when` (the channel header's timestamp, to the second).
// Failures: "provenance_malformed" (kInvalidArgument) for a document that is not such a Provenance,
// "provenance_mismatch" (kCorruption) for a binding that does not hold, and the envelope check's own codes
// (receipt/ledger_evidence.h) for a signature that does not verify.
#pragma once

#include <string_view>

#include "common/result.h"
#include "receipt/ledger_evidence.h"
#include "verifier/receipt_verifier.h"

namespace medledger::verifier {

Result<receipt::VerifiedLedgerEvidence> VerifyProvenanceSignature(std::string_view provenance_json,
                                                                  const TrustSet& trust);

}  // namespace medledger::verifier
