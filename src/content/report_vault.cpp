#include "content/report_vault.h"

#include "common/encoding.h"
#include "content/content_store.h"
#include "content/envelope.h"
#include "content/keystore.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace medledger::content {

Result<StoredReport> ReportVault::Put(std::string_view report_id, std::string_view patient_ref,
                                      std::string_view plaintext) {
  if (report_id.empty()) return MakeError(ErrorKind::kInvalidArgument, "report_id_required", "empty report id");
  StoredReport out;
  out.key_id = HexEncode(crypto::RandomBytes(16));
  out.content_hash = HexEncode(crypto::Sha256(plaintext));
  std::string data_key = crypto::RandomBytes(crypto::kAesKeySize);
  ML_ASSIGN_OR_RETURN(auto envelope, SealEnvelope(data_key, out.key_id, {report_id, patient_ref}, plaintext));
  // The key is stored first: content without a key is unreadable litter, a key without content is harmless.
  ML_RETURN_IF_ERROR(keys_.Store(report_id, out.key_id, data_key));
  ML_ASSIGN_OR_RETURN(out.cid, store_.Add(envelope, AddOptions{}));
  return out;
}

Result<std::string> ReportVault::Get(std::string_view report_id, std::string_view patient_ref, std::string_view cid,
                                     std::string_view content_hash) {
  ML_ASSIGN_OR_RETURN(auto opened, Fetch(report_id, patient_ref, cid, content_hash));
  return std::move(opened.plaintext);
}

Result<OpenedReport> ReportVault::Fetch(std::string_view report_id, std::string_view patient_ref, std::string_view cid,
                                        std::string_view content_hash) {
  OpenedReport out;
  ML_ASSIGN_OR_RETURN(out.envelope, store_.Cat(cid));
  ML_ASSIGN_OR_RETURN(auto envelope, ParseEnvelope(out.envelope));
  ML_ASSIGN_OR_RETURN(auto data_key, keys_.Load(report_id, envelope.key_id));
  ML_ASSIGN_OR_RETURN(out.plaintext, OpenReleased(out.envelope, data_key, report_id, patient_ref, content_hash));
  return out;
}

Result<ReportVault::DataKeyOf> ReportVault::DataKey(std::string_view report_id, std::string_view envelope_bytes) const {
  ML_ASSIGN_OR_RETURN(auto envelope, ParseEnvelope(envelope_bytes));
  ML_ASSIGN_OR_RETURN(std::string key, keys_.Load(report_id, envelope.key_id));
  return DataKeyOf{envelope.key_id, std::move(key)};
}

Result<std::string> ReportVault::OpenReleased(std::string_view envelope_bytes, std::string_view data_key,
                                              std::string_view report_id, std::string_view patient_ref,
                                              std::string_view content_hash) {
  ML_ASSIGN_OR_RETURN(auto envelope, ParseEnvelope(envelope_bytes));
  ML_ASSIGN_OR_RETURN(std::string plaintext, OpenEnvelope(data_key, envelope, {report_id, patient_ref}));
  if (!crypto::ConstantTimeEquals(HexEncode(crypto::Sha256(plaintext)), content_hash)) {
    return MakeError(ErrorKind::kCorruption, "content_hash_mismatch",
                     "decrypted content does not match the recorded hash");
  }
  return plaintext;
}

Result<size_t> ReportVault::Erase(std::string_view report_id) {
  return ShredReport(keys_, report_id);
}

Status ReportVault::Discard(std::string_view report_id, const StoredReport& stored) {
  ML_RETURN_IF_ERROR(keys_.DestroyKey(report_id, stored.key_id));
  return store_.Unpin(stored.cid);
}

Result<std::string> ReportVault::PutNote(std::string_view owner, std::string_view label, std::string_view text) {
  if (owner.empty() || label.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "note_owner_required", "a note needs an owner and a label");
  }
  const std::string key_id = "note-" + HexEncode(crypto::RandomBytes(16));
  const std::string binding = "note:" + std::string(label);
  std::string data_key = crypto::RandomBytes(crypto::kAesKeySize);
  ML_ASSIGN_OR_RETURN(auto envelope, SealEnvelope(data_key, key_id, {owner, binding}, text));
  ML_RETURN_IF_ERROR(keys_.Store(owner, key_id, data_key));
  return store_.Add(envelope, AddOptions{});
}

Result<std::string> ReportVault::GetNote(std::string_view owner, std::string_view label, std::string_view cid) {
  ML_ASSIGN_OR_RETURN(std::string bytes, store_.Cat(cid));
  ML_ASSIGN_OR_RETURN(auto envelope, ParseEnvelope(bytes));
  ML_ASSIGN_OR_RETURN(auto data_key, keys_.Load(owner, envelope.key_id));
  const std::string binding = "note:" + std::string(label);
  return OpenEnvelope(data_key, envelope, {owner, binding});
}

Status ReportVault::DiscardNote(std::string_view owner, std::string_view cid) {
  ML_ASSIGN_OR_RETURN(std::string bytes, store_.Cat(cid));
  ML_ASSIGN_OR_RETURN(auto envelope, ParseEnvelope(bytes));
  ML_RETURN_IF_ERROR(keys_.DestroyKey(owner, envelope.key_id));
  return store_.Unpin(cid);
}

}  // namespace medledger::content
