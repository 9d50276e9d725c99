#include "service/idempotency_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/private_dir.h"
#include "crypto/hash.h"
#include "identity/sealed_file.h"
#include "io/env.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

std::string Slot(std::string_view user, std::string_view key) {
  return HexEncode(crypto::Sha256(std::string(user) + '\0' + std::string(key)));
}

}  // namespace

Result<std::unique_ptr<IdempotencyStore>> IdempotencyStore::Open(const std::filesystem::path& dir, io::Env* env) {
  ML_RETURN_IF_ERROR(CreatePrivateDirectories(dir));
  return std::unique_ptr<IdempotencyStore>(new IdempotencyStore(dir, env != nullptr ? env : io::Env::Default()));
}

std::filesystem::path IdempotencyStore::PathFor(std::string_view user, std::string_view key) const {
  return dir_ / (Slot(user, key) + ".json");
}

Result<IdempotencyStore::Begin> IdempotencyStore::Start(std::string_view user, std::string_view key,
                                                        std::string_view request_hash) {
  if (key.empty() || key.size() > 128 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return MakeError(ErrorKind::kInvalidArgument, "idempotency_key_invalid",
                     "Idempotency-Key must be 1-128 visible ASCII characters");
  }
  std::lock_guard lock(mu_);
  std::string slot = Slot(user, key);
  auto stored = io::ReadFile(*env_, PathFor(user, key));
  if (stored.ok()) {
    json j = json::parse(*stored, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j["hash"].is_string() || !j["result"].is_string()) {
      return MakeError(ErrorKind::kCorruption, "idempotency_store_corrupt", "stored idempotency record is bad");
    }
    if (j["hash"].get<std::string>() != request_hash) {
      return MakeError(ErrorKind::kInvalidArgument, "idempotency_key_reused",
                       "this Idempotency-Key was used for a different request");
    }
    return Begin{j["result"].get<std::string>()};
  }
  if (stored.error().code != "not_found") return stored.error();
  if (!in_progress_.insert(slot).second) {
    return MakeError(ErrorKind::kConflict, "idempotency_in_progress", "a request with this key is in progress");
  }
  return Begin{};
}

Status IdempotencyStore::Complete(std::string_view user, std::string_view key, std::string_view request_hash,
                                  std::string_view result) {
  json j = {{"hash", request_hash}, {"result", result}};
  Status s = io::WriteFileAtomic(*env_, PathFor(user, key), j.dump());
  std::lock_guard lock(mu_);
  in_progress_.erase(Slot(user, key));
  return s;
}

void IdempotencyStore::Abandon(std::string_view user, std::string_view key) {
  std::lock_guard lock(mu_);
  in_progress_.erase(Slot(user, key));
}

}  // namespace medledger::service
