#include "service/user_event_outbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  return json{{"action", e.action}, {"username", e.username}, {"admin", e.admin}}.dump() + "\n";
}

Result<std::vector<PendingUserEvent>> ReadAll(const std::filesystem::path& file, size_t max_bytes) {
  std::vector<PendingUserEvent> out;
  auto text = io::ReadFile(*io::Env::Default(), file, max_bytes + 4096);
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

Status WriteAll(const std::filesystem::path& file, const std::vector<PendingUserEvent>& events) {
  std::string text;
  for (const auto& e : events) text += Line(e);
  return io::WriteFileAtomic(*io::Env::Default(), file, text);
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

UserEventOutbox::UserEventOutbox(std::filesystem::path data_dir, size_t max_bytes)
    : dir_(std::move(data_dir) / "server"), max_bytes_(max_bytes) {}

Status UserEventOutbox::Append(const PendingUserEvent& event) {
  ML_RETURN_IF_ERROR(io::MakeDirectory(dir_, 0700));
  ML_ASSIGN_OR_RETURN(auto lock, io::Env::Default()->LockFile(dir_ / kLock, io::LockWait::kBlock));
  const std::string line = Line(event);
  const std::string path = (dir_ / kFile).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorKind::kIoError, "outbox_io", "cannot open the user change outbox");
  struct stat st {};
  Status result = OkStatus();
  if (::fstat(fd, &st) != 0) {
    result = MakeError(ErrorKind::kIoError, "outbox_io", "cannot stat the user change outbox");
  } else if (static_cast<size_t>(st.st_size) + line.size() > max_bytes_) {
    result = MakeError(ErrorKind::kResourceExhausted, "outbox_full",
                       "too many user changes await the server; start `medledger serve` to record them");
  } else if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd) != 0) {
    result = MakeError(ErrorKind::kIoError, "outbox_io", "cannot write the user change outbox");
  }
  ::close(fd);
  return result;
}

Result<size_t> UserEventOutbox::Drain(const std::function<Status(const PendingUserEvent&)>& record) {
  std::error_code ec;
  if (!std::filesystem::exists(dir_ / kFile, ec)) return size_t{0};
  ML_ASSIGN_OR_RETURN(auto lock, io::Env::Default()->LockFile(dir_ / kLock, io::LockWait::kBlock));
  ML_ASSIGN_OR_RETURN(auto events, ReadAll(dir_ / kFile, max_bytes_));
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
  if (keep.size() != events.size()) ML_RETURN_IF_ERROR(WriteAll(dir_ / kFile, keep));
  return recorded;
}

}  // namespace medledger::service
