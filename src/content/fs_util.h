// Small POSIX file helpers for the content module: durable atomic writes and whole-file reads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

// Writes `bytes` to a temporary sibling, fsyncs it (when `sync`), renames it over `file` and fsyncs the
// directory (unless `sync_dir` is false: the caller batches it). Mode 0600 when `private_file`. "io_error".
Status WriteFileAtomic(const std::filesystem::path& file, std::string_view bytes, bool sync = true,
                       bool private_file = false, bool sync_dir = true);
// "not_found" when absent, "io_error" otherwise.
Result<std::string> ReadFileBytes(const std::filesystem::path& file);
Status ReadFileInto(const std::filesystem::path& file, std::string* out);  // replaces *out, reusing its capacity
Status SyncDirectory(const std::filesystem::path& dir);
// Removes `file` and fsyncs its directory; absent is fine.
Status RemoveFileDurably(const std::filesystem::path& file);
// syncfs(2) on the filesystem holding `path`: every write before it, to any file there, is durable after
// it. One call serves many unsynced writes (a durability barrier); concurrent calls share the journal commit.
Status SyncFilesystem(const std::filesystem::path& path);
// Appends `line` and a newline to `file` (created 0600 if absent) and fdatasyncs it: an append-only log.
Status AppendLineDurably(const std::filesystem::path& file, std::string_view line);

}  // namespace medledger::content
