// The server's patient directory: who a pseudonymous patient id is. Name, birth date and MRN are PHI and
// never go on the ledger: each record is sealed (AES-256-GCM, purpose key from the master key) in
// DATA/server/patients/<patientId>.sealed. The id is HMAC-SHA-256(org pseudonym key, MRN), so the same MRN
// always maps to the same ledger key and the ledger alone reveals nothing.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/sealed_file.h"

namespace medledger::service {

struct PatientRecord {
  std::string patient_id;
  std::string mrn;
  std::string name;
  std::string birth_date;  // YYYY-MM-DD
  std::string username;    // the patient's login, if linked
  std::string created;     // RFC 3339
};

class PatientDirectory {
 public:
  // One sealed file per patient, written and read through `env` (null: io::Env::Default()), which must outlive
  // the directory.
  static Result<std::unique_ptr<PatientDirectory>> Open(const std::filesystem::path& dir,
                                                        const identity::MasterKey& master_key, io::Env* env = nullptr);

  std::string PatientIdForMrn(std::string_view mrn) const;
  // Persists first, then publishes. "patient_exists" (409), "username_linked" (409).
  Status Add(const PatientRecord& record);
  // Removes a record that Add stored when the ledger refused the registration.
  void Remove(std::string_view patient_id);
  Result<PatientRecord> Get(std::string_view patient_id) const;  // "patient_not_found"
  std::optional<std::string> ForUsername(std::string_view username) const;
  // Case-insensitive substring match on the name or exact MRN; sorted by name.
  std::vector<PatientRecord> Search(std::string_view query) const;

 private:
  PatientDirectory(std::filesystem::path dir, io::Env* env, identity::SealedFiles sealer, std::string pseudonym_key)
      : dir_(std::move(dir)), env_(env), sealer_(std::move(sealer)), pseudonym_key_(std::move(pseudonym_key)) {}

  std::filesystem::path dir_;
  io::Env* env_;
  identity::SealedFiles sealer_;
  std::string pseudonym_key_;
  mutable std::shared_mutex mu_;
  std::map<std::string, PatientRecord, std::less<>> by_id_;
  std::map<std::string, std::string, std::less<>> by_username_;
};

}  // namespace medledger::service
