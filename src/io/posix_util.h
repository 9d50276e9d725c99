// POSIX helpers with no io::Env equivalent yet: directory modes, descriptor-level reads and writes at offsets
// (the content block store's packs), and syncfs. Code that uses them bypasses the fault-injecting Env.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace medledger::io {

// mkdir with `mode`; succeeds if it already exists as a directory ("not_a_directory" otherwise).
Status MakeDirectory(const std::filesystem::path& path, unsigned mode = 0700);
// Removes group and other permissions from an existing file or directory (no-op when there are none).
Status RestrictToOwner(const std::filesystem::path& path);

// pread(2) until `n` bytes are read or the file ends, retrying short reads and EINTR: the count read (less
// than `n` only at the end of the file), or -1 with errno set.
ssize_t PreadFull(int fd, char* buf, size_t n, uint64_t offset);
// pwrite(2) until all `n` bytes are written, retrying short writes and EINTR: 0, or the errno of the write
// that failed (EIO for one that wrote nothing).
int PwriteFull(int fd, const char* buf, size_t n, uint64_t offset);
// An open file's bytes: as many as fstat reports, fewer if it shrank meanwhile (`file` names it in errors).
// Replaces *out, reusing its capacity. "io_error".
Status ReadFdInto(int fd, const std::filesystem::path& file, std::string* out);
// syncfs(2) on the filesystem holding `path`: every write before it, to any file there, is durable after
// it. One call serves many unsynced writes (a durability barrier); concurrent calls share the journal commit.
Status SyncFilesystem(const std::filesystem::path& path);

}  // namespace medledger::io
