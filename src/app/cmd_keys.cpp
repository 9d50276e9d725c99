// `medledger keys rotate`: replaces the key-encryption key of the report keystore. Every report's data key is
// re-wrapped under a new KEK and the old KEKs are destroyed, so a copy of the key log taken before (a backup,
// a worn SSD page) can no longer unwrap anything, erased records included. Content is not touched. The
// keystore's owner does it: with the server running the command refuses, and the server must be stopped.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "app/report_keys.h"
#include "identity/organization.h"

namespace medledger::app {
namespace {

struct KeysOptions {
  std::string data_dir;
};

void RunRotate(const KeysOptions& o) {
  auto org = OrFail(identity::Organization::Open(o.data_dir));
  auto keystore = OrFail(OpenReportKeystore(o.data_dir, org->master_key()));
  if (!keystore->owner()) {
    Fail(MakeError(ErrorKind::kUnavailable, "keystore_busy",
                   "the server (or another command) holds the report keystore; stop it, then rotate"));
  }
  const std::string before = keystore->current_kek_id();
  std::cerr << "Re-wrapping every report's data key under a new key-encryption key...\n";
  if (Status s = keystore->RotateKek(); !s.ok()) Fail(s.error());
  std::cout << "Rotated the report keystore's key-encryption key: " << before << " -> " << keystore->current_kek_id()
            << ".\nEvery data key is wrapped by the new key; the old one is destroyed, so older copies of the key log\n"
            << "(backups included) can no longer unwrap anything. Take a new backup (docs/OPERATIONS.md).\n";
}

}  // namespace

void AddKeysCommands(CLI::App& app) {
  CLI::App* keys = app.add_subcommand("keys", "The report keystore's keys");
  keys->require_subcommand(1);
  auto o = std::make_shared<KeysOptions>();
  CLI::App* rotate = keys->add_subcommand(
      "rotate", "Replace the key-encryption key: re-wrap every report's data key, destroy the old key");
  rotate->add_option("--data", o->data_dir, "The organisation's data directory")->required();
  rotate->footer(
      "Needs the server stopped (it owns the keystore). A crash midway leaves the keystore readable: the new key is\n"
      "recorded before any data key is re-wrapped, and the old ones are destroyed only after the new log is durable.");
  rotate->callback([o] { RunRotate(*o); });
}

}  // namespace medledger::app
