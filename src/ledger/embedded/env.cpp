// Default implementations of the optional Env members, for Envs that only provide the core set.
#include "ledger/embedded/env.h"

#include <utility>

namespace medledger::ledger::embedded {
namespace {

class PathRangeReader final : public RandomAccessFile {
 public:
  PathRangeReader(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    return env_->ReadRange(path_, offset, length);
  }

 private:
  Env* env_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<RandomAccessFile>> Env::OpenRandomAccess(const std::string& path) {
  ML_ASSIGN_OR_RETURN(bool exists, FileExists(path));
  if (!exists) return MakeError(ErrorKind::kNotFound, "file_not_found", path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(std::make_unique<PathRangeReader>(this, path));
}

Status Env::RemoveFile(const std::string& path) {
  return MakeError(ErrorKind::kInternal, "not_supported", "this Env cannot remove " + path);
}

Result<std::unique_ptr<FileLock>> Env::LockFile(const std::string& path) {
  return MakeError(ErrorKind::kInternal, "not_supported", "this Env cannot lock " + path);
}

}  // namespace medledger::ledger::embedded
