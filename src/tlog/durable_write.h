// Crash-safe small-file writes for the transparency log's own files (tree meta, witness state, evidence):
// the same temp + fsync + rename + directory fsync as identity/durable_file.h, kept here because the log sits
// below the identity layer (it depends only on common and crypto).
#pragma once

#include <filesystem>
#include <string_view>

#include "common/result.h"

namespace medledger::tlog {

// After a crash `path` holds either its old content or `data`, never a mix. Mode 0600. "io_error".
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data);
Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace medledger::tlog
