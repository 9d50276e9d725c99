#include "identity/user_directory.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/random.h"
#include "io/env.h"

namespace medledger::identity {
namespace {

constexpr int kVersion = 1;
constexpr size_t kMaxDisplayName = 200;

std::string FileStamp(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return "absent";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

Error Corrupt(const std::filesystem::path& file, std::string_view why) {
  return MakeError(ErrorKind::kCorruption, "user_directory_corrupt", file.string() + ": " + std::string(why));
}

Error NotFound(std::string_view username) {
  return MakeError(ErrorKind::kNotFound, "user_not_found", "no user '" + std::string(username.substr(0, 64)) + "'");
}

// Holds one of the directory's Argon2id slots for the scope's lifetime.
template <class Slots>
class HashSlot {
 public:
  explicit HashSlot(Slots& slots) : slots_(slots) { slots_.acquire(); }
  ~HashSlot() { slots_.release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;

 private:
  Slots& slots_;
};

}  // namespace

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kDoctor, Role::kPatient, Role::kAuditor}) {
    if (name == RoleName(r)) return r;
  }
  return MakeError(
      ErrorKind::kInvalidArgument, "bad_role",
      "role must be one of admin, doctor, patient, auditor (got '" + std::string(name.substr(0, 32)) + "')");
}

bool IsValidUsername(std::string_view username) {
  if (username.empty() || username.size() > 64) return false;
  for (size_t i = 0; i < username.size(); ++i) {
    char c = username[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

Status ValidateUsername(std::string_view username) {
  if (IsValidUsername(username)) return OkStatus();
  return MakeError(ErrorKind::kInvalidArgument, "bad_username",
                   "username must be 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
}

UserDirectory::UserDirectory(std::filesystem::path file, PasswordCost cost, io::Env* env)
    : file_(std::move(file)), env_(env != nullptr ? env : io::Env::Default()), cost_(cost) {
  lock_file_ = file_;
  lock_file_ += ".lock";
}

Result<std::unique_ptr<UserDirectory>> UserDirectory::Open(std::filesystem::path file, PasswordCost cost,
                                                           io::Env* env) {
  std::unique_ptr<UserDirectory> dir(new UserDirectory(std::move(file), cost, env));
  std::string stamp = FileStamp(dir->file_);
  ML_ASSIGN_OR_RETURN(dir->users_, dir->ReadFile());
  dir->file_stamp_ = std::move(stamp);
  return dir;
}

const std::string& UserDirectory::DummyHash() const {
  // A hash of a random password at the configured cost: unknown users are checked against it so that they
  // cost as much as known ones (whose hashes were made at the same cost).
  std::call_once(dummy_once_, [this] {
    HashSlot slot(hash_slots_);
    dummy_hash_ = HashPassword(crypto::RandomHex(16), cost_).value_or("");
  });
  return dummy_hash_;
}

Result<UserDirectory::Map> UserDirectory::ReadFile() const {
  auto text = io::ReadFile(*env_, file_, 256 * 1024 * 1024);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::kNotFound) return Map{};
    return text.error();
  }
  nlohmann::json doc = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupt(file_, "not a JSON object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != kVersion) {
    return Corrupt(file_, "unsupported version");
  }
  auto users = doc.find("users");
  if (users == doc.end() || !users->is_object()) return Corrupt(file_, "missing users object");
  Map out;
  for (const auto& [name, u] : users->items()) {
    if (!IsValidUsername(name) || !u.is_object()) return Corrupt(file_, "bad entry");
    const auto& entry = u;  // a structured binding cannot be captured before C++20 compilers catch up (clang 14)
    auto get_str = [&entry](const char* k) -> std::optional<std::string> {
      auto it = entry.find(k);
      if (it == entry.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto role_name = get_str("role");
    auto role = role_name ? ParseRole(*role_name) : Result<Role>(MakeError(ErrorKind::kCorruption, "", ""));
    auto cert = get_str("cert");
    auto hash = get_str("password_hash");
    auto display = get_str("display_name");
    auto created = get_str("created");
    auto disabled = u.find("disabled");
    if (!role.ok() || !cert || !hash || !display || !created || disabled == u.end() || !disabled->is_boolean()) {
      return Corrupt(file_, "entry '" + name + "' is incomplete");
    }
    // Absent in directories written before sessions had epochs: those are epoch 0.
    uint64_t generation = 0;
    if (auto g = u.find("token_generation"); g != u.end()) {
      if (!g->is_number_unsigned()) return Corrupt(file_, "entry '" + name + "' has a bad token_generation");
      generation = g->get<uint64_t>();
    }
    Record rec;
    rec.user = User{name, *role, *display, *cert, disabled->get<bool>(), !hash->empty(), *created, generation};
    rec.password_hash = *hash;
    out.emplace(name, std::move(rec));
  }
  return out;
}

Status UserDirectory::WriteFile(const Map& users) const {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [name, rec] : users) {
    entries[name] = {{"role", RoleName(rec.user.role)},
                     {"display_name", rec.user.display_name},
                     {"cert", rec.user.cert_pem},
                     {"password_hash", rec.password_hash},
                     {"disabled", rec.user.disabled},
                     {"created", rec.user.created},
                     {"token_generation", rec.user.token_generation}};
  }
  nlohmann::json doc = {{"version", kVersion}, {"users", std::move(entries)}};
  return io::WriteFileAtomic(*env_, file_, doc.dump(2) + "\n");
}

void UserDirectory::RefreshIfChanged() const {
  std::string stamp = FileStamp(file_);
  {
    std::shared_lock lock(mu_);
    if (stamp == file_stamp_) return;
  }
  auto fresh = ReadFile();
  if (!fresh.ok()) return;  // keep serving the last good copy; writers will report the corruption
  std::unique_lock lock(mu_);
  users_ = std::move(fresh).value();
  file_stamp_ = std::move(stamp);
}

template <class F>
Status UserDirectory::Update(F&& mutate) {
  std::lock_guard write_lock(write_mu_);
  ML_ASSIGN_OR_RETURN(auto file_lock, env_->LockFile(lock_file_, io::LockWait::kBlock));
  ML_ASSIGN_OR_RETURN(Map users, ReadFile());
  ML_RETURN_IF_ERROR(mutate(users));
  ML_RETURN_IF_ERROR(WriteFile(users));
  std::string stamp = FileStamp(file_);
  std::unique_lock lock(mu_);
  users_ = std::move(users);
  file_stamp_ = std::move(stamp);
  return OkStatus();
}

Status UserDirectory::AddUser(const User& user, const std::optional<std::string>& password) {
  ML_RETURN_IF_ERROR(ValidateUsername(user.username));
  if (user.display_name.size() > kMaxDisplayName || !IsValidUtf8(user.display_name)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_display_name", "display name must be UTF-8, at most 200 bytes");
  }
  std::string hash;
  if (password) {
    // Hashed before taking the lock: Argon2id is the slow part and needs no shared state.
    HashSlot slot(hash_slots_);
    ML_ASSIGN_OR_RETURN(hash, HashPassword(*password, cost_));
  }
  return Update([&](Map& users) -> Status {
    if (users.count(user.username) != 0) {
      return MakeError(ErrorKind::kAlreadyExists, "user_exists", "user '" + user.username + "' already exists");
    }
    Record rec{user, hash};
    rec.user.has_password = !hash.empty();
    if (rec.user.created.empty()) rec.user.created = Timestamp::Now().ToRfc3339();
    users.emplace(user.username, std::move(rec));
    return OkStatus();
  });
}

Result<User> UserDirectory::GetUser(std::string_view username) const {
  RefreshIfChanged();
  std::shared_lock lock(mu_);
  auto it = users_.find(username);
  if (it == users_.end()) return NotFound(username);
  return it->second.user;
}

std::vector<User> UserDirectory::ListUsers() const {
  RefreshIfChanged();
  std::shared_lock lock(mu_);
  std::vector<User> out;
  out.reserve(users_.size());
  for (const auto& [name, rec] : users_) out.push_back(rec.user);
  return out;
}

Result<User> UserDirectory::VerifyPassword(std::string_view username, std::string_view password) const {
  RefreshIfChanged();
  std::optional<User> user;
  std::string hash;
  {
    std::shared_lock lock(mu_);
    auto it = users_.find(username);
    if (it != users_.end() && !it->second.password_hash.empty()) {
      user = it->second.user;
      hash = it->second.password_hash;
    }
  }
  const std::string& expected = user ? hash : DummyHash();
  bool match = false;
  {
    HashSlot slot(hash_slots_);
    match = VerifyPasswordHash(expected, password);
  }
  if (!user || !match || user->disabled) {
    return MakeError(ErrorKind::kUnauthenticated, "invalid_credentials", "unknown user or wrong password");
  }
  return *user;
}

Status UserDirectory::SetPassword(std::string_view username, std::string_view password) {
  std::string hash;
  {
    HashSlot slot(hash_slots_);
    ML_ASSIGN_OR_RETURN(hash, HashPassword(password, cost_));
  }
  return Update([&](Map& users) -> Status {
    auto it = users.find(username);
    if (it == users.end()) return NotFound(username);
    it->second.password_hash = hash;
    it->second.user.has_password = true;
    ++it->second.user.token_generation;
    return OkStatus();
  });
}

Status UserDirectory::SetDisabled(std::string_view username, bool disabled) {
  return Update([&](Map& users) -> Status {
    auto it = users.find(username);
    if (it == users.end()) return NotFound(username);
    it->second.user.disabled = disabled;
    ++it->second.user.token_generation;
    return OkStatus();
  });
}

Status UserDirectory::EndSessions(std::string_view username) {
  return Update([&](Map& users) -> Status {
    auto it = users.find(username);
    if (it == users.end()) return NotFound(username);
    ++it->second.user.token_generation;
    return OkStatus();
  });
}

}  // namespace medledger::identity
