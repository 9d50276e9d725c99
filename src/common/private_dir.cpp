#include "common/private_dir.h"

#include <sys/stat.h>

#include <cerrno>

#include "common/errno_text.h"

namespace medledger {

Status CreatePrivateDirectories(const std::filesystem::path& dir) {
  std::filesystem::path current;
  for (const auto& part : dir.lexically_normal()) {
    current /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    if (::mkdir(current.c_str(), 0700) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(current.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return MakeError(ErrorKind::kIoError, "io_error",
                     "cannot create directory " + current.string() + ": " + ErrnoText(err == EEXIST ? ENOTDIR : err));
  }
  return OkStatus();
}

}  // namespace medledger
