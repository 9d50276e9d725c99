#include "service/report_sealer.h"

#include "crypto/aead.h"
#include "crypto/random.h"

namespace medledger::service {
namespace {

constexpr std::string_view kMagic = "MLE1";

std::string Aad(const SealContext& c) {
  std::string aad = "medledger report v1";
  for (const std::string& part : {c.report_id, std::to_string(c.version), c.patient_id}) {
    aad.push_back('\0');
    aad += part;
  }
  return aad;
}

}  // namespace

Result<ReportSealer> ReportSealer::Open(const std::filesystem::path& keystore_dir,
                                        const identity::MasterKey& master_key) {
  std::error_code ec;
  std::filesystem::create_directories(keystore_dir, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create " + keystore_dir.string());
  ML_ASSIGN_OR_RETURN(auto kek, SealedFiles::Create(master_key, "report-key-encryption-key"));
  return ReportSealer(keystore_dir, std::move(kek));
}

std::filesystem::path ReportSealer::KeyPath(const SealContext& c) const {
  return dir_ / (c.report_id + ".v" + std::to_string(c.version) + ".key");
}

Result<std::string> ReportSealer::Seal(const SealContext& ctx, std::string_view document) const {
  std::string dek = crypto::RandomBytes(crypto::kAesKeySize);
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  std::string aad = Aad(ctx);
  ML_ASSIGN_OR_RETURN(auto sealed, crypto::AesGcmSeal(dek, nonce, document, aad));
  ML_RETURN_IF_ERROR(kek_.Write(KeyPath(ctx), dek, aad));
  return std::string(kMagic) + nonce + sealed;
}

Result<std::string> ReportSealer::Open(const SealContext& ctx, std::string_view envelope) const {
  std::string aad = Aad(ctx);
  auto dek = kek_.Read(KeyPath(ctx), aad);
  if (!dek.ok()) {
    if (dek.error().code == "not_found") {
      return MakeError(ErrorKind::kNotFound, "report_key_missing", "the report's data key has been destroyed");
    }
    return dek.error();
  }
  if (envelope.size() < kMagic.size() + crypto::kGcmNonceSize + crypto::kGcmTagSize ||
      envelope.substr(0, kMagic.size()) != kMagic) {
    return MakeError(ErrorKind::kCorruption, "envelope_corrupt", "the stored envelope is malformed");
  }
  auto plain = crypto::AesGcmOpen(*dek, envelope.substr(kMagic.size(), crypto::kGcmNonceSize),
                                  envelope.substr(kMagic.size() + crypto::kGcmNonceSize), aad);
  if (!plain.ok()) return MakeError(ErrorKind::kCorruption, "decrypt_failed", "the envelope fails authentication");
  return plain;
}

Status ReportSealer::Shred(const SealContext& ctx) const {
  std::error_code ec;
  std::filesystem::remove(KeyPath(ctx), ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot remove the report key");
  return OkStatus();
}

}  // namespace medledger::service
