// The refusals of backup and restore (docs/OPERATIONS.md, "Restore"). Each is kInvalidArgument so the CLI
// exits 2 for every refusal, as the runbook promises; scripts branch on the code.
#pragma once

#include <string>

#include "common/result.h"

namespace medledger::backup {

inline Error KeyWrong(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "backup_key_wrong",
                   what + " does not authenticate with this backup key (wrong key file, or the manifest is damaged)");
}
inline Error Incomplete(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "backup_incomplete", what);
}
// `file` is the path inside the backup (or the data directory) that failed, so the operator knows what broke.
inline Error Corrupted(const std::string& file, const std::string& why) {
  return MakeError(ErrorKind::kInvalidArgument, "backup_corrupted", file + ": " + why);
}
inline Error ChainBroken(const std::string& why) {
  return MakeError(ErrorKind::kInvalidArgument, "backup_chain_broken", why);
}
inline Error KeyFileInvalid(const std::string& why) {
  return MakeError(ErrorKind::kInvalidArgument, "key_file_invalid", why);
}
Error IoError(const std::string& what, const std::string& path, int err);

}  // namespace medledger::backup
