// `medledger`: one binary for every role of the product (init, users, ledger, content, server).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  // Everything this program creates is private (data directory, blocks, RocksDB state, packs, keys, exported
  // MSP folders). Each creation point asks for 0600/0700 itself; this umask covers the files a library creates
  // with its own mode (RocksDB: 0644) and any creation point that forgets. The data directory's 0700 (set by
  // `init`, re-narrowed on every open) guards the same files for a process with another umask.
  ::umask(077);
  CLI::App app{"medledger: secure medical records on a permissioned ledger with IPFS-compatible storage"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "medledger 0.1.0");
  medledger::app::AddIdentityCommands(app);
  medledger::app::AddFabricCommands(app);
  medledger::app::AddContentCommands(app);
  medledger::app::AddLedgerCommands(app);
  medledger::app::AddServeCommand(app);
  medledger::app::AddEraseCommand(app);
  medledger::app::AddKeysCommands(app);
  medledger::app::AddWitnessCommand(app);
  medledger::app::AddReceiptCommands(app);
  medledger::app::AddBackupCommands(app);
  medledger::app::AddUpgradeCommand(app);

  // Commands report their errors as values; anything thrown past them (out of memory, a library's
  // exception) still gets one clear line and the conventional exit code for an internal error.
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "medledger: internal error: " << e.what() << "\n";
    return 70;  // EX_SOFTWARE
  }
  return 0;
}
