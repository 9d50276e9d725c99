#include "ledger/wire/transaction.h"

#include "crypto/hash.h"
#include "ledger/wire/protoutil.h"
#include "pb/common/common.pb.h"
#include "pb/common/policies.pb.h"
#include "pb/ledger/rwset/kvrwset/kv_rwset.pb.h"
#include "pb/ledger/rwset/rwset.pb.h"
#include "pb/msp/msp_principal.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/transaction.pb.h"

namespace medledger::ledger::wire {
namespace {

template <class M>
bool ParseBytes(M* m, std::string_view bytes) {
  return m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

std::optional<Version> ToVersion(const kvrwset::KVRead& r) {
  if (!r.has_version()) return std::nullopt;
  return Version{r.version().block_num(), static_cast<uint32_t>(r.version().tx_num())};
}

}  // namespace

ProposalParts BuildProposal(std::string_view creator, std::string_view nonce, Timestamp timestamp,
                            std::string_view channel_id, std::string_view ns, const std::vector<std::string>& args) {
  ProposalParts p;
  p.tx_id = ComputeTxId(nonce, creator);
  p.timestamp = timestamp;

  protos::ChaincodeHeaderExtension ext;
  ext.mutable_chaincode_id()->set_name(std::string(ns));
  common::ChannelHeader ch;
  ch.set_type(common::ENDORSER_TRANSACTION);
  ch.mutable_timestamp()->set_seconds(timestamp.seconds);
  ch.mutable_timestamp()->set_nanos(timestamp.nanos);
  ch.set_channel_id(std::string(channel_id));
  ch.set_tx_id(p.tx_id);
  ch.set_extension(ext.SerializeAsString());
  p.channel_header = ch.SerializeAsString();

  common::SignatureHeader sh;
  sh.set_creator(std::string(creator));
  sh.set_nonce(std::string(nonce));
  p.signature_header = sh.SerializeAsString();

  protos::ChaincodeInvocationSpec cis;
  auto* spec = cis.mutable_chaincode_spec();
  spec->set_type(protos::ChaincodeSpec::GOLANG);
  spec->mutable_chaincode_id()->set_name(std::string(ns));
  for (const auto& a : args) spec->mutable_input()->add_args(a);
  protos::ChaincodeProposalPayload ccpp;
  ccpp.set_input(cis.SerializeAsString());
  p.payload = ccpp.SerializeAsString();

  common::Header header;
  header.set_channel_header(p.channel_header);
  header.set_signature_header(p.signature_header);
  protos::Proposal proposal;
  proposal.set_header(header.SerializeAsString());
  proposal.set_payload(p.payload);
  p.proposal = proposal.SerializeAsString();
  return p;
}

std::string SerializeSignedProposal(std::string_view proposal, std::string_view signature) {
  protos::SignedProposal sp;
  sp.set_proposal_bytes(std::string(proposal));
  sp.set_signature(std::string(signature));
  return sp.SerializeAsString();
}

std::string ProposalHash(std::string_view channel_header, std::string_view signature_header,
                         std::string_view proposal_payload) {
  crypto::Sha256Hasher h;
  h.Update(channel_header);
  h.Update(signature_header);
  h.Update(proposal_payload);
  return h.Finish();
}

std::string BuildEnvelopePayload(const ProposalParts& proposal, std::string_view proposal_response_payload,
                                 std::string_view endorser, std::string_view endorsement_signature) {
  protos::ChaincodeActionPayload cap;
  cap.set_chaincode_proposal_payload(proposal.payload);
  auto* action = cap.mutable_action();
  action->set_proposal_response_payload(std::string(proposal_response_payload));
  auto* e = action->add_endorsements();
  e->set_endorser(std::string(endorser));
  e->set_signature(std::string(endorsement_signature));

  protos::Transaction tx;
  auto* ta = tx.add_actions();
  ta->set_header(proposal.signature_header);
  ta->set_payload(cap.SerializeAsString());

  common::Payload payload;
  payload.mutable_header()->set_channel_header(proposal.channel_header);
  payload.mutable_header()->set_signature_header(proposal.signature_header);
  payload.set_data(tx.SerializeAsString());
  return payload.SerializeAsString();
}

std::string SerializeEnvelope(std::string_view payload, std::string_view signature) {
  common::Envelope env;
  env.set_payload(std::string(payload));
  env.set_signature(std::string(signature));
  return env.SerializeAsString();
}

int32_t ParseEndorserTransaction(std::string_view envelope, std::string_view channel_id, std::string_view ns,
                                 ParsedTx* out) {
  common::Envelope env;
  if (envelope.empty() || !ParseBytes(&env, envelope)) return kTxNilEnvelope;
  common::Payload payload;
  if (!ParseBytes(&payload, env.payload()) || !payload.has_header()) return kTxBadPayload;
  common::ChannelHeader ch;
  if (!ParseBytes(&ch, payload.header().channel_header())) return kTxBadChannelHeader;
  common::SignatureHeader sh;
  if (!ParseBytes(&sh, payload.header().signature_header())) return kTxBadCommonHeader;
  out->tx_id = ch.tx_id();
  out->timestamp = Timestamp{ch.timestamp().seconds(), ch.timestamp().nanos()};
  out->creator = sh.creator();
  out->nonce = sh.nonce();
  out->payload = env.payload();
  out->signature = env.signature();
  if (ch.type() != common::ENDORSER_TRANSACTION) return kTxUnknownTxType;
  if (ch.channel_id() != channel_id) return kTxTargetChainNotFound;
  if (sh.creator().empty() || sh.nonce().empty()) return kTxBadCommonHeader;
  if (ComputeTxId(sh.nonce(), sh.creator()) != ch.tx_id()) return kTxBadProposalTxId;
  protos::ChaincodeHeaderExtension ext;
  if (!ParseBytes(&ext, ch.extension())) return kTxBadHeaderExtension;

  protos::Transaction tx;
  if (!ParseBytes(&tx, payload.data())) return kTxBadPayload;
  if (tx.actions_size() == 0) return kTxNilTxAction;
  if (tx.actions_size() != 1) return kTxInvalidEndorserTransaction;
  const auto& ta = tx.actions(0);
  if (ta.header() != payload.header().signature_header()) return kTxInvalidEndorserTransaction;
  protos::ChaincodeActionPayload cap;
  if (!ParseBytes(&cap, ta.payload()) || !cap.has_action()) return kTxBadPayload;
  out->expected_proposal_hash = ProposalHash(payload.header().channel_header(), payload.header().signature_header(),
                                             cap.chaincode_proposal_payload());
  out->proposal_response_payload = cap.action().proposal_response_payload();
  for (const auto& e : cap.action().endorsements()) out->endorsements.push_back({e.endorser(), e.signature()});

  protos::ProposalResponsePayload prp;
  if (!ParseBytes(&prp, cap.action().proposal_response_payload())) return kTxBadResponsePayload;
  out->proposal_hash = prp.proposal_hash();
  protos::ChaincodeAction action;
  if (!ParseBytes(&action, prp.extension())) return kTxBadResponsePayload;
  out->chaincode = action.chaincode_id().name();
  out->response_status = action.response().status();
  out->response_message = action.response().message();
  out->response_payload = action.response().payload();
  if (out->chaincode != ns || ext.chaincode_id().name() != ns) return kTxInvalidChaincode;
  if (out->response_status >= 400) return kTxInvalidEndorserTransaction;

  rwset::TxReadWriteSet rw;
  if (!ParseBytes(&rw, action.results())) return kTxBadRwset;
  for (const auto& nsrw : rw.ns_rwset()) {
    if (nsrw.namespace_() != ns) return kTxIllegalWriteset;
    kvrwset::KVRWSet kv;
    if (!ParseBytes(&kv, nsrw.rwset())) return kTxBadRwset;
    out->rwset_ns = nsrw.namespace_();
    for (const auto& r : kv.reads()) out->reads.push_back({r.key(), ToVersion(r)});
    for (const auto& q : kv.range_queries_info()) {
      RangeRead rr{q.start_key(), q.end_key(), q.itr_exhausted(), {}};
      if (q.has_raw_reads()) {
        for (const auto& r : q.raw_reads().kv_reads()) {
          auto v = ToVersion(r);
          if (!v) return kTxBadRwset;  // a range only returns existing keys
          rr.keys.emplace_back(r.key(), *v);
        }
      } else {
        return kTxBadRwset;  // merkle summaries are never produced here
      }
      out->ranges.push_back(std::move(rr));
    }
    for (const auto& w : kv.writes()) {
      if (w.key().empty() || w.key().size() > kMaxKeySize) return kTxBadRwset;
      out->writes.push_back(
          KeyWrite{nsrw.namespace_(), w.key(), w.is_delete() ? std::nullopt : std::optional<std::string>(w.value())});
    }
    for (const auto& m : kv.metadata_writes()) {
      if (m.key().empty() || m.key().size() > kMaxKeySize) return kTxBadRwset;
      ParsedTx::PolicyWrite pw{m.key(), {}};
      for (const auto& entry : m.entries()) {
        // Key-level endorsement is the only state metadata the contract writes.
        if (entry.name() != "VALIDATION_PARAMETER") return kTxBadRwset;
        common::SignaturePolicyEnvelope policy;
        if (!ParseBytes(&policy, entry.value()) || !policy.has_rule() || policy.identities().empty()) {
          return kTxBadRwset;
        }
        for (const auto& principal : policy.identities()) {
          msp::MSPRole role;
          if (principal.principal_classification() != msp::MSPPrincipal::ROLE ||
              !ParseBytes(&role, principal.principal())) {
            return kTxBadRwset;
          }
          pw.principal_msps.push_back(role.msp_identifier());
        }
      }
      out->policy_writes.push_back(std::move(pw));
    }
  }
  return kTxValid;
}

}  // namespace medledger::ledger::wire
