#include "ledger/wire/protoutil.h"

#include <cctype>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "receipt/ledger_evidence.h"

namespace medledger::ledger::wire {

std::string ComputeTxId(std::string_view nonce, std::string_view creator) {
  crypto::Sha256Hasher h;
  h.Update(nonce);
  h.Update(creator);
  return HexEncode(h.Finish());
}

// One encoder for the bytes the orderer signs and the receipt verifier checks, so the two cannot drift.
std::string BlockHeaderAsn1(uint64_t number, std::string_view previous_hash, std::string_view data_hash) {
  return receipt::BlockHeaderAsn1(number, previous_hash, data_hash);
}

std::string BlockHeaderHash(uint64_t number, std::string_view previous_hash, std::string_view data_hash) {
  return crypto::Sha256(BlockHeaderAsn1(number, previous_hash, data_hash));
}

std::string BlockDataHash(const std::vector<std::string_view>& envelopes) {
  crypto::Sha256Hasher h;
  for (std::string_view e : envelopes) h.Update(e);
  return h.Finish();
}

std::string TxCodeName(int32_t code) {
  switch (code) {
    case kTxValid: return "VALID";
    case kTxNilEnvelope: return "NIL_ENVELOPE";
    case kTxBadPayload: return "BAD_PAYLOAD";
    case kTxBadCommonHeader: return "BAD_COMMON_HEADER";
    case kTxBadCreatorSignature: return "BAD_CREATOR_SIGNATURE";
    case kTxInvalidEndorserTransaction: return "INVALID_ENDORSER_TRANSACTION";
    case kTxBadProposalTxId: return "BAD_PROPOSAL_TXID";
    case kTxDuplicateTxId: return "DUPLICATE_TXID";
    case kTxEndorsementPolicyFailure: return "ENDORSEMENT_POLICY_FAILURE";
    case kTxMvccReadConflict: return "MVCC_READ_CONFLICT";
    case kTxPhantomReadConflict: return "PHANTOM_READ_CONFLICT";
    case kTxUnknownTxType: return "UNKNOWN_TX_TYPE";
    case kTxTargetChainNotFound: return "TARGET_CHAIN_NOT_FOUND";
    case kTxNilTxAction: return "NIL_TXACTION";
    case kTxBadHeaderExtension: return "BAD_HEADER_EXTENSION";
    case kTxBadChannelHeader: return "BAD_CHANNEL_HEADER";
    case kTxBadResponsePayload: return "BAD_RESPONSE_PAYLOAD";
    case kTxBadRwset: return "BAD_RWSET";
    case kTxIllegalWriteset: return "ILLEGAL_WRITESET";
    case kTxInvalidChaincode: return "INVALID_CHAINCODE";
    case kTxNotValidated: return "NOT_VALIDATED";
    case kTxInvalidOtherReason: return "INVALID_OTHER_REASON";
    default: return "CODE_" + std::to_string(code);
  }
}

Error TxCodeError(int32_t code, std::string_view tx_id) {
  std::string name = TxCodeName(code);
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  ErrorKind kind = ErrorKind::kInvalidArgument;
  switch (code) {
    case kTxMvccReadConflict:
    case kTxPhantomReadConflict: kind = ErrorKind::kConflict; break;
    case kTxDuplicateTxId: kind = ErrorKind::kAlreadyExists; break;
    case kTxBadCreatorSignature:
    case kTxEndorsementPolicyFailure: kind = ErrorKind::kPermissionDenied; break;
    default: break;
  }
  return MakeError(kind, lower, "transaction " + std::string(tx_id) + " committed as invalid: " + name);
}

ErrorKind ContractStatusKind(int32_t status) {
  switch (status) {
    case 400: return ErrorKind::kInvalidArgument;
    case 401: return ErrorKind::kUnauthenticated;
    case 403: return ErrorKind::kPermissionDenied;
    case 404: return ErrorKind::kNotFound;
    case 409: return ErrorKind::kAlreadyExists;
    case 413: return ErrorKind::kTooLarge;
    case 422: return ErrorKind::kInvalidArgument;
    case 429: return ErrorKind::kResourceExhausted;
    default: return status >= 500 ? ErrorKind::kInternal : ErrorKind::kInvalidArgument;
  }
}

Error ContractError(int32_t status, std::string_view message) {
  std::string code = "contract_error";
  std::string text(message);
  size_t colon = message.find(": ");
  if (colon != std::string_view::npos && colon > 0) {
    std::string_view head = message.substr(0, colon);
    bool is_code = true;
    for (char c : head) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
        is_code = false;
        break;
      }
    }
    if (is_code) {
      code = std::string(head);
      text = std::string(message.substr(colon + 2));
    }
  }
  return MakeError(ContractStatusKind(status), std::move(code), std::move(text));
}

}  // namespace medledger::ledger::wire
