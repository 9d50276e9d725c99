// Each subcommand of `medledger` registers itself here; main.cpp calls every Add*Command.
#pragma once

#include <CLI/CLI.hpp>

namespace medledger::app {

// Owned by the module that implements each command (one cmd_*.cpp per group).
// Add the declaration here and one call in main.cpp when a command group lands.

void AddIdentityCommands(CLI::App& app);  // init, user add|list (cmd_identity.cpp)
void AddFabricCommands(CLI::App& app);    // fabric package (cmd_fabric.cpp)
void AddContentCommands(CLI::App& app);   // cid (cmd_content.cpp)
void AddLedgerCommands(CLI::App& app);    // verify, ledger submit|query|info|proof (cmd_ledger.cpp)
void AddServeCommand(CLI::App& app);      // serve (cmd_serve.cpp)
void AddEraseCommand(CLI::App& app);      // erase (cmd_erase.cpp)
void AddWitnessCommand(CLI::App& app);    // witness, witness keygen (cmd_witness.cpp)
void AddReceiptCommands(CLI::App& app);   // receipt verify, log export-trust (cmd_receipt.cpp)
void AddBackupCommands(CLI::App& app);    // backup, restore (cmd_backup.cpp)
void AddUpgradeCommand(CLI::App& app);    // upgrade (cmd_upgrade.cpp)
void AddKeysCommands(CLI::App& app);      // keys rotate (cmd_keys.cpp)

}  // namespace medledger::app
