// Where the organisation keeps report data keys: one FileKeystore under DATA/server/keystore, sealed by a
// key derived from the master key. `serve` seals and opens reports with it; `erase` shreds them.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.h"
#include "content/keystore.h"
#include "identity/master_key.h"

namespace medledger::app {

std::filesystem::path ReportKeystoreDir(const std::filesystem::path& data_dir);

// Refuses ("legacy_report_keys") a data dir written by the pre-release sealer (DATA/server/keys), whose
// reports this keystore cannot open: better a clear stop than reports that fail one by one.
// `sync_stores` false: new keys are flushed by the server's durability barrier (see FileKeystore::Open).
Result<std::unique_ptr<content::FileKeystore>> OpenReportKeystore(const std::filesystem::path& data_dir,
                                                                  const identity::MasterKey& master_key,
                                                                  bool sync_stores = true, io::Env* env = nullptr);

}  // namespace medledger::app
