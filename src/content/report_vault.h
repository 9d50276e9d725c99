// The facade the service layer calls: seal a report and add it to the content store; fetch, verify and open
// it; erase it. Light on includes on purpose (the stores are forward-declared).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

class ContentStore;
class Keystore;

struct StoredReport {
  std::string cid;           // of the envelope, as the content store named it
  std::string content_hash;  // SHA-256 of the plaintext, lowercase hex: what the ledger records
  std::string key_id;        // which data key sealed it (also inside the envelope)
};

struct OpenedReport {
  std::string envelope;   // the stored bytes (what the CID names)
  std::string plaintext;  // their decryption, checked against the recorded content hash
};

class ReportVault {
 public:
  // Both must outlive the vault.
  ReportVault(ContentStore& store, Keystore& keys) : store_(store), keys_(keys) {}

  // A fresh 256-bit data key, AES-256-GCM with the report id and patient ref as AAD, wrapped into the keystore.
  Result<StoredReport> Put(std::string_view report_id, std::string_view patient_ref, std::string_view plaintext);
  // Cat (each block re-hashed against the CID) -> open -> check the plaintext against `content_hash`.
  // Codes: the store's errors, envelope_*, "key_destroyed" (erased), "decrypt_failed", "content_hash_mismatch".
  Result<std::string> Get(std::string_view report_id, std::string_view patient_ref, std::string_view cid,
                          std::string_view content_hash);
  // As Get, keeping the envelope bytes too (for readers who re-check the CID themselves).
  Result<OpenedReport> Fetch(std::string_view report_id, std::string_view patient_ref, std::string_view cid,
                             std::string_view content_hash);
  // A consortium's key release (docs/CONSORTIUM.md): the data key of an envelope of `report_id` (its bytes, from
  // whichever replica had them), which this organisation holds. "key_destroyed" once erased.
  struct DataKeyOf {
    std::string key_id;
    std::string data_key;  // secret
  };
  Result<DataKeyOf> DataKey(std::string_view report_id, std::string_view envelope) const;
  // Opens an envelope that came from anywhere (another hospital's node, a CAR) with a released data key, and
  // checks the plaintext against `content_hash`: the holder's key alone cannot make wrong bytes pass.
  static Result<std::string> OpenReleased(std::string_view envelope, std::string_view data_key,
                                          std::string_view report_id, std::string_view patient_ref,
                                          std::string_view content_hash);
  // A short free-text note (a break-glass reason, a consent purpose) sealed exactly like a report, with its own
  // data key stored under `owner` (a report ID, or a patient ref): erasing the owner shreds the note too. The
  // binding's second part is "note:" + `label`, which no report's patient ref can equal (those are hex), so a
  // note can never be opened as a report version or under another label. Returns the note's CID.
  Result<std::string> PutNote(std::string_view owner, std::string_view label, std::string_view text);
  // "key_destroyed" once the owner was erased.
  Result<std::string> GetNote(std::string_view owner, std::string_view label, std::string_view cid);
  // Undoes a PutNote whose ledger transaction failed.
  Status DiscardNote(std::string_view owner, std::string_view cid);
  // Crypto-shredding: the ciphertext may stay anywhere; without the data key nobody can read it.
  // Covers every version of the report (each has its own data key); see ShredReport.
  Result<size_t> Erase(std::string_view report_id);
  // Undoes one Put whose ledger transaction failed: its key is destroyed (the report's other versions stay)
  // and its content unpinned, so the orphan is unreadable and collectable.
  Status Discard(std::string_view report_id, const StoredReport& stored);

 private:
  ContentStore& store_;
  Keystore& keys_;
};

}  // namespace medledger::content
