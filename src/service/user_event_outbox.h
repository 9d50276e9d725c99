// User administration done with the CLI (`medledger user add|passwd|disable|enable|import`) must reach the ledger
// too, but the embedded ledger belongs to the running server. So the CLI appends the change here
// (DATA/server/user-events.outbox, one JSON object a line, 0600) and the server records each one on the ledger,
// signed by the administrator the CLI named, at start and every few seconds, removing what it recorded. A change
// made while no server runs waits for the next `serve`.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "common/result.h"
#include "io/env.h"

namespace medledger::service {

struct PendingUserEvent {
  std::string action;    // enrolled | disabled | enabled | password_reset
  std::string username;  // the subject's login (a local file: never written to the ledger)
  std::string admin;     // the administrator the CLI named as acting
};

class UserEventOutbox {
 public:
  // Pending entries are bounded by size (about 10,000 changes); a CLI change beyond it is refused, not lost.
  static constexpr size_t kDefaultMaxBytes = 1024 * 1024;

  // The outbox and its lock go through `env` (null: io::Env::Default()), which must outlive this.
  explicit UserEventOutbox(std::filesystem::path data_dir, size_t max_bytes = kDefaultMaxBytes, io::Env* env = nullptr);

  // Appends one line and fsyncs it, under the outbox lock. "outbox_full" when the file would exceed max_bytes.
  Status Append(const PendingUserEvent& event);
  // Calls `record` for each pending event in order. Recorded events and those refused for good (invalid,
  // not found, already exists, denied) leave the outbox; the rest (ledger unavailable) stay for the next drain.
  // Returns how many were recorded.
  Result<size_t> Drain(const std::function<Status(const PendingUserEvent&)>& record);

 private:
  std::filesystem::path dir_;
  size_t max_bytes_;
  io::Env* env_;
};

}  // namespace medledger::service
