// An io::Env held entirely in memory (LevelDB's MemEnv), for unit tests of stores that must not reach the disk.
// A store that bypasses its Env shows up here: its files are missing, and an Env write into a directory nobody
// created through the Env fails as it would on a real disk ("io_error", ENOENT). Sync is a no-op: nothing here
// survives the object, so durability is the fault Env's subject (io/fault_env.h), not this one's.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "io/env.h"

namespace medledger::testing {

class MemEnv final : public io::Env {
 public:
  MemEnv() { dirs_.insert("/"); }

  Status CreateDirs(const std::string& path) override {
    std::lock_guard lock(mu_);
    for (std::string p = Normal(path); !p.empty(); p = Parent(p)) {
      if (files_.count(p) != 0) return IoFailure("create directory", p);
      if (!dirs_.insert(p).second || p == "/") break;
    }
    return OkStatus();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string dir = Normal(path);
    if (dirs_.count(dir) == 0) return NotFound("list", dir);
    std::set<std::string> names;
    for (const auto& [name, _] : files_) {
      if (Parent(name) == dir) names.insert(Base(name));
    }
    for (const auto& name : dirs_) {
      if (name != dir && Parent(name) == dir) names.insert(Base(name));
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<bool> FileExists(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string p = Normal(path);
    return files_.count(p) != 0 || dirs_.count(p) != 0;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return NotFound("stat", path);
    return static_cast<uint64_t>(it->second->size());
  }

  Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return NotFound("read", path);
    const std::string& data = *it->second;
    if (offset >= data.size()) return std::string();
    return data.substr(offset, length);
  }

  Result<std::unique_ptr<io::WritableFile>> OpenAppendable(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string p = Normal(path);
    if (dirs_.count(Parent(p)) == 0) return IoFailure("open", p);
    auto& data = files_[p];
    if (!data) data = std::make_shared<std::string>();
    return std::unique_ptr<io::WritableFile>(std::make_unique<File>(this, data));
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return NotFound("truncate", path);
    if (size < it->second->size()) it->second->resize(size);
    return OkStatus();
  }

  Status SyncDir(const std::string& path) override {
    std::lock_guard lock(mu_);
    return dirs_.count(Normal(path)) != 0 ? OkStatus() : NotFound("open directory", path);
  }

  Status RemoveFile(const std::string& path) override {
    std::lock_guard lock(mu_);
    return files_.erase(Normal(path)) != 0 ? OkStatus() : NotFound("remove", path);
  }

  Result<std::unique_ptr<io::WritableFile>> CreateExclusive(const std::string& path, unsigned /*mode*/) override {
    std::lock_guard lock(mu_);
    const std::string p = Normal(path);
    if (dirs_.count(Parent(p)) == 0) return IoFailure("create", p);
    if (files_.count(p) != 0 || dirs_.count(p) != 0) {
      return MakeError(ErrorKind::kAlreadyExists, "already_exists", p + " exists");
    }
    auto data = std::make_shared<std::string>();
    files_[p] = data;
    return std::unique_ptr<io::WritableFile>(std::make_unique<File>(this, data));
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(from));
    if (it == files_.end()) return NotFound("rename", from);
    if (dirs_.count(Parent(Normal(to))) == 0) return IoFailure("rename", to);
    auto data = it->second;
    files_.erase(it);
    files_[Normal(to)] = std::move(data);
    return OkStatus();
  }

  Result<std::unique_ptr<io::FileLock>> LockFile(const std::string& path, io::LockWait wait) override {
    std::unique_lock lock(mu_);
    const std::string p = Normal(path);
    if (dirs_.count(Parent(p)) == 0) return IoFailure("lock", p);
    if (wait == io::LockWait::kFail && locked_.count(p) != 0) {
      return MakeError(ErrorKind::kConflict, "locked", p + " is locked");
    }
    unlocked_.wait(lock, [&] { return locked_.count(p) == 0; });
    locked_.insert(p);
    if (files_.count(p) == 0) files_[p] = std::make_shared<std::string>();  // flock creates the file
    return std::unique_ptr<io::FileLock>(std::make_unique<Lock>(this, p));
  }

  Status SyncFilesystem(const std::string& /*path*/) override { return OkStatus(); }

  // Test access: a file's bytes (empty and false when absent), and every file name, sorted.
  bool Contents(const std::string& path, std::string* out) {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return false;
    *out = *it->second;
    return true;
  }
  std::vector<std::string> Files() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, _] : files_) out.push_back(name);
    return out;
  }

 private:
  class File final : public io::WritableFile {
   public:
    File(MemEnv* env, std::shared_ptr<std::string> data) : env_(env), data_(std::move(data)) {}
    Status Append(std::string_view bytes) override {
      std::lock_guard lock(env_->mu_);
      data_->append(bytes);
      return OkStatus();
    }
    Status Sync() override { return OkStatus(); }
    Status Close() override { return OkStatus(); }

   private:
    MemEnv* env_;
    std::shared_ptr<std::string> data_;  // shared: a rename or removal while open keeps the bytes, as an inode
  };

  class Lock final : public io::FileLock {
   public:
    Lock(MemEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
    ~Lock() override {
      {
        std::lock_guard lock(env_->mu_);
        env_->locked_.erase(path_);
      }
      env_->unlocked_.notify_all();
    }

   private:
    MemEnv* env_;
    std::string path_;
  };

  // "a/b/../c/" and "a/b/c" name the same file; paths are compared after lexical normalisation.
  static std::string Normal(const std::string& path) {
    std::string p = std::filesystem::path(path).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
  }
  static std::string Parent(const std::string& p) {
    const auto slash = p.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? (p == "/" ? "" : "/") : p.substr(0, slash);
  }
  static std::string Base(const std::string& p) { return p.substr(p.rfind('/') + 1); }
  static Error NotFound(const std::string& what, const std::string& path) {
    return MakeError(ErrorKind::kNotFound, "file_not_found", what + " " + path + ": no such file");
  }
  static Error IoFailure(const std::string& what, const std::string& path) {
    return MakeError(ErrorKind::kIoError, "io_error", what + " " + path + ": no such directory");
  }

  std::mutex mu_;
  std::condition_variable unlocked_;
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_ptr<std::string>> files_;
  std::set<std::string> locked_;
};

}  // namespace medledger::testing
