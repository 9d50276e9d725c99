#include "service/user_event_outbox.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

constexpr const char* kFile = "user-events.outbox";
constexpr const char* kLock = "user-events.outbox.lock";
std::string Line(const PendingUserEvent& e) {
  return json{{"action", e.action}, {"username", e.username}, {"admin", e.admin}}.dump();
}

Result<std::vector<PendingUserEvent>> ReadAll(io::Env& env, const std::filesystem::path& file, size_t max_bytes) {
  std::vector<PendingUserEvent> out;
  auto text = io::ReadFile(env, file, max_bytes + 4096);
  if (!text.ok()) {
    if (text.error().code == "not_found") return out;
    return text.error();
  }
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a torn last line of a crashed writer: atomic replace makes this rare
    out.push_back({j.value("action", ""), j.value("username", ""), j.value("admin", "")});
  }
  return out;
}

Status WriteAll(io::Env& env, const std::filesystem::path& file, const std::vector<PendingUserEvent>& events) {
  std::string text;
  for (const auto& e : events) text += Line(e) + "\n";
  return io::WriteFileAtomic(env, file, text);
}

bool Permanent(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kNotFound:
    case ErrorKind::kAlreadyExists:
    case ErrorKind::kPermissionDenied: return true;
    default: return false;
  }
}

}  // namespace

UserEventOutbox::UserEventOutbox(std::filesystem::path data_dir, size_t max_bytes, io::Env* env)
    : dir_(std::move(data_dir) / "server"), max_bytes_(max_bytes), env_(env != nullptr ? env : io::Env::Default()) {}

Status UserEventOutbox::Append(const PendingUserEvent& event) {
  ML_RETURN_IF_ERROR(io::MakeDirectory(dir_, 0700));
  ML_ASSIGN_OR_RETURN(auto lock, env_->LockFile(dir_ / kLock, io::LockWait::kBlock));
  const std::string line = Line(event);
  const std::string path = (dir_ / kFile).string();
  auto size = env_->FileSize(path);
  if (!size.ok() && size.error().kind != ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kIoError, "outbox_io", "cannot stat the user change outbox");
  }
  if ((size.ok() ? *size : 0) + line.size() + 1 > max_bytes_) {
    return MakeError(ErrorKind::kResourceExhausted, "outbox_full",
                     "too many user changes await the server; start `medledger serve` to record them");
  }
  // A line cut short by a failed or interrupted append is cut off or set apart, so it never swallows this one.
  if (Status s = io::AppendLineDurably(*env_, path, line); !s.ok()) {
    return MakeError(ErrorKind::kIoError, "outbox_io", "cannot write the user change outbox: " + s.error().message);
  }
  return OkStatus();
}

Result<size_t> UserEventOutbox::Drain(const std::function<Status(const PendingUserEvent&)>& record) {
  auto exists = env_->FileExists((dir_ / kFile).string());
  if (!exists.ok() || !*exists) return size_t{0};
  ML_ASSIGN_OR_RETURN(auto lock, env_->LockFile(dir_ / kLock, io::LockWait::kBlock));
  ML_ASSIGN_OR_RETURN(auto events, ReadAll(*env_, dir_ / kFile, max_bytes_));
  std::vector<PendingUserEvent> keep;
  size_t recorded = 0;
  for (const auto& e : events) {
    Status s = record(e);
    if (s.ok()) {
      ++recorded;
    } else if (!Permanent(s.error())) {
      keep.push_back(e);
    }
  }
  if (keep.size() != events.size()) ML_RETURN_IF_ERROR(WriteAll(*env_, dir_ / kFile, keep));
  return recorded;
}

}  // namespace medledger::service
