#include "io/posix_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace medledger::io {
namespace {

Error IoError(const std::string& what, const std::filesystem::path& p, int err) {
  return ErrnoError(what + " " + p.string(), err);
}

}  // namespace

Status MakeDirectory(const std::filesystem::path& path, unsigned mode) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) == 0) return OkStatus();
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

ssize_t PreadFull(int fd, char* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

int PwriteFull(int fd, const char* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w == 0 ? EIO : errno;
    done += static_cast<size_t>(w);
  }
  return 0;
}

Status ReadFdInto(int fd, const std::filesystem::path& file, std::string* out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError("stat", file, errno);
  out->resize(static_cast<size_t>(st.st_size));
  const ssize_t got = PreadFull(fd, out->data(), out->size(), 0);
  if (got < 0) return IoError("read", file, errno);
  out->resize(static_cast<size_t>(got));  // shorter if truncated under us: the reader's checks report it
  return OkStatus();
}

Status SyncFilesystem(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open", path, errno);
  if (::syncfs(fd.get()) != 0) return IoError("syncfs", path, errno);
  return OkStatus();
}

}  // namespace medledger::io
