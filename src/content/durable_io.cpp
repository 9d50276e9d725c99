#include "content/durable_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/random.h"

namespace medledger::content {
namespace {

Error IoError(const std::string& what, const std::filesystem::path& path) {
  return MakeError(ErrorKind::kIoError, "io_error", what + " " + path.string() + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

Status FsyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", dir);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir);
  return OkStatus();
}

Status WriteFileAtomicNoDirSync(const std::filesystem::path& path, std::string_view data,
                                const std::filesystem::path& tmp_dir, unsigned mode, bool sync) {
  std::filesystem::path tmp = tmp_dir / ("." + crypto::RandomHex(12) + ".tmp");
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return IoError("create", tmp);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = IoError("write", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd.get()) != 0) {
    auto e = IoError("fdatasync", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd.release()) != 0) {
    auto e = IoError("close", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = IoError("rename to", path);
    ::unlink(tmp.c_str());
    return e;
  }
  return OkStatus();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, const std::filesystem::path& tmp_dir,
                       unsigned mode, bool sync) {
  ML_RETURN_IF_ERROR(WriteFileAtomicNoDirSync(path, data, tmp_dir, mode, sync));
  if (sync) ML_RETURN_IF_ERROR(FsyncDir(path.parent_path()));
  return OkStatus();
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return MakeError(ErrorKind::kNotFound, "not_found", path.filename().string() + " not found");
    return IoError("open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read", path);
    if (n == 0) break;  // shrank under us: return what is there; hashing will tell
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Status MakeDirs(const std::filesystem::path& dir, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), mode);
  return OkStatus();
}

}  // namespace medledger::content
