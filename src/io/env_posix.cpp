// The POSIX Env: pread/pwrite on raw descriptors, fdatasync for durability, fsync on directories so
// that newly created file names survive a power loss.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/errno_text.h"
#include "common/private_dir.h"
#include "io/env.h"

namespace medledger::io {
namespace {

Error IoError(const std::string& what, const std::string& path, int err) {
  if (err == ENOENT)
    return MakeError(ErrorKind::kNotFound, "file_not_found", what + " " + path + ": " + ErrnoText(err));
  return ErrnoError(what + " " + path, err);
}

// For opens with O_CREAT: ENOENT there means a missing directory, an I/O problem of the store rather
// than an absent file.
Error CreateError(const std::string& what, const std::string& path, int err) {
  if (err == ENOENT) return MakeError(ErrorKind::kIoError, "io_error", what + " " + path + ": " + ErrnoText(err));
  return IoError(what, path, err);
}

// Owns one descriptor; closes it exactly once.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

int OpenRetry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Result<std::string> PreadAll(int fd, const std::string& path, uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (n == 0) break;  // end of file
    done += static_cast<uint64_t>(n);
  }
  out.resize(done);
  return out;
}

Status FsyncRetry(int fd, bool data_only, const std::string& path) {
  int rc;
  do {
    rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return IoError("sync", path, errno);
  return OkStatus();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t offset) : fd_(fd), path_(std::move(path)), offset_(offset) {}

  Status Append(std::string_view data) override {
    if (fd_.get() < 0) return MakeError(ErrorKind::kInternal, "file_closed", "append to closed " + path_);
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", path_, errno);
      }
      offset_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  Status Sync() override {
    if (fd_.get() < 0) return MakeError(ErrorKind::kInternal, "file_closed", "sync of closed " + path_);
    return FsyncRetry(fd_.get(), /*data_only=*/true, path_);
  }

  Status Close() override {
    const int fd = fd_.release();
    if (fd >= 0 && ::close(fd) != 0) return IoError("close", path_, errno);
    return OkStatus();
  }

 private:
  Fd fd_;
  std::string path_;
  uint64_t offset_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    return PreadAll(fd_.get(), path_, offset, length);
  }

 private:
  Fd fd_;
  std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}

 private:
  Fd fd_;  // closing the descriptor releases the flock
};

// Stateless, hence safe to share between threads as the process-wide default.
class PosixEnv final : public Env {
 public:
  Status CreateDirs(const std::string& path) override { return CreatePrivateDirectories(path); }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return IoError("list", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return IoError("list", path, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<bool> FileExists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return IoError("stat", path, errno);
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) override {
    Fd fd(OpenRetry(path.c_str(), O_RDONLY));
    if (fd.get() < 0) return IoError("open", path, errno);
    return PreadAll(fd.get(), path, offset, length);
  }

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    Fd fd(OpenRetry(path.c_str(), O_WRONLY | O_CREAT, 0600));
    if (fd.get() < 0) return CreateError("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(fd.release(), path, static_cast<uint64_t>(st.st_size)));
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    Fd fd(OpenRetry(path.c_str(), O_WRONLY));
    if (fd.get() < 0) return IoError("open", path, errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return IoError("truncate", path, errno);
    // A full fsync: the size change is metadata that fdatasync may skip when shrinking.
    return FsyncRetry(fd.get(), /*data_only=*/false, path);
  }

  Status SyncDir(const std::string& path) override {
    Fd fd(OpenRetry(path.c_str(), O_RDONLY | O_DIRECTORY));
    if (fd.get() < 0) return IoError("open directory", path, errno);
    return FsyncRetry(fd.get(), /*data_only=*/false, path);
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    Fd fd(OpenRetry(path.c_str(), O_RDONLY));
    if (fd.get() < 0) return IoError("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(fd.release(), path));
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return IoError("remove", path, errno);
    return OkStatus();
  }

  Result<std::unique_ptr<WritableFile>> CreateExclusive(const std::string& path, unsigned mode) override {
    Fd fd(OpenRetry(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, static_cast<mode_t>(mode)));
    if (fd.get() < 0) {
      if (errno == EEXIST) {
        return MakeError(ErrorKind::kAlreadyExists, "already_exists", path + " already exists");
      }
      // ENOENT here means a missing directory, which is an I/O problem of the store, not an absent file.
      if (errno == ENOENT)
        return MakeError(ErrorKind::kIoError, "io_error", "create " + path + ": " + ErrnoText(ENOENT));
      return IoError("create", path, errno);
    }
    // The umask may have narrowed the mode; a private file must be exactly what was asked for.
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
      const int err = errno;
      ::unlink(path.c_str());
      return IoError("chmod", path, err);
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd.release(), path, 0));
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return IoError("rename " + from + " to", to, errno);
    return OkStatus();
  }

  // flock, not fcntl locks: flock locks belong to the open file, so a second open in the same process
  // conflicts too, and closing some other descriptor of the file does not drop the lock.
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, LockWait wait) override {
    Fd fd(OpenRetry(path.c_str(), O_RDWR | O_CREAT, 0600));
    if (fd.get() < 0) return CreateError("open", path, errno);
    const int op = wait == LockWait::kBlock ? LOCK_EX : (LOCK_EX | LOCK_NB);
    int rc;
    do {
      rc = ::flock(fd.get(), op);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      if (errno == EWOULDBLOCK) {
        return MakeError(ErrorKind::kConflict, "locked", path + " is locked by another process or store");
      }
      return IoError("lock", path, errno);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd.release()));
  }

  Status SyncFilesystem(const std::string& path) override {
    Fd fd(OpenRetry(path.c_str(), O_RDONLY, 0));
    if (fd.get() < 0) return IoError("open", path, errno);
    if (::syncfs(fd.get()) != 0) return IoError("syncfs", path, errno);
    return OkStatus();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace medledger::io
