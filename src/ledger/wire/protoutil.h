// Fabric's wire conventions, in one place: transaction IDs, the block header hash (ASN.1 DER), the block
// data hash, and the validation-code names. Kept free of generated protobuf headers so it is cheap to include.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::ledger::wire {

// hex(SHA-256(nonce || creator)), Fabric's ComputeTxID.
std::string ComputeTxId(std::string_view nonce, std::string_view creator);

// DER SEQUENCE { number INTEGER, previous_hash OCTET STRING, data_hash OCTET STRING }: the bytes Fabric
// hashes (and the orderer signs) for a block header.
std::string BlockHeaderAsn1(uint64_t number, std::string_view previous_hash, std::string_view data_hash);
// SHA-256 of BlockHeaderAsn1 (raw 32 bytes).
std::string BlockHeaderHash(uint64_t number, std::string_view previous_hash, std::string_view data_hash);
// SHA-256 over the concatenated envelope bytes, Fabric's BlockDataHash (raw 32 bytes).
std::string BlockDataHash(const std::vector<std::string_view>& envelopes);

// protos.TxValidationCode values medledger produces, and their names ("VALID", "MVCC_READ_CONFLICT"...).
enum TxCode : int32_t {
  kTxValid = 0,
  kTxNilEnvelope = 1,
  kTxBadPayload = 2,
  kTxBadCommonHeader = 3,
  kTxBadCreatorSignature = 4,
  kTxInvalidEndorserTransaction = 5,
  kTxBadProposalTxId = 8,
  kTxDuplicateTxId = 9,
  kTxEndorsementPolicyFailure = 10,
  kTxMvccReadConflict = 11,
  kTxPhantomReadConflict = 12,
  kTxUnknownTxType = 13,
  kTxTargetChainNotFound = 14,
  kTxNilTxAction = 16,
  kTxBadHeaderExtension = 19,
  kTxBadChannelHeader = 20,
  kTxBadResponsePayload = 21,
  kTxBadRwset = 22,
  kTxIllegalWriteset = 23,
  kTxInvalidChaincode = 25,
  kTxNotValidated = 254,
  kTxInvalidOtherReason = 255,
};
std::string TxCodeName(int32_t code);  // "MVCC_READ_CONFLICT"; "CODE_<n>" for values not listed
// The error a submitter receives for an invalid transaction: code = lowercase name ("mvcc_read_conflict").
Error TxCodeError(int32_t code, std::string_view tx_id);

// Maps a contract response status to an ErrorKind (400 -> kInvalidArgument, 403 -> kPermissionDenied, ...).
ErrorKind ContractStatusKind(int32_t status);
// The contract's error as a medledger Error: message "<code>: <text>" splits into Error.code / message.
Error ContractError(int32_t status, std::string_view message);

}  // namespace medledger::ledger::wire
