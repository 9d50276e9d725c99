// The embedded ledger inside a `medledger init` data directory: blocks and state under DATA/ledger, the
// organisation's peer as endorser and its orderer as block signer.
#pragma once

#include <memory>
#include <string>

#include "ledger/embedded/embedded_ledger.h"
#include "ledger/embedded/verifier.h"

namespace medledger::identity {
class Organization;
}

namespace medledger::ledger::embedded {

std::string LedgerDirFor(const std::string& data_dir);  // DATA/ledger

// Options for the organisation's ledger running `contract` (batching and threads at their defaults). Programs
// also set genesis_block, so a chain never starts without its configuration block.
EmbeddedLedgerOptions OptionsForOrganization(const identity::Organization& org,
                                             std::shared_ptr<contract::Contract> contract);

// Creates the organisation's ledger (DATA/ledger: block files and state database) with its genesis block, as
// `medledger init` does; an existing ledger is left as it is.
Status CreateLedgerFor(const identity::Organization& org);

// Verifies the ledger of a data directory that no running process holds open: blocks are opened
// read-only (a torn tail is reported, never truncated) with every checksum checked.
Result<VerifyReport> VerifyDataDir(const std::string& data_dir, const VerifyOptions& options);

}  // namespace medledger::ledger::embedded
