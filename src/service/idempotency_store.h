// Idempotency-Key for POST /reports: per user, durable. The first request with a key reserves it; its
// receipt is stored (DATA/server/idempotency/<sha256(user,key)>.json) once the report is committed, and a
// retry with the same key and body gets that receipt back instead of a second report.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"

namespace medledger::service {

class IdempotencyStore {
 public:
  // Records are written and read through `env` (null: io::Env::Default()), which must outlive the store.
  static Result<std::unique_ptr<IdempotencyStore>> Open(const std::filesystem::path& dir, io::Env* env = nullptr);

  struct Begin {
    std::optional<std::string> stored_result;  // a completed earlier attempt: replay it
  };
  // "idempotency_key_invalid" (400), "idempotency_key_reused" (422: same key, different request),
  // "idempotency_in_progress" (409: the first attempt is still running).
  Result<Begin> Start(std::string_view user, std::string_view key, std::string_view request_hash);
  Status Complete(std::string_view user, std::string_view key, std::string_view request_hash, std::string_view result);
  void Abandon(std::string_view user, std::string_view key);  // the attempt failed: the key may be reused

 private:
  IdempotencyStore(std::filesystem::path dir, io::Env* env) : dir_(std::move(dir)), env_(env) {}
  std::filesystem::path PathFor(std::string_view user, std::string_view key) const;

  std::filesystem::path dir_;
  io::Env* env_;
  std::mutex mu_;
  std::set<std::string, std::less<>> in_progress_;
};

}  // namespace medledger::service
