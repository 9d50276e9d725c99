// The one seam between medledger's stores and the operating system, as LevelDB's Env: production uses the
// POSIX implementation; tests inject torn writes, fsync failures, full disks and power losses (fault_env.h).
// Every store that persists files reaches the disk through an Env, so one fault-injecting Env exercises all.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::io {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // fdatasync: data is durable when this returns OK
  virtual Status Close() = 0;
};

// A file opened once and read by many threads at once (pread); returned bytes are a copy.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Up to `length` bytes at `offset`: fewer only when the file ends first.
  virtual Result<std::string> Read(uint64_t offset, uint64_t length) const = 0;
};

// Held while a process owns a file or directory; released when destroyed (or when the process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class LockWait {
  kFail,   // another holder: kConflict "locked" at once
  kBlock,  // another holder: wait until it lets go
};

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();  // the POSIX env; a process-wide immutable singleton

  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;  // names, sorted
  virtual Result<bool> FileExists(const std::string& path) = 0;
  // kNotFound "file_not_found" when absent.
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Up to `length` bytes at `offset`: fewer only when the file ends first.
  virtual Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) = 0;
  // Creates the file if absent and appends at its current end. The caller syncs the directory after
  // creating a file so that its name survives a power loss.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  // Cuts the file to `size` bytes and fsyncs it, so the cut survives a crash.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& path) = 0;  // makes new file names durable

  // Keeps the file open for repeated reads; the default re-opens the path through ReadRange on each read.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path);
  virtual Status RemoveFile(const std::string& path);  // the default reports "not supported"
  // Creates a new empty file with exactly `mode` (whatever the umask), never following a symlink:
  // kAlreadyExists "already_exists" when the name is taken. The default reports "not supported".
  virtual Result<std::unique_ptr<WritableFile>> CreateExclusive(const std::string& path, unsigned mode);
  // rename(2): atomically replaces `to`. Durable once the directory is synced. Default: "not supported".
  virtual Status RenameFile(const std::string& from, const std::string& to);
  // An exclusive advisory lock on `path` (created 0600 if absent). With kFail, kConflict "locked" when
  // another holder has it. Locks belong to the open file (flock), so two locks of one path conflict even
  // within one process. The default reports "not supported".
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, LockWait wait = LockWait::kFail);
  // syncfs(2) on the filesystem holding `path`: every file's data and every new name there is durable when
  // this returns OK. One barrier for many files written unsynced. The default reports "not supported".
  virtual Status SyncFilesystem(const std::string& path);
};

struct WriteOptions {
  unsigned mode = 0600;
  bool sync = true;      // fsync the file before the rename
  bool sync_dir = true;  // fsync the directory after it (false: the caller batches that)
};

// Replaces `path` with `bytes` so that after a crash it holds either the old or the new content, never a
// mix: a uniquely named temporary sibling "<path>.tmp-<hex>" (concurrent writers never share one), written,
// synced, renamed over `path`, then the directory synced. The temporary is removed on failure. "io_error",
// or "no_space" when the disk is full.
Status WriteFileAtomic(Env& env, const std::string& path, std::string_view bytes, const WriteOptions& options = {});
// Creates `path` holding `bytes` (kAlreadyExists "already_exists" when present), syncs it and its directory.
Status CreateFileExclusive(Env& env, const std::string& path, std::string_view bytes, unsigned mode = 0600);
// The whole file: kNotFound "not_found" when absent, kTooLarge "too_large" beyond `max_size`, "io_error".
Result<std::string> ReadFile(Env& env, const std::string& path, uint64_t max_size = uint64_t{1} << 32);
// Removes `path` and syncs its directory; absent is fine.
Status RemoveFileDurably(Env& env, const std::string& path);
// Appends `line` and a newline to `path` (created 0600 if absent) and syncs it (and the directory when it
// created the file): an append-only log.
Status AppendLineDurably(Env& env, const std::string& path, std::string_view line);
// The directory holding `path` ("." for a bare name).
std::string ParentDir(const std::string& path);

}  // namespace medledger::io
