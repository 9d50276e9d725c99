// The channel's genesis block. A Fabric channel starts with a configuration block (configtxgen's genesis
// block): block 0 holds one CONFIG transaction, a common.ConfigEnvelope, and every later block chains to it.
// The embedded ledger starts the same way, so a new organisation's chain exists (and verifies) from `init`:
// block 0 = one envelope of type CONFIG, created and signed by the orderer, whose Config (sequence 0) names the
// channel's application organisation (MSP ID and root CA in msp.FabricMSPConfig); the block is signed by the
// orderer like any other and its one transaction is marked VALID. It writes no state.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/signing_identity.h"
#include "ledger/embedded/membership.h"

namespace medledger::ledger::storage {
class BlockStore;
}  // namespace medledger::ledger::storage

namespace medledger::ledger::embedded {

// The encoded block 0 for `channel_id`, its config naming `msp_id` with root CA `ca_cert_der`.
Result<std::string> BuildGenesisBlock(const identity::SigningIdentity& orderer, std::string_view channel_id,
                                      std::string_view msp_id, std::string_view ca_cert_der);

// Appends the genesis block (fsynced) when `blocks` holds none; a chain that has blocks is left alone
// (ledgers created before genesis blocks start with a transaction block, which stays valid).
Status WriteGenesisIfEmpty(storage::BlockStore& blocks, const identity::SigningIdentity& orderer,
                           std::string_view channel_id, std::string_view msp_id, std::string_view ca_cert_der);

// True when `envelope`'s channel header says CONFIG.
bool IsConfigEnvelope(std::string_view envelope);

// "" when `envelope` is a CONFIG transaction of `channel_id` (transaction ID = hash of nonce and creator),
// created and signed by the orderer of `membership`, whose config names `membership`'s MSP; otherwise why not.
std::string CheckConfigEnvelope(std::string_view envelope, std::string_view channel_id, const Membership& membership);

}  // namespace medledger::ledger::embedded
