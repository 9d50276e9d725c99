#include "content/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/encoding.h"
#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

Error IoError(const std::string& what, const std::filesystem::path& p) {
  return MakeError(ErrorKind::kIoError, "io_error", what + " " + p.string() + ": " + ErrnoText(errno));
}

using Fd = UniqueFd;

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", dir);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir);
  return OkStatus();
}

Status WriteFileAtomic(const std::filesystem::path& file, std::string_view bytes, bool sync, bool private_file,
                       bool sync_dir) {
  std::filesystem::path tmp = file;
  tmp += ".tmp." + HexEncode(crypto::RandomBytes(6));
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private_file ? 0600 : 0644));
    if (fd.get() < 0) return IoError("create", tmp);
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(fd.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Error e = IoError("write", tmp);
        ::unlink(tmp.c_str());
        return e;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (sync && ::fdatasync(fd.get()) != 0) {
      Error e = IoError("fsync", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    Error e = IoError("rename", file);
    ::unlink(tmp.c_str());
    return e;
  }
  if (sync && sync_dir) return SyncDirectory(file.parent_path());
  return OkStatus();
}

Result<std::string> ReadFileBytes(const std::filesystem::path& file) {
  std::string out;
  ML_RETURN_IF_ERROR(ReadFileInto(file, &out));
  return out;
}

Status ReadFileInto(const std::filesystem::path& file, std::string* out) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return MakeError(ErrorKind::kNotFound, "not_found", file.filename().string() + " not found");
    return IoError("open", file);
  }
  return ReadFdInto(fd.get(), file, out);
}

Status ReadFdInto(int fd, const std::filesystem::path& file, std::string* out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError("stat", file);
  out->resize(static_cast<size_t>(st.st_size));
  const ssize_t got = PreadFull(fd, out->data(), out->size(), 0);
  if (got < 0) return IoError("read", file);
  out->resize(static_cast<size_t>(got));  // shorter if truncated under us: the reader's checks report it
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

Status RemoveFileDurably(const std::filesystem::path& file) {
  if (::unlink(file.c_str()) != 0) {
    if (errno == ENOENT) return OkStatus();
    return IoError("unlink", file);
  }
  return SyncDirectory(file.parent_path());
}

Status SyncFilesystem(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open", path);
  if (::syncfs(fd.get()) != 0) return IoError("syncfs", path);
  return OkStatus();
}

Status AppendLineDurably(const std::filesystem::path& file, std::string_view line) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(file, ec);
  Fd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return IoError("open", file);
  std::string bytes = std::string(line) + "\n";
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("write", file);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fdatasync(fd.get()) != 0) return IoError("fdatasync", file);
  return existed ? OkStatus() : SyncDirectory(file.parent_path());
}

}  // namespace medledger::content
