// Small POSIX file helpers for the content module: durable atomic writes and whole-file reads.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

// Writes `bytes` to a temporary sibling, fsyncs it (when `sync`), renames it over `file` and fsyncs the
// directory (unless `sync_dir` is false: the caller batches it). Mode 0600 unless `private_file` is false
// (0644); every file of the data directory is private, so callers leave the default. "io_error".
Status WriteFileAtomic(const std::filesystem::path& file, std::string_view bytes, bool sync = true,
                       bool private_file = true, bool sync_dir = true);
// "not_found" when absent, "io_error" otherwise.
Result<std::string> ReadFileBytes(const std::filesystem::path& file);
Status ReadFileInto(const std::filesystem::path& file, std::string* out);  // replaces *out, reusing its capacity
// The same for an open file: as many bytes as fstat reports, fewer if it shrank meanwhile (`file` names it in
// errors).
Status ReadFdInto(int fd, const std::filesystem::path& file, std::string* out);
// pread(2) until `n` bytes are read or the file ends, retrying short reads and EINTR: the count read (less
// than `n` only at the end of the file), or -1 with errno set.
ssize_t PreadFull(int fd, char* buf, size_t n, uint64_t offset);
// pwrite(2) until all `n` bytes are written, retrying short writes and EINTR: 0, or the errno of the write
// that failed (EIO for one that wrote nothing).
int PwriteFull(int fd, const char* buf, size_t n, uint64_t offset);
Status SyncDirectory(const std::filesystem::path& dir);
// Removes `file` and fsyncs its directory; absent is fine.
Status RemoveFileDurably(const std::filesystem::path& file);
// syncfs(2) on the filesystem holding `path`: every write before it, to any file there, is durable after
// it. One call serves many unsynced writes (a durability barrier); concurrent calls share the journal commit.
Status SyncFilesystem(const std::filesystem::path& path);
// Appends `line` and a newline to `file` (created 0600 if absent) and fdatasyncs it: an append-only log.
Status AppendLineDurably(const std::filesystem::path& file, std::string_view line);

}  // namespace medledger::content
