// Builders for the Fabric messages a peer sends a chaincode, shared by the shim's unit and process tests.
#pragma once

#include <string>
#include <vector>

#include "pb/common/common.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal.pb.h"

namespace medledger::testsupport {

// A TRANSACTION message as a peer forwards it: ChaincodeInput args plus the creator's signed proposal.
inline protos::ChaincodeMessage ChaincodeTransaction(const std::string& txid, const std::vector<std::string>& args,
                                                     const std::string& msp_id, const std::string& cert_pem,
                                                     int64_t unix_seconds, bool with_proposal = true) {
  protos::ChaincodeMessage m;
  m.set_type(protos::ChaincodeMessage::TRANSACTION);
  m.set_txid(txid);
  m.set_channel_id("medchannel");
  protos::ChaincodeInput input;
  for (const auto& a : args) input.add_args(a);
  m.set_payload(input.SerializeAsString());
  if (!with_proposal) return m;
  msp::SerializedIdentity id;
  id.set_mspid(msp_id);
  id.set_id_bytes(cert_pem);
  common::SignatureHeader sh;
  sh.set_creator(id.SerializeAsString());
  sh.set_nonce("nonce");
  common::ChannelHeader ch;
  ch.mutable_timestamp()->set_seconds(unix_seconds);
  ch.set_channel_id("medchannel");
  ch.set_tx_id(txid);
  common::Header header;
  header.set_channel_header(ch.SerializeAsString());
  header.set_signature_header(sh.SerializeAsString());
  protos::Proposal proposal;
  proposal.set_header(header.SerializeAsString());
  m.mutable_proposal()->set_proposal_bytes(proposal.SerializeAsString());
  m.mutable_proposal()->set_signature("signature-checked-by-the-peer");
  return m;
}

}  // namespace medledger::testsupport
