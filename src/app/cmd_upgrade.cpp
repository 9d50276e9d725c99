// `medledger upgrade --data D`: brings a data directory to the format versions this release writes
// (docs/OPERATIONS.md, "Upgrades: format versions"). The only command let past format_upgrade_required.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "identity/data_format.h"

namespace medledger::app {
namespace {

namespace fs = std::filesystem;

struct UpgradeOptions {
  std::string data_dir;
};

std::string Versions(const identity::DataFormat& f) {
  std::string out;
  for (const auto& [name, version] : f.formats) out += (out.empty() ? "" : ", ") + name + " " + std::to_string(version);
  return out;
}

void RunUpgrade(const UpgradeOptions& o) {
  const fs::path dir(o.data_dir);
  // org.json marks an initialised data directory (identity::Organization); anything else is not ours to stamp.
  if (!fs::is_regular_file(dir / "org.json")) {
    Fail(MakeError(ErrorKind::kNotFound, "org_not_found",
                   o.data_dir + " is not an initialised data directory (run `medledger init`)"));
  }
  auto check = OrFail(identity::CheckDataFormat(dir, identity::ThisReleaseSupport(), /*allow_upgradable=*/true));
  const identity::DataFormat target = identity::CurrentDataFormat();
  if (check.file_present && check.found.formats == target.formats) {
    std::cout << o.data_dir << " is already at the formats of " << identity::kReleaseName << " (" << Versions(target)
              << "); nothing to do\n";
    return;
  }
  // Every store this release reads is at version 1, the first versioned format, whose bytes are those of the
  // release before format versions: no store needs rewriting, so there is no migration step (and no long
  // work to show progress for) yet. A release that changes a store adds its step here, store by store, each
  // resumable, before the file below records the new version.
  for (const auto& [name, version] : check.found.formats) {
    if (version != target.formats.at(name)) {
      Fail(MakeError(ErrorKind::kInternal, "no_migration",
                     "no migration of store '" + name + "' from version " + std::to_string(version) + " in " +
                         identity::kReleaseName));
    }
  }
  std::cout << "Back up the data directory before an upgrade (medledger backup); stop the server first.\n";
  if (!check.file_present) {
    std::cout << o.data_dir << " has no FORMAT file: a data directory from before format versions, read as "
              << "version 1 of every store\n";
  }
  if (auto written = identity::WriteDataFormat(dir, target); !written.ok()) Fail(written.error());
  std::cout << "Wrote " << (dir / identity::kFormatFileName).string() << ": " << Versions(target)
            << " (no store needed migrating)\n";
}

}  // namespace

void AddUpgradeCommand(CLI::App& app) {
  auto opts = std::make_shared<UpgradeOptions>();
  auto* cmd = app.add_subcommand("upgrade", "Migrate a data directory to this release's format versions (FORMAT)");
  cmd->add_option("--data", opts->data_dir, "Data directory (stop the server and back it up first)")->required();
  cmd->callback([opts] { RunUpgrade(*opts); });
}

}  // namespace medledger::app
