#include "ledger/embedded/genesis.h"

#include "common/time.h"
#include "crypto/random.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/orderer.h"
#include "ledger/storage/block_store.h"
#include "ledger/wire/protoutil.h"
#include "pb/common/common.pb.h"
#include "pb/common/configtx.pb.h"
#include "pb/msp/msp_config.pb.h"

namespace medledger::ledger::embedded {
namespace {

constexpr char kApplicationGroup[] = "Application";
constexpr char kMspValue[] = "MSP";

Result<std::string> BuildConfigEnvelope(const identity::SigningIdentity& orderer, std::string_view channel_id,
                                        std::string_view msp_id, std::string_view ca_cert_der) {
  msp::FabricMSPConfig fabric_msp;
  fabric_msp.set_name(std::string(msp_id));
  fabric_msp.add_root_certs(std::string(ca_cert_der));
  msp::MSPConfig msp_config;
  msp_config.set_type(0);  // FABRIC
  msp_config.set_config(fabric_msp.SerializeAsString());

  common::ConfigEnvelope config_envelope;
  common::Config* config = config_envelope.mutable_config();
  config->set_sequence(0);
  common::ConfigGroup& application = (*config->mutable_channel_group()->mutable_groups())[kApplicationGroup];
  application.set_mod_policy("Admins");
  common::ConfigGroup& org = (*application.mutable_groups())[std::string(msp_id)];
  org.set_mod_policy("Admins");
  common::ConfigValue& msp_value = (*org.mutable_values())[kMspValue];
  msp_value.set_value(msp_config.SerializeAsString());
  msp_value.set_mod_policy("Admins");

  std::string nonce = crypto::RandomBytes(24);
  Timestamp now = Timestamp::Now();
  common::ChannelHeader ch;
  ch.set_type(common::CONFIG);
  ch.set_channel_id(std::string(channel_id));
  ch.set_tx_id(wire::ComputeTxId(nonce, orderer.serialized()));
  ch.mutable_timestamp()->set_seconds(now.seconds);
  ch.mutable_timestamp()->set_nanos(now.nanos);
  common::SignatureHeader sh;
  sh.set_creator(orderer.serialized());
  sh.set_nonce(nonce);
  common::Payload payload;
  payload.mutable_header()->set_channel_header(ch.SerializeAsString());
  payload.mutable_header()->set_signature_header(sh.SerializeAsString());
  payload.set_data(config_envelope.SerializeAsString());
  std::string payload_bytes = payload.SerializeAsString();
  ML_ASSIGN_OR_RETURN(auto signature, orderer.Sign(payload_bytes));
  common::Envelope envelope;
  envelope.set_payload(std::move(payload_bytes));
  envelope.set_signature(std::move(signature));
  return envelope.SerializeAsString();
}

}  // namespace

Result<std::string> BuildGenesisBlock(const identity::SigningIdentity& orderer, std::string_view channel_id,
                                      std::string_view msp_id, std::string_view ca_cert_der) {
  ML_ASSIGN_OR_RETURN(std::string envelope, BuildConfigEnvelope(orderer, channel_id, msp_id, ca_cert_der));
  OrderedBlock block;
  block.number = 0;
  block.data_hash = wire::BlockDataHash({envelope});
  block.header_hash = wire::BlockHeaderHash(0, "", block.data_hash);
  ML_ASSIGN_OR_RETURN(block.signatures_metadata, SignBlock(orderer, 0, "", block.data_hash));
  block.txs.push_back(PendingTx{std::move(envelope), false, false, nullptr});
  return EncodeBlock(block, std::string(1, static_cast<char>(wire::kTxValid)));
}

Status WriteGenesisIfEmpty(storage::BlockStore& blocks, const identity::SigningIdentity& orderer,
                           std::string_view channel_id, std::string_view msp_id, std::string_view ca_cert_der) {
  if (blocks.Height() != 0) return OkStatus();
  ML_ASSIGN_OR_RETURN(std::string block, BuildGenesisBlock(orderer, channel_id, msp_id, ca_cert_der));
  return blocks.Append(0, block);
}

bool IsConfigEnvelope(std::string_view envelope) {
  common::Envelope env;
  common::Payload payload;
  common::ChannelHeader ch;
  return env.ParseFromArray(envelope.data(), static_cast<int>(envelope.size())) &&
         payload.ParseFromString(env.payload()) && ch.ParseFromString(payload.header().channel_header()) &&
         ch.type() == common::CONFIG;
}

std::string CheckConfigEnvelope(std::string_view envelope, std::string_view channel_id, const Membership& membership) {
  common::Envelope env;
  common::Payload payload;
  common::ChannelHeader ch;
  common::SignatureHeader sh;
  if (!env.ParseFromArray(envelope.data(), static_cast<int>(envelope.size())) ||
      !payload.ParseFromString(env.payload()) || !payload.has_header() ||
      !ch.ParseFromString(payload.header().channel_header()) ||
      !sh.ParseFromString(payload.header().signature_header())) {
    return "malformed config envelope";
  }
  if (ch.type() != common::CONFIG) return "not a CONFIG transaction";
  if (ch.channel_id() != channel_id) return "config transaction of channel '" + ch.channel_id() + "'";
  if (ch.tx_id() != wire::ComputeTxId(sh.nonce(), sh.creator()))
    return "config transaction ID does not match its header";
  auto creator = membership.Resolve(sh.creator());
  if (!creator.ok()) return "config transaction by an unknown identity: " + creator.error().message;
  if (!(*creator)->is_orderer) return "config transaction not created by the orderer";
  if (!(*creator)->public_key.Verify(env.payload(), env.signature()))
    return "config transaction signature does not verify";
  common::ConfigEnvelope config;
  if (!config.ParseFromString(payload.data()) || !config.has_config()) return "malformed ConfigEnvelope";
  if (config.config().sequence() != 0) return "genesis config sequence is not 0";
  const auto& groups = config.config().channel_group().groups();
  auto app = groups.find(kApplicationGroup);
  if (app == groups.end() || app->second.groups().find(membership.msp_id()) == app->second.groups().end()) {
    return "genesis config does not name the organisation " + membership.msp_id();
  }
  return "";
}

}  // namespace medledger::ledger::embedded
