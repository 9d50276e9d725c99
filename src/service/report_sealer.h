// Envelope encryption of report documents: a fresh 256-bit data key per report version, AES-256-GCM with
// the report id, version and patient bound as AAD. The data key is wrapped by a key-encryption key derived
// from the master key and kept in the keystore (DATA/server/keys/<reportId>.v<version>.key), never in the
// envelope and never on the ledger, so deleting that file crypto-shreds the report.
//
// Envelope bytes (what the content store holds and the CID names): "MLE1" || nonce(12) || ciphertext||tag.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/master_key.h"
#include "service/sealed_file.h"

namespace medledger::service {

struct SealContext {
  std::string report_id;
  uint32_t version = 1;
  std::string patient_id;
};

class ReportSealer {
 public:
  static Result<ReportSealer> Open(const std::filesystem::path& keystore_dir, const identity::MasterKey& master_key);

  // Generates and stores the wrapped data key, returns the envelope.
  Result<std::string> Seal(const SealContext& ctx, std::string_view document) const;
  // "report_key_missing" (shredded), "decrypt_failed" (envelope or AAD tampered).
  Result<std::string> Open(const SealContext& ctx, std::string_view envelope) const;
  Status Shred(const SealContext& ctx) const;

  std::filesystem::path KeyPath(const SealContext& ctx) const;

 private:
  ReportSealer(std::filesystem::path dir, SealedFiles kek) : dir_(std::move(dir)), kek_(std::move(kek)) {}
  std::filesystem::path dir_;
  SealedFiles kek_;
};

}  // namespace medledger::service
