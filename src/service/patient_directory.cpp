#include "service/patient_directory.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/private_dir.h"
#include "crypto/hash.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

std::string Aad(std::string_view id) {
  return "medledger patient v1:" + std::string(id);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsPatientId(std::string_view id) {
  return id.size() == 64 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<std::unique_ptr<PatientDirectory>> PatientDirectory::Open(const std::filesystem::path& dir,
                                                                 const identity::MasterKey& master_key, io::Env* env) {
  ML_RETURN_IF_ERROR(CreatePrivateDirectories(dir));
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "patient-directory", env));
  std::error_code ec;
  ML_ASSIGN_OR_RETURN(auto pkey, master_key.Derive("patient-pseudonym", "medledger-server"));
  std::unique_ptr<PatientDirectory> d(
      new PatientDirectory(dir, env != nullptr ? env : io::Env::Default(), std::move(sealer), std::move(pkey)));
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() != ".sealed") continue;
    std::string id = name.substr(0, name.size() - 7);
    if (!IsPatientId(id)) continue;
    ML_ASSIGN_OR_RETURN(auto plain, d->sealer_.Read(entry.path(), Aad(id)));
    json j = json::parse(plain, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return MakeError(ErrorKind::kCorruption, "patient_directory_corrupt", "bad patient record " + id);
    }
    PatientRecord r;
    r.patient_id = id;
    r.mrn = j.value("mrn", "");
    r.name = j.value("name", "");
    r.birth_date = j.value("birthDate", "");
    r.username = j.value("username", "");
    r.created = j.value("created", "");
    if (!r.username.empty()) d->by_username_[r.username] = id;
    d->by_id_[id] = std::move(r);
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list " + dir.string());
  return d;
}

std::string PatientDirectory::PatientIdForMrn(std::string_view mrn) const {
  return HexEncode(crypto::HmacSha256(pseudonym_key_, mrn));
}

Status PatientDirectory::Add(const PatientRecord& r) {
  std::unique_lock lock(mu_);
  if (by_id_.count(r.patient_id)) {
    return MakeError(ErrorKind::kAlreadyExists, "patient_exists", "a patient with this MRN is registered");
  }
  if (!r.username.empty() && by_username_.count(r.username)) {
    return MakeError(ErrorKind::kAlreadyExists, "username_linked", "this login is linked to another patient");
  }
  json j = {
      {"mrn", r.mrn}, {"name", r.name}, {"birthDate", r.birth_date}, {"username", r.username}, {"created", r.created}};
  ML_RETURN_IF_ERROR(sealer_.Write(dir_ / (r.patient_id + ".sealed"), j.dump(), Aad(r.patient_id)));
  if (!r.username.empty()) by_username_[r.username] = r.patient_id;
  by_id_[r.patient_id] = r;
  return OkStatus();
}

void PatientDirectory::Remove(std::string_view patient_id) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(patient_id);
  if (it == by_id_.end()) return;
  if (!it->second.username.empty()) by_username_.erase(it->second.username);
  (void)env_->RemoveFile((dir_ / (std::string(patient_id) + ".sealed")).string());  // best effort, as before
  by_id_.erase(it);
}

Result<PatientRecord> PatientDirectory::Get(std::string_view patient_id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(patient_id);
  if (it == by_id_.end()) return MakeError(ErrorKind::kNotFound, "patient_not_found", "no such patient");
  return it->second;
}

std::optional<std::string> PatientDirectory::ForUsername(std::string_view username) const {
  std::shared_lock lock(mu_);
  auto it = by_username_.find(username);
  if (it == by_username_.end()) return std::nullopt;
  return it->second;
}

std::vector<PatientRecord> PatientDirectory::Search(std::string_view query) const {
  std::string q = Lower(query);
  std::vector<PatientRecord> out;
  std::shared_lock lock(mu_);
  for (const auto& [id, r] : by_id_) {
    if (q.empty() || Lower(r.name).find(q) != std::string::npos || r.mrn == query) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace medledger::service
