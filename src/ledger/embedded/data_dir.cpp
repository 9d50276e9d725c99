#include "ledger/embedded/data_dir.h"

#include <filesystem>

#include "identity/organization.h"
#include "io/env.h"
#include "ledger/embedded/genesis.h"
#include "ledger/embedded/membership.h"
#include "ledger/embedded/verify_checkpoint.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/state_db.h"

namespace medledger::ledger::embedded {

std::string LedgerDirFor(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "ledger").string();
}

EmbeddedLedgerOptions OptionsForOrganization(const identity::Organization& org,
                                             std::shared_ptr<contract::Contract> contract) {
  EmbeddedLedgerOptions o;
  o.dir = LedgerDirFor(org.data_dir().string());
  o.msp_id = org.msp_id();
  o.ca_cert = org.ca_certificate();
  o.peer = std::make_shared<const identity::SigningIdentity>(org.peer());
  o.orderer = std::make_shared<const identity::SigningIdentity>(org.orderer());
  o.contract = std::move(contract);
  return o;
}

Status CreateLedgerFor(const identity::Organization& org) {
  EmbeddedLedgerOptions o;  // only for the channel name the ledger will use
  std::string dir = LedgerDirFor(org.data_dir().string());
  ML_RETURN_IF_ERROR(io::Env::Default()->CreateDirs(dir));
  ML_ASSIGN_OR_RETURN(auto blocks, storage::BlockStore::Open(dir + "/blocks", nullptr));
  ML_RETURN_IF_ERROR(
      WriteGenesisIfEmpty(*blocks, org.orderer(), o.channel_id, org.msp_id(), org.ca_certificate().ToDer()));
  // The state database exists too (empty: the genesis block writes no state; the first open records it).
  ML_ASSIGN_OR_RETURN(auto state, storage::StateDb::Open(dir + "/state"));
  (void)state;
  return OkStatus();
}

Result<VerifyReport> VerifyDataDir(const std::string& data_dir, const VerifyOptions& options) {
  ML_ASSIGN_OR_RETURN(auto org, identity::Organization::Open(data_dir));
  std::string dir = LedgerDirFor(data_dir);
  if (!std::filesystem::exists(dir)) {
    return MakeError(ErrorKind::kNotFound, "ledger_not_found", "no ledger in " + dir);
  }
  storage::BlockStoreOptions bo;
  bo.read_only = true;
  // Checksums are checked block by block as the verifier reads them, so damage is reported against the
  // block it hit rather than failing the open.
  bo.verify_tail_bytes = 0;
  auto blocks = storage::BlockStore::Open(dir + "/blocks", nullptr, bo);
  if (!blocks.ok()) {
    if (blocks.error().kind != ErrorKind::kCorruption) return blocks.error();
    VerifyReport report;
    report.problem = blocks.error().message;
    return report;
  }
  ML_ASSIGN_OR_RETURN(auto state, storage::StateDb::Open(dir + "/state"));
  Membership membership(org->msp_id(), org->ca_certificate(), org->peer().certificate(), org->orderer().certificate());
  const std::filesystem::path checkpoint = std::filesystem::path(dir) / kVerifyCheckpointFile;
  VerifyOptions run = options;
  if (options.use_checkpoint) {
    ML_ASSIGN_OR_RETURN(run.resume, ReadVerifyCheckpoint(checkpoint, org->peer().certificate()));
  }
  ML_ASSIGN_OR_RETURN(auto report, VerifyChain(**blocks, *state, membership, run));
  if (report.ok && options.write_checkpoint) {
    // The verification stands on its own (a read-only copy of the data can be verified too); only the next
    // run's shortcut is lost, and the caller says so.
    if (Status written = WriteVerifyCheckpoint(checkpoint, report.verified, org->peer()); !written.ok()) {
      report.checkpoint_error = written.error().message;
    }
  }
  report.torn_tail_bytes = (*blocks)->truncated_bytes();
  const uint64_t height = (*blocks)->Height();
  if (!report.ok && report.torn_tail_bytes != 0 && report.bad_block == height) {
    // A damaged last record looks like a crash's torn tail, but the state database applied it, so it
    // was complete and acknowledged once: it has been altered since.
    report.problem = "the stored record fails its checksum (" + std::to_string(report.torn_tail_bytes) +
                     " bytes at the end of the block files) although the state database applied it: altered after "
                     "commit";
  }
  return report;
}

}  // namespace medledger::ledger::embedded
