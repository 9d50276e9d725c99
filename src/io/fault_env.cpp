#include "io/fault_env.h"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace medledger::io {
namespace {

std::string Normalize(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string ParentOf(const std::string& normalized) {
  return std::filesystem::path(normalized).parent_path().string();
}

Error Injected(Fault fault, const std::string& what, const std::string& path) {
  switch (fault) {
    case Fault::kNoSpace:
    case Fault::kTornWrite:
      return MakeError(ErrorKind::kNoSpace, "no_space", what + " " + path + ": injected: no space left on device");
    case Fault::kWriteError:
    case Fault::kSyncError:
      return MakeError(ErrorKind::kIoError, "io_error", what + " " + path + ": injected: input/output error");
    case Fault::kCrash: break;
  }
  return MakeError(ErrorKind::kIoError, "io_error", what + " " + path + ": injected: the power went");
}

}  // namespace

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNoSpace: return "ENOSPC";
    case Fault::kWriteError: return "EIO write";
    case Fault::kTornWrite: return "torn write";
    case Fault::kSyncError: return "EIO fsync";
    case Fault::kCrash: return "crash";
  }
  return "?";
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (auto fault = env_->TakeStep(FaultInjectionEnv::StepClass::kAppend, "append", path_)) {
      if (*fault == Fault::kTornWrite && data.size() > 1) {
        const std::string_view part = data.substr(0, data.size() / 2);
        ML_RETURN_IF_ERROR(base_->Append(part));
        env_->RecordAppend(path_, part.size());
      }
      return Injected(*fault, "write", path_);
    }
    const FaultInjectionEnv::AppendPlan plan = env_->PlanAppend(data.size());
    if (plan.allowed > 0) {
      ML_RETURN_IF_ERROR(base_->Append(data.substr(0, plan.allowed)));
      env_->RecordAppend(path_, plan.allowed);
    }
    if (plan.fail && plan.io_error) {
      return MakeError(ErrorKind::kIoError, "io_error", "write " + path_ + ": injected: input/output error");
    }
    if (plan.fail) {
      return MakeError(ErrorKind::kNoSpace, "no_space", "write " + path_ + ": injected: no space left on device");
    }
    return OkStatus();
  }

  Status Sync() override {
    if (auto fault = env_->TakeStep(FaultInjectionEnv::StepClass::kSync, "sync", path_))
      return Injected(*fault, "sync", path_);
    ML_RETURN_IF_ERROR(env_->CheckSync());
    ML_RETURN_IF_ERROR(base_->Sync());
    env_->RecordSync(path_);
    return OkStatus();
  }

  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base != nullptr ? base : Env::Default()) {}

void FaultInjectionEnv::SetSyncFailure(bool fail) {
  std::lock_guard lock(mu_);
  fail_sync_ = fail;
}

void FaultInjectionEnv::SetDiskFull(bool full) {
  std::lock_guard lock(mu_);
  disk_full_ = full;
}

void FaultInjectionEnv::SetWriteFailure(bool fail) {
  std::lock_guard lock(mu_);
  fail_write_ = fail;
}

void FaultInjectionEnv::FailAppendAfter(uint64_t bytes) {
  std::lock_guard lock(mu_);
  budget_set_ = true;
  append_budget_ = bytes;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard lock(mu_);
  fail_sync_ = disk_full_ = fail_write_ = budget_set_ = false;
  append_budget_ = 0;
  armed_.reset();
}

StepCounts FaultInjectionEnv::steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

void FaultInjectionEnv::ResetSteps() {
  std::lock_guard lock(mu_);
  steps_ = StepCounts{};
  step_log_.clear();
}

void FaultInjectionEnv::LogSteps(bool on) {
  std::lock_guard lock(mu_);
  log_steps_ = on;
}

std::vector<std::string> FaultInjectionEnv::step_log() const {
  std::lock_guard lock(mu_);
  return step_log_;
}

void FaultInjectionEnv::ArmFault(Fault fault, uint64_t n) {
  std::lock_guard lock(mu_);
  armed_ = fault;
  armed_at_ = n;
  fired_ = false;
}

bool FaultInjectionEnv::fault_fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

std::optional<Fault> FaultInjectionEnv::TakeStep(StepClass step, const char* what, const std::string& path) {
  std::lock_guard lock(mu_);
  if (log_steps_) step_log_.push_back(std::string(what) + " " + path);
  ++steps_.mutations;
  if (step == StepClass::kAppend) ++steps_.appends;
  if (step == StepClass::kSync) ++steps_.syncs;
  if (!armed_.has_value()) return std::nullopt;
  const Fault f = *armed_;
  uint64_t reached = 0;
  if (f == Fault::kCrash) {
    reached = steps_.mutations;
  } else if (f == Fault::kSyncError) {
    if (step != StepClass::kSync) return std::nullopt;
    reached = steps_.syncs;
  } else {
    if (step != StepClass::kAppend) return std::nullopt;
    reached = steps_.appends;
  }
  if (reached < armed_at_) return std::nullopt;
  fired_ = true;
  // Only the armed step is torn; the disk is full for every append after it.
  if (f == Fault::kTornWrite && reached > armed_at_) return Fault::kNoSpace;
  return f;
}

uint64_t FaultInjectionEnv::sync_count() const {
  std::lock_guard lock(mu_);
  return sync_count_;
}

FaultInjectionEnv::AppendPlan FaultInjectionEnv::PlanAppend(uint64_t n) {
  std::lock_guard lock(mu_);
  if (fail_write_) return {0, true, true};
  if (disk_full_) return {0, true, false};
  if (!budget_set_) return {n, false};
  const uint64_t allowed = std::min(n, append_budget_);
  append_budget_ -= allowed;
  return {allowed, allowed < n, false};
}

void FaultInjectionEnv::RecordAppend(const std::string& path, uint64_t n) {
  std::lock_guard lock(mu_);
  files_[Normalize(path)].size += n;
}

Status FaultInjectionEnv::CheckSync() {
  std::lock_guard lock(mu_);
  if (fail_sync_) return MakeError(ErrorKind::kIoError, "io_error", "sync: injected: input/output error");
  return OkStatus();
}

void FaultInjectionEnv::RecordSync(const std::string& path) {
  std::lock_guard lock(mu_);
  FileState& f = files_[Normalize(path)];
  f.synced_size = f.size;
  ++sync_count_;
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::map<std::string, FileState> files;
  std::set<std::string> unsynced;
  std::vector<PendingRename> renames;
  {
    std::lock_guard lock(mu_);
    files = std::move(files_);
    unsynced = std::move(unsynced_names_);
    renames = std::move(pending_renames_);
    files_.clear();
    unsynced_names_.clear();
    pending_renames_.clear();
  }
  for (const auto& [path, state] : files) {
    if (unsynced.count(path) != 0) continue;
    ML_ASSIGN_OR_RETURN(bool exists, base_->FileExists(path));
    if (!exists) continue;
    ML_ASSIGN_OR_RETURN(uint64_t size, base_->FileSize(path));
    if (size > state.synced_size) ML_RETURN_IF_ERROR(base_->Truncate(path, state.synced_size));
  }
  for (auto it = renames.rbegin(); it != renames.rend(); ++it) {
    ML_ASSIGN_OR_RETURN(bool moved, base_->FileExists(it->to));
    if (moved) ML_RETURN_IF_ERROR(base_->RenameFile(it->to, it->from));
    if (it->replaced.has_value()) {
      ML_ASSIGN_OR_RETURN(auto file, base_->CreateExclusive(it->to, 0600));
      ML_RETURN_IF_ERROR(file->Append(*it->replaced));
      ML_RETURN_IF_ERROR(file->Sync());
      ML_RETURN_IF_ERROR(file->Close());
    }
  }
  for (const auto& path : unsynced) {
    ML_ASSIGN_OR_RETURN(bool exists, base_->FileExists(path));
    if (exists) ML_RETURN_IF_ERROR(base_->RemoveFile(path));
  }
  return OkStatus();
}

Status FaultInjectionEnv::CreateDirs(const std::string& path) {
  return base_->CreateDirs(path);
}

Result<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& path) {
  return base_->ListDir(path);
}

Result<bool> FaultInjectionEnv::FileExists(const std::string& path) {
  return base_->FileExists(path);
}

Result<uint64_t> FaultInjectionEnv::FileSize(const std::string& path) {
  return base_->FileSize(path);
}

Result<std::string> FaultInjectionEnv::ReadRange(const std::string& path, uint64_t offset, uint64_t length) {
  return base_->ReadRange(path, offset, length);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::OpenAppendable(const std::string& path) {
  ML_ASSIGN_OR_RETURN(bool existed, base_->FileExists(path));
  if (!existed) {
    if (auto fault = TakeStep(StepClass::kOther, "create", path)) return Injected(*fault, "create", path);
  }
  ML_ASSIGN_OR_RETURN(auto file, base_->OpenAppendable(path));
  const std::string key = Normalize(path);
  {
    std::lock_guard lock(mu_);
    if (files_.count(key) == 0) {
      // Whatever was on disk before this Env saw the file counts as durable.
      auto size = base_->FileSize(path);
      const uint64_t on_disk = size.ok() ? *size : 0;
      files_[key] = FileState{on_disk, on_disk};
    }
    if (!existed) unsynced_names_.insert(key);
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(this, path, std::move(file)));
}

Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  if (auto fault = TakeStep(StepClass::kOther, "truncate", path)) return Injected(*fault, "truncate", path);
  ML_RETURN_IF_ERROR(base_->Truncate(path, size));
  std::lock_guard lock(mu_);
  auto it = files_.find(Normalize(path));
  if (it != files_.end()) {
    it->second.size = size;
    it->second.synced_size = size;  // the base Env's Truncate fsyncs what remains
  }
  return OkStatus();
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  if (auto fault = TakeStep(StepClass::kSync, "syncdir", path)) return Injected(*fault, "sync", path);
  ML_RETURN_IF_ERROR(CheckSync());
  ML_RETURN_IF_ERROR(base_->SyncDir(path));
  const std::string dir = Normalize(path);
  std::lock_guard lock(mu_);
  std::erase_if(unsynced_names_, [&](const std::string& f) { return ParentOf(f) == dir; });
  std::erase_if(pending_renames_, [&](const PendingRename& r) { return ParentOf(r.to) == dir; });
  ++sync_count_;
  return OkStatus();
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::OpenRandomAccess(const std::string& path) {
  return base_->OpenRandomAccess(path);
}

Status FaultInjectionEnv::SyncFilesystem(const std::string& path) {
  if (auto fault = TakeStep(StepClass::kSync, "syncfs", path)) return Injected(*fault, "syncfs", path);
  ML_RETURN_IF_ERROR(CheckSync());
  ML_RETURN_IF_ERROR(base_->SyncFilesystem(path));
  // Every file and name this Env knows of lives on the one filesystem under test.
  std::lock_guard lock(mu_);
  for (auto& [name, state] : files_) state.synced_size = state.size;
  unsynced_names_.clear();
  pending_renames_.clear();
  ++sync_count_;
  return OkStatus();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  if (auto fault = TakeStep(StepClass::kOther, "remove", path)) return Injected(*fault, "remove", path);
  ML_RETURN_IF_ERROR(base_->RemoveFile(path));
  std::lock_guard lock(mu_);
  files_.erase(Normalize(path));
  unsynced_names_.erase(Normalize(path));
  return OkStatus();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::CreateExclusive(const std::string& path, unsigned mode) {
  if (auto fault = TakeStep(StepClass::kOther, "create", path)) return Injected(*fault, "create", path);
  ML_ASSIGN_OR_RETURN(auto file, base_->CreateExclusive(path, mode));
  const std::string key = Normalize(path);
  {
    std::lock_guard lock(mu_);
    files_[key] = FileState{};
    unsynced_names_.insert(key);
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(this, path, std::move(file)));
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  if (auto fault = TakeStep(StepClass::kOther, "rename", from)) return Injected(*fault, "rename", from);
  PendingRename pending{Normalize(from), Normalize(to), std::nullopt};
  ML_ASSIGN_OR_RETURN(bool replacing, base_->FileExists(to));
  if (replacing) {
    // Only the synced part of the old file would survive a power loss: keep that to restore.
    ML_ASSIGN_OR_RETURN(uint64_t size, base_->FileSize(to));
    {
      std::lock_guard lock(mu_);
      auto it = files_.find(pending.to);
      if (it != files_.end()) size = std::min(size, it->second.synced_size);
    }
    ML_ASSIGN_OR_RETURN(std::string old, base_->ReadRange(to, 0, size));
    pending.replaced = std::move(old);
  }
  ML_RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard lock(mu_);
  auto it = files_.find(pending.from);
  if (it != files_.end()) {
    files_[pending.to] = it->second;
    files_.erase(it);
  } else {
    files_.erase(pending.to);
  }
  pending_renames_.push_back(std::move(pending));
  return OkStatus();
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path, LockWait wait) {
  return base_->LockFile(path, wait);
}

}  // namespace medledger::io
