#include "service/bulk_groups.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "crypto/random.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
constexpr std::string_view kAad = "medledger bulk groups v1";

Error Invalid(const std::string& message) {
  return MakeError(ErrorKind::kInvalidArgument, "validation_failed", message);
}

// Patient IDs are the directory's: letters, digits, '-', '_', '.'.
bool ValidPatientId(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

Result<std::unique_ptr<BulkGroupRegistry>> BulkGroupRegistry::Open(std::filesystem::path file,
                                                                   const identity::MasterKey& master_key,
                                                                   io::Env* env) {
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "bulk-groups", env));
  std::unique_ptr<BulkGroupRegistry> r(new BulkGroupRegistry(std::move(file), std::move(sealer)));
  ML_RETURN_IF_ERROR(r->Load());
  return r;
}

Status BulkGroupRegistry::Load() {
  auto text = sealer_.Read(file_, kAad);
  if (!text.ok()) return text.error().code == "not_found" ? OkStatus() : Status(text.error());
  json j = json::parse(*text, nullptr, false);
  auto corrupt = [] {
    return MakeError(ErrorKind::kCorruption, "bulk_groups_corrupt", "the bulk group store is corrupt");
  };
  if (!j.is_object() || !j.contains("groups") || !j["groups"].is_array()) return corrupt();
  try {
    for (const auto& g : j["groups"]) {
      BulkGroup group;
      group.id = g.at("id").get<std::string>();
      group.name = g.at("name").get<std::string>();
      group.client_id = g.at("clientId").get<std::string>();
      group.members = g.at("members").get<std::vector<std::string>>();
      group.created_by = g.at("createdBy").get<std::string>();
      group.created_at = g.at("createdAt").get<int64_t>();
      groups_.push_back(std::move(group));
    }
  } catch (const json::exception&) {
    return corrupt();
  }
  return OkStatus();
}

Status BulkGroupRegistry::PersistLocked() const {
  json groups = json::array();
  for (const auto& g : groups_) {
    groups.push_back({{"id", g.id},
                      {"name", g.name},
                      {"clientId", g.client_id},
                      {"members", g.members},
                      {"createdBy", g.created_by},
                      {"createdAt", g.created_at}});
  }
  return sealer_.Write(file_, json{{"version", 1}, {"groups", std::move(groups)}}.dump(), kAad);
}

Result<BulkGroup> BulkGroupRegistry::Create(const BulkGroupInput& input, const std::string& created_by, int64_t now) {
  if (input.name.empty() || input.name.size() > kMaxGroupNameBytes || !IsValidUtf8(input.name) ||
      std::any_of(input.name.begin(), input.name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Invalid("name: 1 to 100 characters of text");
  }
  if (input.client_id.empty() || input.client_id.size() > 64) return Invalid("clientId: a system client's ID");
  if (input.members.empty() || input.members.size() > kMaxGroupMembers) return Invalid("members: 1 to 1000 patients");
  std::set<std::string> seen;
  for (const auto& m : input.members) {
    if (!ValidPatientId(m)) return Invalid("members: \"" + m.substr(0, 64) + "\" is not a patient ID");
    if (!seen.insert(m).second) return Invalid("members: " + m + " is listed twice");
  }
  BulkGroup g;
  g.id = crypto::RandomHex(16);
  g.name = input.name;
  g.client_id = input.client_id;
  g.members = input.members;
  g.created_by = created_by;
  g.created_at = now;
  std::lock_guard lock(mu_);
  if (groups_.size() >= kMaxBulkGroups) {
    return MakeError(ErrorKind::kAlreadyExists, "too_many_groups", "at most 100 groups can be defined");
  }
  groups_.push_back(g);
  if (Status s = PersistLocked(); !s.ok()) {
    groups_.pop_back();
    return s.error();
  }
  return g;
}

Status BulkGroupRegistry::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(groups_.begin(), groups_.end(), [&](const BulkGroup& g) { return g.id == id; });
  if (it == groups_.end()) return MakeError(ErrorKind::kNotFound, "group_not_found", "no group has this ID");
  BulkGroup removed = std::move(*it);
  auto at = groups_.erase(it);
  if (Status s = PersistLocked(); !s.ok()) {
    groups_.insert(at, std::move(removed));
    return s;
  }
  return OkStatus();
}

std::vector<BulkGroup> BulkGroupRegistry::List() const {
  std::lock_guard lock(mu_);
  return groups_;
}

std::optional<BulkGroup> BulkGroupRegistry::Find(std::string_view id) const {
  std::lock_guard lock(mu_);
  for (const auto& g : groups_) {
    if (g.id == id) return g;
  }
  return std::nullopt;
}

}  // namespace medledger::service
