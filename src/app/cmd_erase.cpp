// `medledger erase`: erasure of one report with the server stopped, the same steps as the API's
// (service/erasure.h): the contract records it on the ledger with the organisation administrator's identity,
// then the report's data keys (one per version) are destroyed, so its ciphertext wherever it lives (this
// store, an IPFS node, a backup) can never be decrypted again, then the erasure journal gets its line.
// `--replay-journal` re-applies an exported journal to a data directory restored from an older backup.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "app/erasure_journal.h"
#include "app/report_keys.h"
#include "identity/organization.h"
#include "service/erasure.h"

namespace medledger::app {
namespace {

struct EraseOptions {
  std::string data_dir;
  std::string report_id;
  std::string reason;
  std::string note;
  std::string admin;
  std::string replay_journal;
  bool yes = false;
};

Status CheckReportId(const std::string& id) {
  if (id.empty() || id.size() > 128) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_report_id", "a report id is 1 to 128 characters");
  }
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    if (!ok) return MakeError(ErrorKind::kInvalidArgument, "invalid_report_id", "a report id is [A-Za-z0-9_-]");
  }
  return OkStatus();
}

// Irreversible, so a person at a terminal types the id again; scripts pass --yes.
Status Confirm(const EraseOptions& o) {
  if (o.yes) return OkStatus();
  if (::isatty(STDIN_FILENO) == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "confirmation_required",
                     "erasure cannot be undone; pass --yes when not running at a terminal");
  }
  std::cerr << "Erasing report " << o.report_id
            << " destroys the keys of all its versions: nobody will ever read its content again.\n"
            << "Type the report id to confirm: " << std::flush;
  std::string typed;
  std::getline(std::cin, typed);
  if (typed != o.report_id) return MakeError(ErrorKind::kInvalidArgument, "not_confirmed", "nothing was erased");
  return OkStatus();
}

void RunReplay(const EraseOptions& o) {
  ReplayCounts counts;
  if (auto s = ReplayErasureJournal(o.data_dir, o.replay_journal, {o.admin}, &counts); !s.ok()) Fail(s.error());
  std::cout << "Replayed " << counts.lines << " erasure journal line" << (counts.lines == 1 ? "" : "s") << ": "
            << counts.recorded << " erased and recorded on the ledger, " << counts.already_erased << " already erased, "
            << counts.not_on_ledger << " not on this ledger, " << counts.without_code
            << " without a reason code (keys only); " << counts.keys_destroyed << " data key"
            << (counts.keys_destroyed == 1 ? "" : "s") << " destroyed.\n";
}

void RunErase(const EraseOptions& o) {
  if (!o.replay_journal.empty()) {
    if (!o.report_id.empty() || !o.reason.empty() || !o.note.empty()) {
      Fail(MakeError(ErrorKind::kInvalidArgument, "bad_arguments",
                     "--replay-journal takes the reports and reasons from the journal: no --report, --reason, --note"));
    }
    return RunReplay(o);
  }
  if (o.report_id.empty() || o.reason.empty()) {
    Fail(MakeError(ErrorKind::kInvalidArgument, "bad_arguments", "--report and --reason are required"));
  }
  if (auto s = CheckReportId(o.report_id); !s.ok()) Fail(s.error());
  const service::ErasureRequest request{o.report_id, o.reason, o.note};
  if (auto s = service::CheckErasureRequest(request); !s.ok()) Fail(s.error());
  auto org = OrFail(identity::Organization::Open(o.data_dir));
  const std::string admin_name = OrFail(OrganizationAdministrator(*org, o.admin));
  auto admin = OrFail(org->LoadIdentity(admin_name));
  // Before the confirmation: a person should not confirm an erasure that cannot run now.
  auto ledger = OrFail(OpenLedgerForCommand(*org));
  if (auto s = Confirm(o); !s.ok()) Fail(s.error());
  auto keystore = OrFail(OpenReportKeystore(o.data_dir, org->master_key()));
  auto erased =
      OrFail(service::EraseReportSteps(*ledger, admin, *keystore, service::ErasureJournalPath(o.data_dir), request));
  const size_t keys = erased.keys_destroyed;
  std::cout << "Erased report " << o.report_id << " (" << o.reason << "), recorded on the ledger by " << admin_name
            << " in transaction " << erased.tx_id << ", block " << erased.block_number << "; " << keys << " data key"
            << (keys == 1 ? "" : "s") << " destroyed (every version).\n"
            << "Its ledger record, history and proof remain verifiable; its content can no longer be decrypted,\n"
            << "here or from any copy of the ciphertext. Keep a copy of "
            << service::ErasureJournalPath(o.data_dir).string()
            << " outside the data directory (docs/OPERATIONS.md).\n";
}

}  // namespace

void AddEraseCommand(CLI::App& app) {
  auto o = std::make_shared<EraseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "erase", "Erase a report: record the erasure on the ledger, then destroy its data keys (all versions)");
  cmd->add_option("--data", o->data_dir, "The organisation's data directory")->required();
  cmd->add_option("--report", o->report_id, "The report id (as in the receipt)");
  cmd->add_option("--reason", o->reason,
                  "patient_request, legal_order, retention_expired or entered_in_error (recorded on the ledger)");
  cmd->add_option("--note", o->note,
                  "Free text, at most 1000 characters, kept only in DATA/server/erasures.jsonl (never on the ledger)");
  cmd->add_option("--as", o->admin, "The administrator who signs (default: the organisation's first administrator)");
  cmd->add_option("--replay-journal", o->replay_journal,
                  "Re-apply every line of an exported erasures.jsonl to this data directory (after restoring an "
                  "older backup); reports already erased on its ledger are skipped");
  cmd->add_flag("--yes", o->yes, "Do not ask for confirmation (for scripts)");
  cmd->footer(
      "The ledger keeps the report's record (CID, content hash, author, time), its access events and now its\n"
      "erasure (reason code, administrator, time): erasure removes the ability to read the content, not the fact\n"
      "that it existed. Needs the server stopped (it holds the ledger); while it runs, erase through the API or\n"
      "the web app (POST /api/v1/reports/{id}/erasure).");
  cmd->callback([o] { RunErase(*o); });
}

}  // namespace medledger::app
