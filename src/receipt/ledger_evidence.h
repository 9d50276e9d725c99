// Offline verification of a receipt's ledger evidence (docs/RECEIPTS.md, `ledger` object, checks 2 and 3):
// the transaction's signed envelope, its endorsements, and the orderer's signature over the block header,
// each signer's certificate chaining to the organisation's root. Needs no ledger, no network, no other
// transaction: only the evidence and the trusted roots.
//
// What it proves: the creator signed this transaction, the organisation's peer(s) endorsed exactly this
// proposal and its result (the chaincode event included), and the organisation's orderer signed a block
// header with this number. What it cannot prove alone: that the envelope is one of that block's
// transactions (the header's data hash covers every envelope of the block, which a receipt must not carry),
// nor the peer's validity flag (not signed by the orderer). The receipt binds those through the log leaf.
//
// Every failure has a stable Error::code (ErrorKind::kInvalidArgument for bytes that do not parse,
// kPermissionDenied for an untrusted or wrong-role signer, kCorruption for a signature or a binding that
// does not hold):
//   envelope:     "ledger_envelope_malformed", "ledger_not_endorser_transaction", "ledger_channel_mismatch",
//                 "ledger_tx_id_mismatch" (claimed tx ID, or tx ID != hex(SHA-256(nonce || creator)))
//   creator:      "ledger_creator_malformed", "ledger_creator_untrusted", "ledger_creator_not_client",
//                 "ledger_creator_signature"
//   endorsements: "ledger_proposal_hash_mismatch", "ledger_no_endorsement", "ledger_endorser_malformed",
//                 "ledger_endorser_untrusted", "ledger_endorser_not_peer", "ledger_endorsement_signature",
//                 "ledger_response_error" (endorsed status 400 or more: never a valid transaction),
//                 "ledger_event_malformed", "ledger_event_mismatch" (the event names another tx/chaincode)
//   block:        "ledger_block_header_malformed", "ledger_block_number_mismatch",
//                 "ledger_block_signature_malformed", "ledger_orderer_malformed", "ledger_orderer_untrusted",
//                 "ledger_orderer_not_orderer", "ledger_orderer_signature"
//   inputs:       "ledger_evidence_too_large", "ledger_no_trusted_roots", "ledger_certificate_malformed"
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "crypto/x509.h"

namespace medledger::receipt {

// Bounds on evidence from outside (a receipt file): an endorser transaction of this system is a few KiB.
inline constexpr size_t kMaxEnvelopeBytes = 1 << 20;
inline constexpr size_t kMaxEvidenceFieldBytes = 64 * 1024;  // header, signature, metadata value, each PEM
inline constexpr size_t kMaxCertificates = 16;
inline constexpr size_t kMaxEndorsements = 16;
inline constexpr int kMaxChainDepth = 4;  // intermediates between a signer and a root

// The receipt's `ledger` object, decoded from base64 (the JSON layer does that).
struct LedgerEvidence {
  std::string channel;                        // claimed; must equal the channel header's
  std::string tx_id;                          // claimed; must equal the channel header's
  uint64_t block_number = 0;                  // claimed; must equal the block header's
  std::string envelope;                       // serialized common.Envelope
  std::string block_header;                   // serialized common.BlockHeader
  std::string block_signature;                // serialized common.MetadataSignature (the orderer's)
  std::string block_metadata_value;           // common.Metadata.value of the SIGNATURES metadata
  std::vector<std::string> certificate_pems;  // intermediate CAs a signer's chain may need (untrusted)
};

// The receipt's `ledger` object (docs/RECEIPTS.md: channel, txId, blockNumber, envelope, blockHeader,
// blockSignature, blockMetadataValue as base64, certificates as PEM strings) and back. Parsing is strict:
// "ledger_evidence_malformed" names the field that is missing, of the wrong type, not base64, over its bound,
// or not one of the format's (an unknown field is refused, so two verifiers cannot read one receipt two ways).
Result<LedgerEvidence> LedgerEvidenceFromJson(const nlohmann::json& ledger);
nlohmann::json LedgerEvidenceToJson(const LedgerEvidence& evidence);

// The organisation's trust anchors, from the trust directory's org-root.pem.
struct LedgerTrust {
  std::vector<crypto::Certificate> roots;
  std::string msp_id;          // non-empty: the creator's and endorsers' SerializedIdentity must name this MSP
  std::string orderer_msp_id;  // non-empty: the orderer's must name this one (a separate orderer organisation);
                               // empty: the orderer is held to `msp_id` (medledger: one organisation is both)

  // Every certificate in `pem` (one or more); "ledger_no_trusted_roots" when none parses.
  static Result<LedgerTrust> FromPem(std::string_view pem, std::string msp_id = "");
};

struct SignerInfo {
  std::string msp_id;
  std::string common_name;
  std::vector<std::string> organizational_units;
  std::string cert_pem;
};

struct ChaincodeEventInfo {
  std::string chaincode;
  std::string event_name;
  std::string payload;
};

struct VerifiedLedgerEvidence {
  std::string tx_id;
  std::string channel;
  Timestamp timestamp;  // the channel header's (the creator's clock)
  uint64_t block_number = 0;
  std::string block_previous_hash;  // raw bytes, as in the signed header
  std::string block_data_hash;      // raw bytes, as in the signed header
  SignerInfo creator;
  std::vector<SignerInfo> endorsers;
  SignerInfo orderer;
  std::string chaincode;  // the endorsed ChaincodeAction's chaincode name
  int32_t response_status = 0;
  std::optional<ChaincodeEventInfo> event;  // the endorsed chaincode event, when the call set one
};

// Runs every check; the first failure is returned with its name. Certificates are checked at the channel
// header's timestamp: a receipt must stay verifiable after the signers' certificates expire, and each
// signature binds that timestamp (the creator's directly; the endorsers' through the proposal hash).
Result<VerifiedLedgerEvidence> VerifyLedgerEvidence(const LedgerEvidence& evidence, const LedgerTrust& trust);

// The envelope checks of VerifyLedgerEvidence alone (creator, endorsements, endorsed event; no block): what a
// verifier runs on a transaction it holds without its block, such as a FHIR Provenance's signature
// (docs/FHIR.md). `tx_id` is the transaction the caller was told it is ("ledger_tx_id_mismatch" otherwise);
// `block_*` and `orderer` of the answer are left empty.
Result<VerifiedLedgerEvidence> VerifyTransactionEnvelope(std::string_view envelope, std::string_view tx_id,
                                                         const std::vector<std::string>& certificate_pems,
                                                         const LedgerTrust& trust);

// The orderer signature and metadata value in the form the receipt carries, from a serialized
// common.Metadata of the SIGNATURES slot (what the ledgers store): its value and its first signature.
struct BlockSignatureParts {
  std::string metadata_value;
  std::string metadata_signature;  // serialized common.MetadataSignature
};
Result<BlockSignatureParts> SplitSignaturesMetadata(std::string_view serialized_metadata);

// DER SEQUENCE { number INTEGER, previous_hash OCTET STRING, data_hash OCTET STRING }: the bytes Fabric's
// protoutil.BlockHeaderBytes produces and the orderer signs after the metadata value and signature header.
std::string BlockHeaderAsn1(uint64_t number, std::string_view previous_hash, std::string_view data_hash);

}  // namespace medledger::receipt
