#include "ledger/embedded/block_codec.h"

#include "ledger/embedded/orderer.h"
#include "ledger/wire/protoutil.h"
#include "pb/common/common.pb.h"

namespace medledger::ledger::embedded {

std::string EncodeBlock(OrderedBlock& block, std::string filter) {
  common::Block b;
  auto* h = b.mutable_header();
  h->set_number(block.number);
  h->set_previous_hash(block.previous_hash);
  h->set_data_hash(block.data_hash);
  auto* data = b.mutable_data();
  for (auto& tx : block.txs) data->add_data(std::move(tx.envelope));
  auto* md = b.mutable_metadata();
  for (int i = 0; i <= common::COMMIT_HASH; ++i) md->add_metadata();
  md->set_metadata(common::SIGNATURES, block.signatures_metadata);
  md->set_metadata(common::TRANSACTIONS_FILTER, std::move(filter));
  return b.SerializeAsString();
}

Result<DecodedBlock> DecodeBlock(std::string_view bytes) {
  common::Block b;
  if (!b.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !b.has_header() || !b.has_data() ||
      !b.has_metadata()) {
    return MakeError(ErrorKind::kCorruption, "block_malformed", "stored bytes are not a common.Block");
  }
  DecodedBlock out;
  out.number = b.header().number();
  out.previous_hash = b.header().previous_hash();
  out.data_hash = b.header().data_hash();
  out.header = b.header().SerializeAsString();
  out.envelopes.assign(b.data().data().begin(), b.data().data().end());
  const auto& md = b.metadata().metadata();
  if (md.size() > common::SIGNATURES) out.signatures_metadata = md.Get(common::SIGNATURES);
  if (md.size() > common::TRANSACTIONS_FILTER) out.filter = md.Get(common::TRANSACTIONS_FILTER);
  return out;
}

std::string CheckBlockSignature(const DecodedBlock& block, const Membership& membership) {
  common::Metadata md;
  if (!md.ParseFromString(block.signatures_metadata) || md.signatures_size() == 0) return "block is not signed";
  std::string header_asn1 = wire::BlockHeaderAsn1(block.number, block.previous_hash, block.data_hash);
  for (const auto& sig : md.signatures()) {
    common::SignatureHeader sh;
    if (!sh.ParseFromString(sig.signature_header())) return "malformed orderer signature header";
    auto signer = membership.Resolve(sh.creator());
    if (!signer.ok()) return "block signed by an unknown identity: " + signer.error().message;
    if (!(*signer)->is_orderer) return "block signed by an identity that is not the orderer";
    if (!(*signer)->public_key.Verify(md.value() + sig.signature_header() + header_asn1, sig.signature())) {
      return "orderer signature does not verify";
    }
  }
  return "";
}

}  // namespace medledger::ledger::embedded
