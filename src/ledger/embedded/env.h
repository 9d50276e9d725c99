// The seam between the ledger's storage and the operating system, as LevelDB's Env: production uses
// the POSIX implementation; tests inject torn writes, fsync failures and full disks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::ledger::embedded {

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

// Held while a process owns a directory; released when destroyed (or when the process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();  // the POSIX env; a process-wide immutable singleton

  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;  // names, sorted
  virtual Result<bool> FileExists(const std::string& path) = 0;
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
  // An exclusive advisory lock on `path` (created if absent): kConflict "locked" when another holder
  // has it. The default reports "not supported".
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path);
};

}  // namespace medledger::ledger::embedded
