// `medledger backup` and `medledger restore` (docs/OPERATIONS.md, "Backup" and "Restore"): the work is in
// src/backup; this file parses flags, shows progress, rebuilds the state database of a restored directory by
// opening its ledger once, and runs `medledger verify` on it.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "app/erasure_journal.h"
#include "app/progress.h"
#include "backup/backup.h"
#include "backup/key_file.h"
#include "backup/manifest.h"
#include "backup/restore.h"
#include "common/encoding.h"
#include "contract/records_contract.h"
#include "identity/data_format.h"
#include "identity/organization.h"
#include "ledger/embedded/block_codec.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "ledger/wire/protoutil.h"

extern char** environ;

namespace medledger::app {
namespace {

struct BackupCliOptions {
  std::string data_dir;
  std::string out_dir;
  std::string key_file;
  bool full = false;
};

struct RestoreCliOptions {
  std::string from;
  std::string key_file;
  std::string data_dir;
  std::optional<uint64_t> number;
  std::string erasure_journal;
};

std::string Bytes(uint64_t n) {
  char buf[64];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else if (n < (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024.0);
  } else if (n < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024.0 * 1024.0));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1024.0 * 1024.0 * 1024.0));
  }
  return buf;
}

// The header hash the ledger reports as a block's hash, so the manifest's figure can be compared with
// `medledger ledger info` and with the restored chain.
Result<std::string> BlockHash(std::string_view block_bytes) {
  ML_ASSIGN_OR_RETURN(auto block, ledger::embedded::DecodeBlock(block_bytes));
  return HexEncode(ledger::wire::BlockHeaderHash(block.number, block.previous_hash, block.data_hash));
}

std::string Short(const std::string& hash) {
  return hash.empty() ? "-" : hash.substr(0, 16) + "…";
}

// Made on the first bytes, so a refusal before any work prints no progress line.
std::function<void(uint64_t, uint64_t)> ProgressOnFirstBytes(std::optional<Progress>& progress, std::string label) {
  return [&progress, label = std::move(label)](uint64_t done, uint64_t total) {
    if (!progress) progress.emplace(label, total, "bytes", std::cerr);
    progress->SetTotal(total);
    progress->Update(done);
  };
}

void RunBackupCommand(const BackupCliOptions& o) {
  // A layout this release does not know is not copied blind; one awaiting `medledger upgrade` is (a backup
  // before an upgrade is exactly what an operator should take).
  if (auto f = identity::CheckDataFormat(o.data_dir, identity::ThisReleaseSupport(), /*allow_upgradable=*/true);
      !f.ok()) {
    Fail(f.error());
  }
  backup::BackupOptions bo;
  bo.data_dir = o.data_dir;
  bo.out_dir = o.out_dir;
  bo.secret = OrFail(backup::LoadBackupSecret(o.key_file));
  bo.force_full = o.full;
  bo.block_hash = BlockHash;
  std::optional<Progress> progress;
  bo.progress = ProgressOnFirstBytes(progress, "backup");
  auto s = OrFail(backup::RunBackup(bo));
  if (progress) progress->Finish();
  for (uint64_t n : s.incomplete) {
    std::cerr << "note: " << backup::BackupDirName(n)
              << " has no manifest (an interrupted backup): restore refuses it; it may be deleted\n";
  }
  std::cout << backup::BackupDirName(s.number) << " (id " << s.backup_id
            << "): " << (s.parent ? "incremental on " + backup::BackupDirName(*s.parent) : std::string("full")) << "\n"
            << "  ledger height " << s.height << ", last block " << Short(s.last_block_hash) << "\n"
            << "  " << s.files << " files (" << Bytes(s.bytes_total) << "), " << s.files_copied << " copied ("
            << Bytes(s.bytes_copied) << "), " << Bytes(s.bytes_stored) << " written to " << s.dir.string() << "\n";
}

// Opening the ledger replays the restored blocks into a new state database; the chain it reports must be the
// one the manifest recorded.
Status RebuildState(const std::string& data_dir, const backup::RestoreSummary& s) {
  ML_ASSIGN_OR_RETURN(auto org, identity::Organization::Open(data_dir));
  auto options = ledger::embedded::OptionsForOrganization(*org, contract::NewRecordsContract());
  options.chaincode = std::string(contract::kRecordsNamespace);
  options.genesis_block = true;
  ML_ASSIGN_OR_RETURN(auto ledger, ledger::embedded::EmbeddedLedger::Open(std::move(options)));
  ML_ASSIGN_OR_RETURN(auto info, ledger->GetChainInfo());
  if (info.height != s.height || (!s.last_block_hash.empty() && info.current_hash != s.last_block_hash)) {
    return MakeError(ErrorKind::kCorruption, "restore_chain_mismatch",
                     "the restored ledger has height " + std::to_string(info.height) + " and last hash " +
                         info.current_hash + "; the manifest recorded " + std::to_string(s.height) + " and " +
                         s.last_block_hash);
  }
  return OkStatus();
}

// The very check `medledger verify` makes (whatever it grows to), by running it: its report goes to the
// operator as it is.
int RunVerifyOn(const std::string& data_dir) {
  std::vector<std::string> args = {"medledger", "verify", "--data", data_dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Erasures made after the backup was taken are not on its ledger (embedded mode): the operator's exported
// journal brings them back before anyone can read the restored directory.
void ReapplyErasures(const RestoreCliOptions& o) {
  std::cout << "re-applying the erasure journal " << o.erasure_journal << "\n";
  ReplayCounts c;
  if (auto st = ReplayErasureJournal(o.data_dir, o.erasure_journal, {}, &c); !st.ok()) Fail(st.error());
  std::cout << "  " << c.lines << " journal lines: " << c.recorded << " erased again on the restored ledger, "
            << c.already_erased << " already erased in the backup, " << c.not_on_ledger
            << " not on the restored ledger, " << c.keys_destroyed << " data keys destroyed\n";
}

void RunRestoreCommand(const RestoreCliOptions& o) {
  // Checked before the restore, so a mistyped journal path does not leave a restored, unerased directory.
  if (!o.erasure_journal.empty() && !std::filesystem::is_regular_file(o.erasure_journal)) {
    Fail(MakeError(ErrorKind::kInvalidArgument, "journal_not_found", "no erasure journal at " + o.erasure_journal));
  }
  backup::RestoreOptions ro;
  ro.from = o.from;
  ro.data_dir = o.data_dir;
  ro.number = o.number;
  ro.secret = OrFail(backup::LoadBackupSecret(o.key_file));
  std::optional<Progress> progress;
  ro.progress = ProgressOnFirstBytes(progress, "restore");
  auto s = OrFail(backup::RunRestore(ro));
  if (progress) progress->Finish();
  std::cout << "restored " << backup::BackupDirName(s.number) << " (id " << s.backup_id << ", taken " << s.created
            << "): "
            << (s.chain.size() == 1 ? std::string("full")
                                    : "incremental, chain of " + std::to_string(s.chain.size()) + " backups")
            << "\n  into " << o.data_dir << ": " << s.files << " files, " << Bytes(s.bytes) << ", ledger height "
            << s.height << ", last block " << Short(s.last_block_hash) << "\n";
  std::cout << "rebuilding the state database by replaying " << s.height << " blocks\n";
  if (auto st = RebuildState(o.data_dir, s); !st.ok()) Fail(st.error());
  if (!o.erasure_journal.empty()) ReapplyErasures(o);
  std::cout << "running medledger verify --data " << o.data_dir << "\n";
  int rc = RunVerifyOn(o.data_dir);
  if (rc != 0) {
    Fail(MakeError(ErrorKind::kCorruption, "restore_verify_failed",
                   "medledger verify failed on the restored directory (exit " + std::to_string(rc) + ")"));
  }
}

}  // namespace

void AddBackupCommands(CLI::App& app) {
  auto b = std::make_shared<BackupCliOptions>();
  auto* backup_cmd = app.add_subcommand(
      "backup", "Encrypted, consistent backup of a data directory while the server runs (incremental by default)");
  backup_cmd->add_option("--data", b->data_dir, "Data directory")->required();
  backup_cmd->add_option("--out", b->out_dir, "Backup directory (backup-NNNNNN/ per backup)")->required();
  backup_cmd->add_option("--key-file", b->key_file, "Backup secret: base64 of 32 bytes, mode 0600")->required();
  backup_cmd->add_flag("--full", b->full, "Copy everything, not only what is new since the last backup");
  backup_cmd->callback([b] { RunBackupCommand(*b); });

  auto r = std::make_shared<RestoreCliOptions>();
  auto* restore_cmd = app.add_subcommand(
      "restore", "Rebuild a data directory from backups (every byte authenticated), then replay and verify it");
  restore_cmd->add_option("--from", r->from, "Backup directory (the --out of medledger backup)")->required();
  restore_cmd->add_option("--key-file", r->key_file, "Backup secret the backups were written with")->required();
  restore_cmd->add_option("--data", r->data_dir, "New data directory (absent or empty)")->required();
  restore_cmd->add_option("--backup", r->number, "Backup number N of backup-NNNNNN (default: the newest)");
  restore_cmd->add_option("--erasure-journal", r->erasure_journal,
                          "An exported erasure journal (server/erasures.jsonl) to re-apply after the restore");
  restore_cmd->callback([r] { RunRestoreCommand(*r); });
}

}  // namespace medledger::app
