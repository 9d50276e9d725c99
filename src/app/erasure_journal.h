// Erasure from the command line: the embedded ledger opened for one command, the organisation's administrator
// who signs, and the replay of an exported erasure journal onto a data directory restored from an older backup
// (docs/OPERATIONS.md, "After a restore from a backup older than an erasure").
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/organization.h"
#include "ledger/embedded/embedded_ledger.h"

namespace medledger::app {

// `preferred` when it is an enabled administrator of the organisation; with `preferred` empty, the first
// enabled administrator by username, else the first administrator. "not_an_administrator" / "no_administrator".
Result<std::string> OrganizationAdministrator(const identity::Organization& org, std::string_view preferred);

// The data directory's embedded ledger for one command, as `medledger ledger submit` opens it. A running
// server holds it: "server_running", naming the API and the web app as the way to go while it runs.
Result<std::unique_ptr<ledger::embedded::EmbeddedLedger>> OpenLedgerForCommand(const identity::Organization& org);

struct ReplayCounts {
  size_t lines = 0;
  size_t recorded = 0;        // erased anew on this ledger (EraseReport submitted, keys destroyed)
  size_t already_erased = 0;  // on this ledger already; any key still present was destroyed
  size_t not_on_ledger = 0;   // this ledger never had the report (made after the backup): keys destroyed only
  size_t without_code = 0;    // journal lines of the release before erasure on the ledger: keys destroyed only
  size_t keys_destroyed = 0;
};

struct ReplayOptions {
  std::string admin;  // the administrator who signs; empty: OrganizationAdministrator's choice
};

// Re-applies every line of `journal` (an exported DATA/server/erasures.jsonl) to `data_dir`, whose server must
// be stopped. The whole journal is parsed before anything changes ("journal_corrupt" names the bad line).
// Lines recorded anew are appended to the data directory's own journal, note included.
Status ReplayErasureJournal(const std::filesystem::path& data_dir, const std::filesystem::path& journal,
                            const ReplayOptions& options = {}, ReplayCounts* counts = nullptr);

}  // namespace medledger::app
