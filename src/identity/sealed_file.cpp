#include "identity/sealed_file.h"

#include "crypto/aead.h"
#include "crypto/random.h"

namespace medledger::identity {
namespace {
constexpr std::string_view kMagic = "MLS1";
}

Result<SealedFiles> SealedFiles::Create(const identity::MasterKey& master_key, std::string_view purpose, io::Env* env) {
  ML_ASSIGN_OR_RETURN(auto key, master_key.Derive(purpose, "medledger-server"));
  return SealedFiles(std::move(key), env != nullptr ? env : io::Env::Default());
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
  return io::WriteFileAtomic(*env_, file, sealed);
}

Result<std::string> SealedFiles::Read(const std::filesystem::path& file, std::string_view aad) const {
  ML_ASSIGN_OR_RETURN(auto bytes, io::ReadFile(*env_, file));
  return Open(bytes, aad);
}

}  // namespace medledger::identity
