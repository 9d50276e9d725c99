#include "service/sealed_file.h"

#include <fstream>
#include <sstream>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "identity/durable_file.h"

namespace medledger::service {
namespace {
constexpr std::string_view kMagic = "MLS1";
}

Result<SealedFiles> SealedFiles::Create(const identity::MasterKey& master_key, std::string_view purpose) {
  ML_ASSIGN_OR_RETURN(auto key, master_key.Derive(purpose, "medledger-server"));
  return SealedFiles(std::move(key));
}

Result<std::string> SealedFiles::Seal(std::string_view plaintext, std::string_view aad) const {
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(auto sealed, crypto::AesGcmSeal(key_, nonce, plaintext, aad));
  return std::string(kMagic) + nonce + sealed;
}

Result<std::string> SealedFiles::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kMagic.size() + crypto::kGcmNonceSize + crypto::kGcmTagSize ||
      sealed.substr(0, kMagic.size()) != kMagic) {
    return MakeError(ErrorKind::kCorruption, "sealed_data_corrupt", "sealed data has a bad header");
  }
  auto nonce = sealed.substr(kMagic.size(), crypto::kGcmNonceSize);
  auto body = sealed.substr(kMagic.size() + crypto::kGcmNonceSize);
  auto plain = crypto::AesGcmOpen(key_, nonce, body, aad);
  if (!plain.ok()) return MakeError(ErrorKind::kCorruption, "sealed_data_corrupt", "sealed data fails authentication");
  return plain;
}

Status SealedFiles::Write(const std::filesystem::path& file, std::string_view plaintext, std::string_view aad) const {
  ML_ASSIGN_OR_RETURN(auto sealed, Seal(plaintext, aad));
  return WriteFileAtomically(file, sealed);
}

Result<std::string> SealedFiles::Read(const std::filesystem::path& file, std::string_view aad) const {
  ML_ASSIGN_OR_RETURN(auto bytes, ReadWholeFile(file));
  return Open(bytes, aad);
}

Status WriteFileAtomically(const std::filesystem::path& file, std::string_view bytes) {
  // identity's writer: a unique temporary name (concurrent writers of one file do not share a temporary),
  // mode 0600 whatever the umask, and the directory fsynced after the rename so the new name survives a crash.
  return identity::WriteFileAtomic(file, bytes, 0600);
}

Result<std::string> ReadWholeFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return MakeError(ErrorKind::kNotFound, "not_found", "no such file");
    return MakeError(ErrorKind::kIoError, "io_error", "cannot read " + file.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return MakeError(ErrorKind::kIoError, "io_error", "cannot read " + file.string());
  return ss.str();
}

}  // namespace medledger::service
