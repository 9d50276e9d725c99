// Directories of the data directory are the owner's only: std::filesystem::create_directories makes them
// 0777 & ~umask (0755 under the usual umask 022), which lets every local user list and read what is inside.
#pragma once

#include <filesystem>

#include "common/result.h"

namespace medledger {

// Creates `dir` and any missing parents with mode 0700 (umask can only narrow it). Existing components keep
// their mode: a parent outside the data directory (/var/lib) is not ours to change. "io_error".
Status CreatePrivateDirectories(const std::filesystem::path& dir);

}  // namespace medledger
