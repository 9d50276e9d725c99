// `medledger erase`: crypto-shredding of one report. Its data keys (one per version) are destroyed, so the
// ciphertext wherever it lives (this store, an IPFS node, a backup) can never be decrypted again, while the
// ledger record, its history and its proof stay verifiable.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "app/report_keys.h"
#include "common/time.h"
#include "content/fs_util.h"
#include "identity/organization.h"

namespace medledger::app {
namespace {

struct EraseOptions {
  std::string data_dir;
  std::string report_id;
  std::string reason;
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

// Who erased what, when and why: the keystore forgets, this log remembers (no content, no patient data).
Status AppendErasureLog(const std::filesystem::path& data_dir, const EraseOptions& o, size_t keys) {
  nlohmann::json line = {
      {"at", Timestamp::Now().ToRfc3339()}, {"reportId", o.report_id}, {"keysDestroyed", keys}, {"reason", o.reason}};
  return content::AppendLineDurably(data_dir / "server" / "erasures.jsonl", line.dump());
}

void RunErase(const EraseOptions& o) {
  if (auto s = CheckReportId(o.report_id); !s.ok()) Fail(s.error());
  auto org = OrFail(identity::Organization::Open(o.data_dir));
  if (auto s = Confirm(o); !s.ok()) Fail(s.error());
  auto keystore = OrFail(OpenReportKeystore(o.data_dir, org->master_key()));
  size_t keys = OrFail(content::ShredReport(*keystore, o.report_id));
  if (auto s = AppendErasureLog(o.data_dir, o, keys); !s.ok()) {
    std::cerr << "medledger: warning: the report was erased but the erasure log could not be written: "
              << s.error().message << "\n";
  }
  std::cout << "Erased report " << o.report_id << ": " << keys << " data key" << (keys == 1 ? "" : "s")
            << " destroyed (every version). Its ledger record, history and proof remain verifiable; its content\n"
            << "can no longer be decrypted, here or from any copy of the ciphertext.\n";
}

}  // namespace

void AddEraseCommand(CLI::App& app) {
  auto o = std::make_shared<EraseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "erase", "Crypto-shred a report: destroy its data keys so its content is unreadable forever (all versions)");
  cmd->add_option("--data", o->data_dir, "The organisation's data directory")->required();
  cmd->add_option("--report", o->report_id, "The report id (as in the receipt)")->required();
  cmd->add_option("--reason", o->reason, "Why (kept in DATA/server/erasures.jsonl; no patient data, please)");
  cmd->add_flag("--yes", o->yes, "Do not ask for confirmation (for scripts)");
  cmd->footer(
      "The ledger keeps the report's record (CID, content hash, author, time) and its access events: erasure\n"
      "removes the ability to read the content, not the fact that it existed. Works while the server runs.");
  cmd->callback([o] { RunErase(*o); });
}

}  // namespace medledger::app
