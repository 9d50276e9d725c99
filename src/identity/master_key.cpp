#include "identity/master_key.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "crypto/kdf.h"
#include "crypto/random.h"
#include "io/env.h"

namespace medledger::identity {

Result<MasterKey> MasterKey::Create(const std::filesystem::path& path) {
  std::string bytes = crypto::RandomBytes(kSize);
  ML_RETURN_IF_ERROR(io::CreateFileExclusive(*io::Env::Default(), path, bytes));
  return MasterKey(std::move(bytes));
}

Result<MasterKey> MasterKey::Load(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return MakeError(ErrorKind::kNotFound, "master_key_missing", "master key " + path.string() + " not found");
  }
  if ((st.st_mode & 077) != 0) {
    return MakeError(ErrorKind::kPermissionDenied, "master_key_insecure",
                     "master key " + path.string() + " is accessible by group or others (chmod 600 it)");
  }
  ML_ASSIGN_OR_RETURN(std::string bytes, io::ReadFile(*io::Env::Default(), path, 1024));
  if (bytes.size() != kSize) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return MakeError(ErrorKind::kCorruption, "master_key_corrupt", "master key must be exactly 32 bytes");
  }
  return MasterKey(std::move(bytes));
}

Result<std::string> MasterKey::Derive(std::string_view purpose, std::string_view salt) const {
  return crypto::HkdfSha256(key_, salt, purpose, 32);
}

MasterKey::~MasterKey() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

}  // namespace medledger::identity
