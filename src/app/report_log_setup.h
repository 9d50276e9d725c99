// What `serve` needs to run the report log: the log's signing key (sealed under the master key in DATA/log),
// the witnesses it accepts, and the trust bundle it publishes (docs/RECEIPTS.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "identity/organization.h"
#include "tlog/note.h"

namespace medledger::app {

// DATA/log/log-key.sealed; created on first use for `origin`. "log_origin_changed" when the stored key was
// made for another origin (a log's name is part of every checkpoint it ever signed).
Result<tlog::NoteSigner> LoadOrCreateLogKey(const std::filesystem::path& data_dir,
                                            const identity::MasterKey& master_key, const std::string& origin);

// Witness verifier keys (type 0x04), one vkey string each. "invalid_witness_key".
Result<std::vector<tlog::NoteVerifier>> ParseWitnessKeys(const std::vector<std::string>& vkeys);

struct TrustBundle {
  std::vector<std::string> org_roots_pem;
  std::string log_vkey;
  std::vector<std::string> witness_vkeys;
  std::vector<std::string> tsa_roots_pem;
  int min_witnesses = 0;
};
// {"format":"medledger-trust/1", "orgRoots", "logVkey", "witnessVkeys", "tsaRoots", "minWitnesses"}.
std::string TrustBundleJson(const TrustBundle& bundle);

}  // namespace medledger::app
