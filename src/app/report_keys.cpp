#include "app/report_keys.h"

#include <system_error>

namespace medledger::app {

std::filesystem::path ReportKeystoreDir(const std::filesystem::path& data_dir) {
  return data_dir / "server" / "keystore";
}

Result<std::unique_ptr<content::FileKeystore>> OpenReportKeystore(const std::filesystem::path& data_dir,
                                                                  const identity::MasterKey& master_key,
                                                                  bool sync_stores, io::Env* env) {
  std::error_code ec;
  const auto legacy = data_dir / "server" / "keys";
  if (std::filesystem::exists(legacy, ec) && !std::filesystem::is_empty(legacy, ec)) {
    return MakeError(ErrorKind::kInvalidArgument, "legacy_report_keys",
                     "this data directory holds reports sealed by a pre-release format (" + legacy.string() +
                         "); create a new data directory (for the demo: delete it and run `serve --demo` again)");
  }
  // A purpose-bound key, so the keystore's seal is unrelated to any other use of the master key.
  ML_ASSIGN_OR_RETURN(auto sealing, master_key.Derive("medledger report keystore v1", "keystore"));
  return content::FileKeystore::Open(ReportKeystoreDir(data_dir), sealing, sync_stores, env);
}

}  // namespace medledger::app
