// libFuzzer: the Fabric block and transaction parsers that `medledger verify`, recovery and the committing
// validator run on stored blocks: DecodeBlock, the orderer signature check, the validator's stateless checks
// of every envelope (payload, headers, creator, transaction, chaincode action, endorsements, read-write
// set) and its stateful checks against an empty state. The input is a serialized common.Block (seeds: real
// blocks cut by the embedded ledger with the fixed organisation, fuzz/seedgen.cpp), mutated structurally.
//
// A mutated envelope fails its signature check long before the deeper parsers, so for blocks with an odd
// header number the harness re-signs what the mutation changed, as an insider with the keys could: each
// endorsement with the peer's key, each envelope with alice's. Nothing may crash; every verdict is a code.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "envelope_resign.h"
#include "fabric_org.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/validator.h"
#include "pb/common/common.pb.h"
#include "pb/ledger/rwset/kvrwset/kv_rwset.pb.h"
#include "pb/ledger/rwset/rwset.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/proposal.pb.h"
#include "pb/peer/proposal_response.pb.h"
#include "pb/peer/transaction.pb.h"
#include "proto_mutator.h"
#include "reportlog/block_leaves.h"

namespace {

using namespace medledger::ledger;            // NOLINT(google-build-using-namespace)
using namespace medledger::ledger::embedded;  // NOLINT(google-build-using-namespace)

class EmptyState final : public StateView {
 public:
  medledger::Result<std::optional<wire::Version>> GetVersion(std::string_view, std::string_view) const override {
    return std::optional<wire::Version>();
  }
  medledger::Result<std::vector<std::pair<std::string, wire::Version>>> RangeVersions(std::string_view,
                                                                                      std::string_view,
                                                                                      std::string_view,
                                                                                      uint32_t) const override {
    return std::vector<std::pair<std::string, wire::Version>>();
  }
  medledger::Result<bool> HasTx(std::string_view) const override { return false; }
};

const medledger::fuzz::FabricOrg& Org() {
  static const medledger::fuzz::FabricOrg org;
  return org;
}

const medledger::fuzz::ProtoMutator& Mutator() {
  static const medledger::fuzz::ProtoMutator m(
      common::Block::default_instance(),
      {{"common.BlockData.data", &common::Envelope::default_instance()},
       {"common.BlockMetadata.metadata", &common::Metadata::default_instance()},
       {"common.MetadataSignature.signature_header", &common::SignatureHeader::default_instance()},
       {"common.Envelope.payload", &common::Payload::default_instance()},
       {"common.Payload.data", &protos::Transaction::default_instance()},
       {"common.Header.channel_header", &common::ChannelHeader::default_instance()},
       {"common.Header.signature_header", &common::SignatureHeader::default_instance()},
       {"common.SignatureHeader.creator", &msp::SerializedIdentity::default_instance()},
       {"protos.TransactionAction.header", &common::SignatureHeader::default_instance()},
       {"protos.TransactionAction.payload", &protos::ChaincodeActionPayload::default_instance()},
       {"protos.ChaincodeActionPayload.chaincode_proposal_payload",
        &protos::ChaincodeProposalPayload::default_instance()},
       {"protos.ChaincodeEndorsedAction.proposal_response_payload",
        &protos::ProposalResponsePayload::default_instance()},
       {"protos.ProposalResponsePayload.extension", &protos::ChaincodeAction::default_instance()},
       {"protos.ChaincodeAction.results", &rwset::TxReadWriteSet::default_instance()},
       {"rwset.NsReadWriteSet.rwset", &kvrwset::KVRWSet::default_instance()},
       {"protos.Endorsement.endorser", &msp::SerializedIdentity::default_instance()}});
  return m;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return Mutator().Mutate(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Validator validator(Org().membership, "medledger", "records");
  std::string input(reinterpret_cast<const char*>(data), size);
  common::Block pb;
  if (pb.ParseFromString(input) && pb.header().number() % 2 == 1) {
    for (auto& env : *pb.mutable_data()->mutable_data()) {
      env = medledger::fuzz::ResignEnvelope(env, Org().peer_key, Org().alice_key);
    }
    input = pb.SerializeAsString();
  }
  // The report log's follower reads the same blocks in place (reportlog/wire.h): it must answer, never crash,
  // and agree with protobuf on the block number when both accept the block.
  auto events = medledger::reportlog::EventsFromBlock(input, "records");
  if (events.ok() && pb.ParseFromString(input) && pb.header().number() != events->number) std::abort();
  auto block = DecodeBlock(input);
  if (!block.ok()) return 0;
  (void)CheckBlockSignature(*block, Org().membership);
  if (block->envelopes.size() > 64) return 0;  // the ordering service cuts far smaller blocks
  std::vector<std::string_view> envelopes(block->envelopes.begin(), block->envelopes.end());
  auto txs = validator.CheckBlockStateless(envelopes, {}, nullptr);
  if (txs.size() != envelopes.size()) std::abort();
  EmptyState state;
  if (!validator.CheckBlockState(txs, state).ok()) std::abort();
  (void)Validator::MakeUpdate(block->number, txs);
  return 0;
}
