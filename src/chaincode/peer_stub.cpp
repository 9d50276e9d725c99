#include "chaincode/peer_stub.h"

#include "chaincode/handler.h"
#include "contract/endorsement_policy.h"
#include "pb/common/common.pb.h"
#include "pb/ledger/queryresult/kv_query_result.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal.pb.h"

namespace medledger::chaincode {

using protos::ChaincodeMessage;

namespace {

Error BadProposal(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "bad_proposal", "the peer's signed proposal is malformed: " + what);
}

Error BadReply(const std::string& what) {
  return MakeError(ErrorKind::kUnavailable, "bad_peer_reply", "the peer's reply is malformed: " + what);
}

// Fabric's shim substitutes "\x01" for an empty start key so a range over simple keys skips composite keys.
constexpr std::string_view kEmptyKeySubstitute = "\x01";

}  // namespace

PeerStub::PeerStub(Handler& handler, std::string channel_id, std::string tx_id)
    : handler_(handler), channel_id_(std::move(channel_id)), tx_id_(std::move(tx_id)) {}

Result<std::unique_ptr<PeerStub>> PeerStub::FromTransaction(Handler& handler, const ChaincodeMessage& tx) {
  auto stub = std::make_unique<PeerStub>(handler, tx.channel_id(), tx.txid());
  if (!tx.has_proposal()) return stub;  // no creator: the contract denies whatever needs one
  protos::Proposal proposal;
  if (!proposal.ParseFromString(tx.proposal().proposal_bytes())) return BadProposal("Proposal");
  common::Header header;
  if (!header.ParseFromString(proposal.header())) return BadProposal("Header");
  common::ChannelHeader channel_header;
  if (!channel_header.ParseFromString(header.channel_header())) return BadProposal("ChannelHeader");
  common::SignatureHeader signature_header;
  if (!signature_header.ParseFromString(header.signature_header())) return BadProposal("SignatureHeader");
  msp::SerializedIdentity creator;
  if (!creator.ParseFromString(signature_header.creator())) return BadProposal("SerializedIdentity");
  stub->creator_ = contract::Creator{creator.mspid(), creator.id_bytes()};
  stub->timestamp_ = Timestamp{channel_header.timestamp().seconds(), channel_header.timestamp().nanos()};
  return stub;
}

Result<std::string> PeerStub::Call(int type, std::string payload) {
  ChaincodeMessage request;
  request.set_type(static_cast<ChaincodeMessage::Type>(type));
  request.set_payload(std::move(payload));
  request.set_txid(tx_id_);
  request.set_channel_id(channel_id_);
  return handler_.Call(request);
}

Result<std::optional<std::string>> PeerStub::GetState(std::string_view key) {
  protos::GetState req;
  req.set_key(std::string(key));
  ML_ASSIGN_OR_RETURN(std::string value, Call(ChaincodeMessage::GET_STATE, req.SerializeAsString()));
  if (value.empty()) return std::optional<std::string>();  // Fabric answers an empty payload for a missing key
  return std::optional<std::string>(std::move(value));
}

Status PeerStub::PutState(std::string_view key, std::string_view value) {
  if (key.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_key", "key must not be empty");
  protos::PutState req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  ML_RETURN_IF_ERROR(Call(ChaincodeMessage::PUT_STATE, req.SerializeAsString()));
  return OkStatus();
}

Status PeerStub::DelState(std::string_view key) {
  protos::DelState req;
  req.set_key(std::string(key));
  ML_RETURN_IF_ERROR(Call(ChaincodeMessage::DEL_STATE, req.SerializeAsString()));
  return OkStatus();
}

Status PeerStub::SetStateValidationParameter(std::string_view key, std::string_view policy) {
  if (key.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_key", "key must not be empty");
  protos::PutStateMetadata req;
  req.set_key(std::string(key));
  req.mutable_metadata()->set_metakey(std::string(contract::kValidationParameter));
  req.mutable_metadata()->set_value(std::string(policy));
  ML_RETURN_IF_ERROR(Call(ChaincodeMessage::PUT_STATE_METADATA, req.SerializeAsString()));
  return OkStatus();
}

Result<contract::Page> PeerStub::GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                                                 std::string_view bookmark) {
  protos::GetStateByRange req;
  req.set_startkey(start.empty() ? std::string(kEmptyKeySubstitute) : std::string(start));
  req.set_endkey(std::string(end));
  if (page_size > 0) {
    protos::QueryMetadata meta;
    meta.set_pagesize(static_cast<int32_t>(page_size));
    meta.set_bookmark(std::string(bookmark));
    req.set_metadata(meta.SerializeAsString());
  } else if (!bookmark.empty()) {
    req.set_startkey(std::string(bookmark));
  }
  ML_ASSIGN_OR_RETURN(std::string first, Call(ChaincodeMessage::GET_STATE_BY_RANGE, req.SerializeAsString()));
  contract::Page page;
  ML_ASSIGN_OR_RETURN(std::string metadata, DrainQuery(first, [&](const std::string& bytes) -> Status {
                        queryresult::KV kv;
                        if (!kv.ParseFromString(bytes)) return BadReply("KV");
                        page.items.push_back({kv.key(), kv.value()});
                        return OkStatus();
                      }));
  if (!metadata.empty()) {
    protos::QueryResponseMetadata meta;
    if (!meta.ParseFromString(metadata)) return BadReply("QueryResponseMetadata");
    page.bookmark = meta.bookmark();
  }
  return page;
}

Result<std::vector<contract::KeyModification>> PeerStub::GetHistoryForKey(std::string_view key) {
  protos::GetHistoryForKey req;
  req.set_key(std::string(key));
  ML_ASSIGN_OR_RETURN(std::string first, Call(ChaincodeMessage::GET_HISTORY_FOR_KEY, req.SerializeAsString()));
  std::vector<contract::KeyModification> out;
  ML_ASSIGN_OR_RETURN(std::string metadata, DrainQuery(first, [&](const std::string& bytes) -> Status {
                        queryresult::KeyModification km;
                        if (!km.ParseFromString(bytes)) return BadReply("KeyModification");
                        out.push_back({km.tx_id(), km.value(),
                                       Timestamp{km.timestamp().seconds(), km.timestamp().nanos()}, km.is_delete()});
                        return OkStatus();
                      }));
  (void)metadata;  // history is never paged
  return out;
}

Result<std::string> PeerStub::DrainQuery(const std::string& first_reply,
                                         const std::function<Status(const std::string& result_bytes)>& each) {
  protos::QueryResponse response;
  if (!response.ParseFromString(first_reply)) return BadReply("QueryResponse");
  for (;;) {
    for (const auto& item : response.results()) ML_RETURN_IF_ERROR(each(item.resultbytes()));
    if (!response.has_more()) break;
    protos::QueryStateNext next;
    next.set_id(response.id());
    ML_ASSIGN_OR_RETURN(std::string more, Call(ChaincodeMessage::QUERY_STATE_NEXT, next.SerializeAsString()));
    std::string id = response.id();
    if (!response.ParseFromString(more)) return BadReply("QueryResponse");
    if (response.id().empty()) response.set_id(id);
  }
  // The peer keeps the iterator open until told otherwise.
  protos::QueryStateClose close;
  close.set_id(response.id());
  ML_RETURN_IF_ERROR(Call(ChaincodeMessage::QUERY_STATE_CLOSE, close.SerializeAsString()));
  return std::string(response.metadata());
}

Status PeerStub::SetEvent(std::string_view name, std::string_view payload) {
  if (name.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_event_name", "event name must not be empty");
  event_ = std::make_pair(std::string(name), std::string(payload));
  return OkStatus();
}

}  // namespace medledger::chaincode
