// An Env for tests that wraps a real one and injects the failures a disk can produce: fsync errors,
// a full disk, torn writes, and a power loss that drops everything written since the last sync.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "io/env.h"

namespace medledger::io {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base = nullptr);  // null: Env::Default()
  // Files opened through this Env keep a pointer to it: it must outlive them.

  // Every file and directory Sync fails with an io_error while set.
  void SetSyncFailure(bool fail);
  // Every Append fails with no_space (ENOSPC) and writes nothing while set.
  void SetDiskFull(bool full);
  // Every Append fails with io_error (EIO) and writes nothing while set.
  void SetWriteFailure(bool fail);
  // Appends succeed for `bytes` more bytes in total; the Append that crosses the budget writes the part
  // that fits (a torn write) and fails with no_space, as do all later ones until ClearFaults().
  void FailAppendAfter(uint64_t bytes);
  void ClearFaults();

  // Simulates a power loss: each file written through this Env is cut back to its size at its last
  // successful Sync, renames whose directory was not synced since are undone (the replaced file comes
  // back with its old content), and files created since their directory was last synced disappear.
  Status DropUnsyncedData();

  uint64_t sync_count() const;

  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Result<bool> FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) override;
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> CreateExclusive(const std::string& path, unsigned mode) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, LockWait wait) override;

 private:
  friend class FaultWritableFile;
  struct FileState {
    uint64_t size = 0;
    uint64_t synced_size = 0;
  };

  // How many bytes of an `n`-byte append may be written, and whether the append must then fail.
  struct AppendPlan {
    uint64_t allowed = 0;
    bool fail = false;
    bool io_error = false;  // EIO rather than ENOSPC
  };
  struct PendingRename {
    std::string from;
    std::string to;
    std::optional<std::string> replaced;  // what `to` held before, if it existed
  };
  AppendPlan PlanAppend(uint64_t n);
  void RecordAppend(const std::string& path, uint64_t n);
  Status CheckSync();
  void RecordSync(const std::string& path);

  Env* base_;
  mutable std::mutex mu_;
  bool fail_sync_ = false;
  bool disk_full_ = false;
  bool fail_write_ = false;
  bool budget_set_ = false;
  uint64_t append_budget_ = 0;
  uint64_t sync_count_ = 0;
  std::map<std::string, FileState> files_;
  std::set<std::string> unsynced_names_;        // created files whose directory has not been synced since
  std::vector<PendingRename> pending_renames_;  // in order; undone last-first by a power loss
};

}  // namespace medledger::io
