#include "identity/durable_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "crypto/random.h"

namespace medledger::identity {
namespace {

Error IoError(std::string_view what, const std::filesystem::path& path, int err) {
  return MakeError(ErrorKind::kIoError, "io_error", std::string(what) + " " + path.string() + ": " + ErrnoText(err));
}

using Fd = UniqueFd;

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status WriteSyncClose(Fd& fd, std::string_view data, const std::filesystem::path& path) {
  ML_RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  if (::fsync(fd.get()) != 0) return IoError("fsync", path, errno);
  if (fd.Close() != 0) return IoError("close", path, errno);
  return OkStatus();
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir, errno);
  return OkStatus();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + crypto::RandomHex(8);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return IoError("create", tmp, errno);
  // The umask may have narrowed the mode; a wallet file must be exactly what we asked for.
  if (::fchmod(fd.get(), mode) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("chmod", tmp, err);
  }
  Status written = WriteSyncClose(fd, data, tmp);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("rename", path, err);
  }
  return SyncDirectory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

Status CreateFileExclusive(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      return MakeError(ErrorKind::kAlreadyExists, "already_exists", path.string() + " already exists");
    }
    return IoError("create", path, errno);
  }
  if (::fchmod(fd.get(), mode) != 0) return IoError("chmod", path, errno);
  ML_RETURN_IF_ERROR(WriteSyncClose(fd, data, path));
  return SyncDirectory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return MakeError(ErrorKind::kNotFound, "not_found", path.string() + " does not exist");
    return IoError("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorKind::kInvalidArgument, "not_a_file", path.string() + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return MakeError(ErrorKind::kTooLarge, "too_large", path.string() + " is larger than expected");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (n == 0) break;  // shrank while reading: return what is there, the parser will judge it
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Status MakeDirectory(const std::filesystem::path& path, unsigned mode) {
  if (::mkdir(path.c_str(), mode) == 0) return OkStatus();
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return OkStatus();
    return MakeError(ErrorKind::kAlreadyExists, "not_a_directory", path.string() + " exists and is not a directory");
  }
  return IoError("mkdir", path, errno);
}

Status RestrictToOwner(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
  if ((st.st_mode & 077) == 0) return OkStatus();
  if (::chmod(path.c_str(), st.st_mode & 07700) != 0) return IoError("chmod", path, errno);
  return OkStatus();
}

Result<FileLock> FileLock::Acquire(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("open lock", path, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return IoError("flock", path, err);
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace medledger::identity
