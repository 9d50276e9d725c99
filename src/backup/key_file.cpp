#include "backup/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "backup/errors.h"
#include "common/encoding.h"
#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace medledger::backup {

Error IoError(const std::string& what, const std::string& path, int err) {
  return ErrnoError(what + " " + path, err);
}

Result<std::string> LoadBackupSecret(const std::filesystem::path& key_file) {
  UniqueFd fd(::open(key_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return KeyFileInvalid("cannot open " + key_file.string() + ": " + ErrnoText(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", key_file.string(), errno);
  if (!S_ISREG(st.st_mode)) return KeyFileInvalid(key_file.string() + " is not a regular file");
  // A secret others can read is no longer a secret: refuse rather than use it.
  if ((st.st_mode & 077) != 0) {
    return KeyFileInvalid(key_file.string() + " is accessible to group or others; chmod 600 it");
  }
  constexpr size_t kMaxText = 256;  // 44 characters of base64 plus whitespace; anything longer is not a key file
  std::string text(kMaxText + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read", key_file.string(), errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxText) return KeyFileInvalid(key_file.string() + " is too long for a key file (base64 of 32 bytes)");
  text.resize(got);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  auto decoded = Base64Decode(text);
  if (!decoded.ok()) return KeyFileInvalid(key_file.string() + " is not base64 (openssl rand -base64 32)");
  if (decoded->size() != kBackupSecretSize) {
    return KeyFileInvalid(key_file.string() + " decodes to " + std::to_string(decoded->size()) +
                          " bytes; a backup key is exactly 32 (openssl rand -base64 32)");
  }
  return std::move(decoded).value();
}

}  // namespace medledger::backup
