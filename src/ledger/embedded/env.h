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

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();  // the POSIX env; a process-wide immutable singleton

  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Result<bool> FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) = 0;
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& path) = 0;  // makes new file names durable
};

}  // namespace medledger::ledger::embedded
