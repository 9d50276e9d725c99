#include "content/pin_log.h"

#include <system_error>

#include "io/env.h"

namespace medledger::content {
namespace {

namespace fs = std::filesystem;

}  // namespace

Result<std::unique_ptr<PinLog>> PinLog::Open(const fs::path& dir, bool sync, io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  const fs::path file = dir / "pins.log";
  std::string text;
  auto existing = io::ReadFile(*env, file);
  if (existing.ok()) {
    text = std::move(*existing);
  } else if (existing.error().kind != ErrorKind::kNotFound) {
    return existing.error();
  }
  std::map<std::string, std::string> pins;
  std::string damage;
  size_t lines = 0;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // a torn last line: never acknowledged, dropped below
    const std::string_view line(text.data() + at, nl - at);
    ++lines;
    auto cid = line.size() > 1 ? Cid::Parse(line.substr(1)) : Result<Cid>(MakeError(ErrorKind::kCorruption, "", ""));
    if (!cid.ok() || (line[0] != '+' && line[0] != '-')) {
      if (damage.empty()) damage = "line " + std::to_string(lines) + " of " + file.string() + " is not a pin";
    } else if (line[0] == '+') {
      pins[cid->ToV1().ToString()] = std::string(line.substr(1));
    } else {
      pins.erase(cid->ToV1().ToString());
    }
    at = nl + 1;
  }
  // The layout of earlier versions: one file per pin. Imported, then removed once the log holds them.
  const fs::path legacy = dir / "pins";
  std::vector<fs::path> imported;
  std::error_code ec;
  if (fs::is_directory(legacy, ec)) {
    for (auto it = fs::directory_iterator(legacy, ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (it->path().filename().string().find(".tmp.") != std::string::npos) {
        imported.push_back(it->path());
        continue;
      }
      auto stored = io::ReadFile(*env, it->path());
      auto cid = stored.ok() ? Cid::Parse(*stored) : Result<Cid>(MakeError(ErrorKind::kCorruption, "", ""));
      if (!cid.ok()) {
        if (damage.empty()) damage = "pin file " + it->path().string() + " does not hold a CID";
        continue;  // left in place for a person to look at
      }
      pins[cid->ToV1().ToString()] = *stored;
      imported.push_back(it->path());
    }
  }
  // Rewritten when the log has a torn tail, legacy pins to absorb, or mostly superseded lines.
  if (at != text.size() || !imported.empty() || (damage.empty() && lines > 2 * pins.size() + 4096)) {
    std::string compact;
    if (!damage.empty()) compact = text.substr(0, at);  // keep the damaged log as it is, minus the torn tail
    for (const auto& [v1, original] : pins) compact += "+" + original + "\n";
    ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env, file, compact));
    for (const auto& p : imported) ML_RETURN_IF_ERROR(io::RemoveFileDurably(*env, p));
    if (!imported.empty()) fs::remove(legacy, ec);  // only if now empty
  }
  ML_ASSIGN_OR_RETURN(std::shared_ptr<io::WritableFile> out, env->OpenAppendable(file));
  ML_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file));
  std::unique_ptr<PinLog> log(new PinLog(file, env, std::move(out), size, sync));
  log->pins_ = std::move(pins);
  log->damage_ = std::move(damage);
  if (!existing.ok()) ML_RETURN_IF_ERROR(env->SyncDir(dir));
  return log;
}

Status PinLog::AppendLine(char op, const std::string& cid_text) {
  const std::string line = op + cid_text + "\n";
  if (out_ == nullptr) {
    // A failed append left a fragment that could not be cut off then: a fragment left in place would join the
    // next line into one that does not parse, and the log would read as damaged from then on.
    ML_RETURN_IF_ERROR(env_->Truncate(file_, size_));
    ML_ASSIGN_OR_RETURN(out_, env_->OpenAppendable(file_));
  }
  Status written = out_->Append(line);
  if (!written.ok()) {
    out_.reset();
    if (env_->Truncate(file_, size_).ok()) {
      auto reopened = env_->OpenAppendable(file_);
      if (reopened.ok()) out_ = std::move(*reopened);
    }
    return written;
  }
  size_ += line.size();
  return OkStatus();
}

// Outside the lock: concurrent changes share a flush instead of queueing one behind the other. Also run when
// the change was already there, since the caller that made it may still be flushing.
Status PinLog::Flush() {
  if (!sync_) return OkStatus();
  std::shared_ptr<io::WritableFile> out;
  {
    std::lock_guard lock(mu_);
    out = out_;
  }
  if (out == nullptr) return MakeError(ErrorKind::kIoError, "io_error", "the pin log " + file_.string() + " is closed");
  return out->Sync();
}

Status PinLog::Add(const Cid& cid) {
  const std::string key = cid.ToV1().ToString();
  const std::string text = cid.ToString();
  {
    std::lock_guard lock(mu_);
    if (pins_.count(key) == 0) {
      ML_RETURN_IF_ERROR(AppendLine('+', text));
      pins_[key] = text;
    }
  }
  return Flush();
}

Status PinLog::Remove(const Cid& cid) {
  const std::string key = cid.ToV1().ToString();
  {
    std::lock_guard lock(mu_);
    auto it = pins_.find(key);
    if (it == pins_.end()) return MakeError(ErrorKind::kNotFound, "not_pinned", cid.ToString() + " is not pinned");
    ML_RETURN_IF_ERROR(AppendLine('-', it->second));
    pins_.erase(it);
  }
  return Flush();
}

bool PinLog::Contains(const Cid& cid) const {
  std::lock_guard lock(mu_);
  return pins_.count(cid.ToV1().ToString()) != 0;
}

Result<std::vector<std::string>> PinLog::List() const {
  std::lock_guard lock(mu_);
  if (!damage_.empty()) return MakeError(ErrorKind::kCorruption, "pin_corrupted", damage_);
  std::vector<std::string> out;
  out.reserve(pins_.size());
  for (const auto& [v1, original] : pins_) out.push_back(original);
  return out;
}

}  // namespace medledger::content
