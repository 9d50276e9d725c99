// Small-file persistence for the identity store: atomic replace (temp + fsync + rename + dir fsync),
// exclusive creation, bounded reads, and an inter-process lock so the CLI and a running server can both
// enroll users without losing each other's writes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::identity {

// Replaces `path` with `data` so that after a crash it holds either the old or the new content, never a mix.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);
// Creates `path` with O_EXCL (fails with "already_exists" if present), writes, fsyncs file and directory.
Status CreateFileExclusive(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);
// Reads a whole file; "not_found" when absent, "too_large" beyond max_size.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_size = 16 * 1024 * 1024);
// mkdir with `mode`; succeeds if it already exists as a directory.
Status MakeDirectory(const std::filesystem::path& path, unsigned mode = 0700);
// Removes group and other permissions from an existing file or directory (no-op when there are none).
Status RestrictToOwner(const std::filesystem::path& path);
Status SyncDirectory(const std::filesystem::path& dir);

// An exclusive flock(2) on a lock file, released on destruction.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace medledger::identity
