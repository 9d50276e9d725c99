#include "tlog/durable_write.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "crypto/random.h"

namespace medledger::tlog {
namespace {

Error IoError(const std::string& what, const std::filesystem::path& path, int err) {
  return MakeError(ErrorKind::kIoError, "io_error", what + " " + path.string() + ": " + ErrnoText(err));
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError("open", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync", dir, errno);
  return OkStatus();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data) {
  auto tmp = path;
  tmp += ".tmp-" + crypto::RandomHex(8);
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return IoError("create", tmp, errno);
    Status s = OkStatus();
    for (std::string_view rest = data; s.ok() && !rest.empty();) {
      const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = IoError("write", tmp, errno);
        break;
      }
      rest.remove_prefix(static_cast<size_t>(n));
    }
    if (s.ok() && ::fsync(fd.get()) != 0) s = IoError("fsync", tmp, errno);
    if (s.ok() && fd.Close() != 0) s = IoError("close", tmp, errno);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("rename", path, err);
  }
  return SyncDirectory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

}  // namespace medledger::tlog
