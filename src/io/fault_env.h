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

// The faults a test can arm at one I/O step (ArmFault).
enum class Fault {
  kNoSpace,     // the append fails with no_space and writes nothing (ENOSPC)
  kWriteError,  // the append fails with io_error and writes nothing (EIO on write)
  kTornWrite,   // the append writes half its bytes, then fails with no_space (a short write)
  kSyncError,   // the file, directory or filesystem sync fails with io_error (EIO on fsync)
  kCrash,       // the power goes: this and every later mutation fail; DropUnsyncedData() then shows the disk
};
const char* FaultName(Fault fault);

// The I/O steps an Env has seen since the last ResetSteps(), by the class a fault is armed on.
struct StepCounts {
  uint64_t appends = 0;    // WritableFile::Append
  uint64_t syncs = 0;      // WritableFile::Sync, SyncDir, SyncFilesystem
  uint64_t mutations = 0;  // the above plus creations, renames, truncations and removals
};

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
  // Clears every fault, the armed one included.
  void ClearFaults();

  // Step counting, for enumerating an operation's fault points: count a run with no fault armed, then arm
  // each step in turn. Steps are numbered from 1 after ResetSteps().
  StepCounts steps() const;
  void ResetSteps();
  // Fails the `n`th step of the fault's class (appends for kNoSpace, kWriteError, kTornWrite; syncs for
  // kSyncError; mutations for kCrash) and every later one of that class until ClearFaults(): a full disk stays
  // full, a failing device keeps failing, and after a power cut nothing more reaches the disk.
  void ArmFault(Fault fault, uint64_t n);
  bool fault_fired() const;  // whether the armed fault has failed a step yet
  // While on, each step is also recorded as "<what> <path>" (cleared by ResetSteps), to say where they are.
  void LogSteps(bool on);
  std::vector<std::string> step_log() const;

  // Simulates a power loss: each file written through this Env is cut back to its size at its last
  // successful Sync, renames whose directory was not synced since are undone (the replaced file comes
  // back with its old content), and files created since their directory was last synced disappear.
  Status DropUnsyncedData();

  uint64_t sync_count() const;

  Status SyncFilesystem(const std::string& path) override;

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
  enum class StepClass { kAppend, kSync, kOther };
  // Counts one mutating step; the armed fault that fails it, if any.
  std::optional<Fault> TakeStep(StepClass step, const char* what, const std::string& path);
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
  StepCounts steps_;
  std::optional<Fault> armed_;
  uint64_t armed_at_ = 0;
  bool fired_ = false;
  bool log_steps_ = false;
  std::vector<std::string> step_log_;
  std::map<std::string, FileState> files_;
  std::set<std::string> unsynced_names_;        // created files whose directory has not been synced since
  std::vector<PendingRename> pending_renames_;  // in order; undone last-first by a power loss
};

}  // namespace medledger::io
