// Small POSIX file helpers for the block store and the keystore: atomic replace (temp file, fsync, rename,
// fsync of the directory) and whole-file reads, with errors as values ("io_error").
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

// Writes `data` to a unique temp file in `tmp_dir`, optionally fdatasyncs it, and renames it over `path`.
// The directory of `path` is fsynced too when `sync` is set, so the new name survives a crash.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, const std::filesystem::path& tmp_dir,
                       unsigned mode, bool sync);
// Like WriteFileAtomic but leaves the directory fsync to the caller (batching many files per directory).
Status WriteFileAtomicNoDirSync(const std::filesystem::path& path, std::string_view data,
                                const std::filesystem::path& tmp_dir, unsigned mode, bool sync);
Status FsyncDir(const std::filesystem::path& dir);
// "not_found" (kNotFound) when absent.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);
Status MakeDirs(const std::filesystem::path& dir, unsigned mode);

}  // namespace medledger::content
