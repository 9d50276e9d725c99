// Bulk Data Groups (docs/FHIR.md, Bulk Data): administrator-defined lists of patients, each bound to one
// registered system client, which alone may export it (Group/{id}/$export). A Group grants nothing by itself:
// each member's export is read with the client's principal, so consent decides per patient. Sealed at rest
// (DATA/server/bulk-groups.sealed through io::Env), bounded in number and size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/sealed_file.h"
#include "io/env.h"

namespace medledger::service {

inline constexpr size_t kMaxBulkGroups = 100;
inline constexpr size_t kMaxGroupMembers = 1000;
inline constexpr size_t kMaxGroupNameBytes = 100;

struct BulkGroup {
  std::string id;
  std::string name;
  std::string client_id;             // the system client that may export it
  std::vector<std::string> members;  // patient IDs, unique, in the order given
  std::string created_by;
  int64_t created_at = 0;
};

struct BulkGroupInput {
  std::string name;
  std::string client_id;  // the caller checks it names a registered system client
  std::vector<std::string> members;
};

class BulkGroupRegistry {
 public:
  static Result<std::unique_ptr<BulkGroupRegistry>> Open(std::filesystem::path file,
                                                         const identity::MasterKey& master_key, io::Env* env = nullptr);

  // "validation_failed" (the field in the message), "too_many_groups" (409). Persisted before it is answered.
  Result<BulkGroup> Create(const BulkGroupInput& input, const std::string& created_by, int64_t now);
  Status Remove(const std::string& id);  // "group_not_found"
  std::vector<BulkGroup> List() const;
  std::optional<BulkGroup> Find(std::string_view id) const;

 private:
  BulkGroupRegistry(std::filesystem::path file, identity::SealedFiles sealer)
      : file_(std::move(file)), sealer_(std::move(sealer)) {}
  Status Load();
  Status PersistLocked() const;

  std::filesystem::path file_;
  identity::SealedFiles sealer_;
  mutable std::mutex mu_;
  std::vector<BulkGroup> groups_;
};

}  // namespace medledger::service
