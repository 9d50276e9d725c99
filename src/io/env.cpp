// Default implementations of the optional Env members, and the whole-file operations every store shares,
// built only on Env primitives so that a fault-injecting Env reaches them too.
#include "io/env.h"

#include <sys/random.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "common/errno_text.h"

namespace medledger::io {
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

Error NotSupported(const std::string& what, const std::string& path) {
  return MakeError(ErrorKind::kInternal, "not_supported", "this Env cannot " + what + " " + path);
}

// A name no concurrent writer picks: 8 bytes from the kernel's generator, in hex.
Result<std::string> RandomSuffix() {
  unsigned char buf[8];
  size_t done = 0;
  while (done < sizeof(buf)) {
    const ssize_t n = ::getrandom(buf + done, sizeof(buf) - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError(ErrorKind::kInternal, "io_error", "getrandom: " + ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Status WriteSyncClose(WritableFile& file, std::string_view bytes, bool sync) {
  ML_RETURN_IF_ERROR(file.Append(bytes));
  if (sync) ML_RETURN_IF_ERROR(file.Sync());
  return file.Close();
}

}  // namespace

Result<std::unique_ptr<RandomAccessFile>> Env::OpenRandomAccess(const std::string& path) {
  ML_ASSIGN_OR_RETURN(bool exists, FileExists(path));
  if (!exists) return MakeError(ErrorKind::kNotFound, "file_not_found", path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(std::make_unique<PathRangeReader>(this, path));
}

Status Env::RemoveFile(const std::string& path) {
  return NotSupported("remove", path);
}

Result<std::unique_ptr<WritableFile>> Env::CreateExclusive(const std::string& path, unsigned /*mode*/) {
  return NotSupported("create", path);
}

Status Env::RenameFile(const std::string& from, const std::string& /*to*/) {
  return NotSupported("rename", from);
}

Result<std::unique_ptr<FileLock>> Env::LockFile(const std::string& path, LockWait /*wait*/) {
  return NotSupported("lock", path);
}

Status Env::SyncFilesystem(const std::string& path) {
  return NotSupported("syncfs", path);
}

std::string ParentDir(const std::string& path) {
  const std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

Status WriteFileAtomic(Env& env, const std::string& path, std::string_view bytes, const WriteOptions& options) {
  ML_ASSIGN_OR_RETURN(std::string suffix, RandomSuffix());
  const std::string tmp = path + ".tmp-" + suffix;
  ML_ASSIGN_OR_RETURN(auto file, env.CreateExclusive(tmp, options.mode));
  Status written = WriteSyncClose(*file, bytes, options.sync);
  if (written.ok()) written = env.RenameFile(tmp, path);
  if (!written.ok()) {
    file.reset();
    (void)env.RemoveFile(tmp);  // best effort: the write's own error is the one to report
    return written;
  }
  if (options.sync && options.sync_dir) return env.SyncDir(ParentDir(path));
  return OkStatus();
}

Status CreateFileExclusive(Env& env, const std::string& path, std::string_view bytes, unsigned mode) {
  ML_ASSIGN_OR_RETURN(auto file, env.CreateExclusive(path, mode));
  ML_RETURN_IF_ERROR(WriteSyncClose(*file, bytes, /*sync=*/true));
  return env.SyncDir(ParentDir(path));
}

Result<std::string> ReadFile(Env& env, const std::string& path, uint64_t max_size) {
  auto size = env.FileSize(path);
  if (!size.ok()) {
    if (size.error().kind == ErrorKind::kNotFound) {
      return MakeError(ErrorKind::kNotFound, "not_found", path + " does not exist");
    }
    return size.error();
  }
  if (*size > max_size) return MakeError(ErrorKind::kTooLarge, "too_large", path + " is larger than expected");
  // Shorter if the file shrank meanwhile: the caller's parser judges what is there.
  auto bytes = env.ReadRange(path, 0, *size);
  if (!bytes.ok() && bytes.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kNotFound, "not_found", path + " does not exist");
  }
  return bytes;
}

Status RemoveFileDurably(Env& env, const std::string& path) {
  Status removed = env.RemoveFile(path);
  if (!removed.ok()) {
    if (removed.error().kind == ErrorKind::kNotFound) return OkStatus();
    return removed;
  }
  return env.SyncDir(ParentDir(path));
}

Status AppendLineDurably(Env& env, const std::string& path, std::string_view line) {
  ML_ASSIGN_OR_RETURN(bool existed, env.FileExists(path));
  uint64_t before = 0;
  std::string bytes;
  bytes.reserve(line.size() + 2);
  if (existed) {
    ML_ASSIGN_OR_RETURN(before, env.FileSize(path));
    // A torn last line (a power cut mid-append) would swallow this one: start on a line of its own.
    if (before > 0) {
      ML_ASSIGN_OR_RETURN(std::string last, env.ReadRange(path, before - 1, 1));
      if (last != "\n") bytes.push_back('\n');
    }
  }
  bytes.append(line).push_back('\n');
  ML_ASSIGN_OR_RETURN(auto file, env.OpenAppendable(path));
  Status written = WriteSyncClose(*file, bytes, /*sync=*/true);
  if (!written.ok()) {
    // Whatever part landed is cut off, so the next line does not join a fragment of this one.
    file.reset();
    (void)env.Truncate(path, before);
    return written;
  }
  return existed ? OkStatus() : env.SyncDir(ParentDir(path));
}

}  // namespace medledger::io
