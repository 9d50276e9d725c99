#include "ledger/embedded/endorser.h"

#include <exception>

#include "ledger/wire/protoutil.h"
#include "pb/common/common.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"

namespace medledger::ledger::embedded {
namespace {

template <class M>
bool ParseBytes(M* m, std::string_view bytes) {
  return m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

Error Malformed(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "malformed_proposal", "proposal " + what + " does not parse");
}

// Runs the contract, turning a stray exception into an error: the contract is another module's code.
contract::Response InvokeContract(contract::Contract& c, contract::ChaincodeStub& stub, std::string_view function,
                                  const std::vector<std::string>& args) {
  try {
    return c.Invoke(stub, function, args);
  } catch (const std::exception& e) {
    return contract::Response{500, std::string("contract_exception: ") + e.what(), ""};
  } catch (...) {
    return contract::Response{500, "contract_exception: unknown exception", ""};
  }
}

}  // namespace

Result<contract::Response> Endorser::Simulate(const TxContext& context, std::string_view function,
                                              const std::vector<std::string>& args) const {
  Simulator sim(state_, context);
  contract::Response resp = InvokeContract(contract_, sim, function, args);
  if (resp.status >= 400) return wire::ContractError(resp.status, resp.message);
  return resp;
}

Result<EndorsedProposal> Endorser::ProcessSignedProposal(std::string_view signed_proposal) const {
  protos::SignedProposal sp;
  if (!ParseBytes(&sp, signed_proposal)) return Malformed("SignedProposal");
  protos::Proposal proposal;
  if (!ParseBytes(&proposal, sp.proposal_bytes())) return Malformed("Proposal");
  common::Header header;
  if (!ParseBytes(&header, proposal.header())) return Malformed("Header");
  common::ChannelHeader ch;
  common::SignatureHeader sh;
  if (!ParseBytes(&ch, header.channel_header())) return Malformed("ChannelHeader");
  if (!ParseBytes(&sh, header.signature_header())) return Malformed("SignatureHeader");
  protos::ChaincodeHeaderExtension ext;
  if (!ParseBytes(&ext, ch.extension())) return Malformed("ChaincodeHeaderExtension");
  if (ch.type() != common::ENDORSER_TRANSACTION) {
    return MakeError(ErrorKind::kInvalidArgument, "unsupported_tx_type", "only endorser transactions are accepted");
  }
  if (ch.channel_id() != channel_id_) {
    return MakeError(ErrorKind::kNotFound, "wrong_channel", "unknown channel '" + ch.channel_id() + "'");
  }
  if (ext.chaincode_id().name() != ns_) {
    return MakeError(ErrorKind::kNotFound, "wrong_chaincode", "unknown chaincode '" + ext.chaincode_id().name() + "'");
  }
  if (sh.nonce().empty() || wire::ComputeTxId(sh.nonce(), sh.creator()) != ch.tx_id()) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_proposal_txid", "tx_id is not SHA-256(nonce || creator)");
  }
  ML_ASSIGN_OR_RETURN(auto creator, membership_.Resolve(sh.creator()));
  if (!creator->public_key.Verify(sp.proposal_bytes(), sp.signature())) {
    return MakeError(ErrorKind::kPermissionDenied, "bad_proposal_signature",
                     "the proposal signature does not verify against the creator's certificate");
  }
  protos::ChaincodeProposalPayload ccpp;
  protos::ChaincodeInvocationSpec cis;
  if (!ParseBytes(&ccpp, proposal.payload()) || !ParseBytes(&cis, ccpp.input())) return Malformed("payload");
  const auto& input = cis.chaincode_spec().input();
  if (input.args_size() == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "missing_function", "the proposal names no function");
  }
  std::vector<std::string> args(input.args().begin() + 1, input.args().end());

  wire::ProposalParts parts;
  parts.tx_id = ch.tx_id();
  parts.timestamp = Timestamp{ch.timestamp().seconds(), ch.timestamp().nanos()};
  parts.channel_header = header.channel_header();
  parts.signature_header = header.signature_header();
  parts.payload = proposal.payload();
  parts.proposal = sp.proposal_bytes();
  ML_ASSIGN_OR_RETURN(auto out, Endorse(std::move(parts), *creator, input.args(0), args));
  protos::ProposalResponse pr;
  pr.set_version(1);
  pr.mutable_timestamp()->set_seconds(out.proposal.timestamp.seconds);
  pr.mutable_timestamp()->set_nanos(out.proposal.timestamp.nanos);
  pr.mutable_response()->set_status(out.response.status);
  pr.mutable_response()->set_message(out.response.message);
  pr.mutable_response()->set_payload(out.response.payload);
  pr.set_payload(out.proposal_response_payload);
  pr.mutable_endorsement()->set_endorser(out.endorsement.endorser);
  pr.mutable_endorsement()->set_signature(out.endorsement.signature);
  out.proposal_response = pr.SerializeAsString();
  return out;
}

Result<EndorsedProposal> Endorser::EndorseLocal(wire::ProposalParts parts, std::string_view function,
                                                const std::vector<std::string>& args) const {
  common::SignatureHeader sh;
  if (!ParseBytes(&sh, parts.signature_header)) return Malformed("SignatureHeader");
  ML_ASSIGN_OR_RETURN(auto creator, membership_.Resolve(sh.creator()));
  return Endorse(std::move(parts), *creator, function, args);
}

Result<EndorsedProposal> Endorser::Endorse(wire::ProposalParts parts, const MemberIdentity& creator,
                                           std::string_view function, const std::vector<std::string>& args) const {
  TxContext ctx{ns_, channel_id_, parts.tx_id, parts.timestamp, contract::Creator{creator.msp_id, creator.cert_pem}};
  Simulator sim(state_, std::move(ctx));
  contract::Response resp = InvokeContract(contract_, sim, function, args);
  if (resp.status >= 400) return wire::ContractError(resp.status, resp.message);

  protos::ChaincodeAction action;
  action.set_results(sim.SerializeRwSet());
  action.set_events(sim.SerializeEvent());
  action.mutable_response()->set_status(resp.status);
  action.mutable_response()->set_message(resp.message);
  action.mutable_response()->set_payload(resp.payload);
  action.mutable_chaincode_id()->set_name(ns_);
  protos::ProposalResponsePayload prp;
  prp.set_proposal_hash(wire::ProposalHash(parts.channel_header, parts.signature_header, parts.payload));
  prp.set_extension(action.SerializeAsString());

  EndorsedProposal out;
  out.proposal_response_payload = prp.SerializeAsString();
  out.endorsement.endorser = peer_.serialized();
  std::string signed_bytes = out.proposal_response_payload + out.endorsement.endorser;
  ML_ASSIGN_OR_RETURN(out.endorsement.signature, peer_.Sign(signed_bytes));
  out.response = std::move(resp);
  out.proposal = std::move(parts);
  return out;
}

}  // namespace medledger::ledger::embedded
