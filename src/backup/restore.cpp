#include "backup/restore.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "backup/encrypted_file.h"
#include "backup/errors.h"
#include "backup/manifest.h"
#include "common/encoding.h"
#include "crypto/hash.h"
#include "io/env.h"

namespace medledger::backup {
namespace fs = std::filesystem;
namespace {

// Marks a directory as a restore in progress, so a later restore may remove what a killed one left.
constexpr char kMarker[] = ".medledger-restoring";

using Sink = std::function<Status(std::string_view)>;

class Restorer {
 public:
  Restorer(const RestoreOptions& o, std::vector<OpenedManifest> chain) : o_(o), chain_(std::move(chain)) {}

  // Writes the plaintext of `path` as of chain_[level] to `sink`.
  Status Emit(size_t level, const ManifestEntry& e, const Sink& sink) {
    const Manifest& m = chain_[level].manifest;
    if (e.kind == EntryKind::kFull) return Decrypt(level, e.path, sink);
    const ManifestEntry* prev = level + 1 < chain_.size() ? chain_[level + 1].manifest.Find(e.path) : nullptr;
    const std::string where = BackupDirName(m.number) + " " + e.path;
    if (prev == nullptr) return ChainBroken(where + " builds on a parent backup that does not hold the file");
    if (e.kind == EntryKind::kUnchanged) {
      if (prev->size != e.size || prev->sha256 != e.sha256) {
        return ChainBroken(where + " is recorded unchanged but its parent's copy differs");
      }
      return Emit(level + 1, *prev, sink);
    }
    if (prev->size != e.offset) return ChainBroken(where + " continues at an offset its parent's copy does not end at");
    crypto::Sha256Hasher parent_hash;
    ML_RETURN_IF_ERROR(Emit(level + 1, *prev, [&](std::string_view d) {
      parent_hash.Update(d);
      return sink(d);
    }));
    if (HexEncode(parent_hash.Finish()) != prev->sha256) {
      return Corrupted(BackupDirName(chain_[level + 1].manifest.number) + " " + e.path,
                       "its SHA-256 differs from the manifest");
    }
    return Decrypt(level, e.path, sink);
  }

  Status RestoreFile(const fs::path& root, const ManifestEntry& e) {
    const fs::path out = root / e.path;
    ML_RETURN_IF_ERROR(env_.CreateDirs(out.parent_path()));
    for (fs::path d = out.parent_path(); d != root && dirs_.insert(d).second; d = d.parent_path()) {
    }
    ML_ASSIGN_OR_RETURN(auto file, env_.CreateExclusive(out.string(), 0600));
    crypto::Sha256Hasher hasher;
    uint64_t size = 0;
    ML_RETURN_IF_ERROR(Emit(0, e, [&](std::string_view d) {
      hasher.Update(d);
      size += d.size();
      done_ += d.size();
      if (o_.progress) o_.progress(done_, total_);
      return file->Append(d);
    }));
    if (size != e.size || HexEncode(hasher.Finish()) != e.sha256) {
      return Corrupted(e.path, "the restored file's size or SHA-256 differs from the manifest of " +
                                   BackupDirName(chain_[0].manifest.number));
    }
    ML_RETURN_IF_ERROR(file->Sync());
    return file->Close();
  }

  Status SyncDirs() {
    for (const auto& d : dirs_) ML_RETURN_IF_ERROR(env_.SyncDir(d));
    return OkStatus();
  }
  void SetTotal(uint64_t total) { total_ = total; }
  uint64_t done() const { return done_; }

 private:
  Status Decrypt(size_t level, const std::string& path, const Sink& sink) {
    const auto& [m, keys] = chain_[level];
    const std::string stored = BackupDirName(m.number) + "/" + StoredName(keys, path);
    return DecryptFile(env_, o_.from / stored, keys.file_key, m.backup_id, path, stored + " (" + path + ")", sink);
  }

  const RestoreOptions& o_;
  io::Env& env_ = *o_.env;
  std::vector<OpenedManifest> chain_;
  std::set<fs::path> dirs_;
  uint64_t done_ = 0;
  uint64_t total_ = 0;
};

Status CheckTargetEmpty(const fs::path& dir) {
  std::error_code ec;
  auto status = fs::symlink_status(dir, ec);
  if (ec || status.type() == fs::file_type::not_found) return OkStatus();
  if (!fs::is_directory(status) || !fs::is_empty(dir, ec) || ec) {
    return MakeError(ErrorKind::kInvalidArgument, "data_dir_not_empty",
                     dir.string() + " exists and is not an empty directory; restore into a new one");
  }
  return OkStatus();
}

// Reads the manifests from `number` back to its full backup, checking each link.
Result<std::vector<OpenedManifest>> LoadChain(io::Env& env, const fs::path& from, uint64_t number,
                                              std::string_view secret) {
  std::vector<OpenedManifest> chain;
  ML_ASSIGN_OR_RETURN(auto first, ReadManifest(env, from / BackupDirName(number), secret));
  chain.push_back(std::move(first));
  while (chain.back().manifest.parent_number) {
    const Manifest& child = chain.back().manifest;
    const uint64_t parent = *child.parent_number;
    const fs::path dir = from / BackupDirName(parent);
    if (parent >= child.number) return ChainBroken(BackupDirName(child.number) + " names a later backup as parent");
    ML_ASSIGN_OR_RETURN(const bool present, env.FileExists(dir));
    if (!present) {
      return ChainBroken(BackupDirName(child.number) + " is incremental on " + BackupDirName(parent) +
                         ", which is missing");
    }
    auto opened = ReadManifest(env, dir, secret);
    if (!opened.ok()) {
      if (opened.error().code == "backup_incomplete") {
        return ChainBroken(BackupDirName(child.number) + " is incremental on " + BackupDirName(parent) +
                           ", which has no manifest");
      }
      return opened.error();
    }
    if (opened->manifest.backup_id != child.parent_id) {
      return ChainBroken(BackupDirName(parent) + " is not the backup " + BackupDirName(child.number) +
                         " was taken after (its id is " + opened->manifest.backup_id + ", expected " + child.parent_id +
                         ")");
    }
    chain.push_back(std::move(opened).value());
  }
  return chain;
}

}  // namespace

fs::path RestoringDirFor(const fs::path& data_dir) {
  fs::path p = data_dir.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  p += ".restoring";
  return p;
}

Result<RestoreSummary> RunRestore(const RestoreOptions& o) {
  ML_RETURN_IF_ERROR(CheckTargetEmpty(o.data_dir));
  ML_ASSIGN_OR_RETURN(auto numbers, ListBackups(o.from));
  if (numbers.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "backup_not_found", "no backup-NNNNNN in " + o.from.string());
  }
  const uint64_t number = o.number.value_or(numbers.back());
  if (std::find(numbers.begin(), numbers.end(), number) == numbers.end()) {
    return MakeError(ErrorKind::kInvalidArgument, "backup_not_found",
                     BackupDirName(number) + " is not in " + o.from.string());
  }
  io::Env& env = *o.env;
  auto chain = LoadChain(env, o.from, number, o.secret);
  if (!chain.ok()) {
    Error e = chain.error();
    // Point the operator at the newest backup that did finish.
    if (e.code == "backup_incomplete" && !o.number) {
      for (auto it = numbers.rbegin(); it != numbers.rend(); ++it) {
        if (*it == number) continue;
        if (ReadManifest(env, o.from / BackupDirName(*it), o.secret).ok()) {
          e.message +=
              "; the newest complete backup is " + BackupDirName(*it) + " (--backup " + std::to_string(*it) + ")";
          break;
        }
      }
    }
    return e;
  }

  const fs::path staging = RestoringDirFor(o.data_dir);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(staging, ec))) {
    // What a killed restore left is ours to remove; anything else there is not.
    if (!fs::exists(staging / kMarker, ec)) {
      return MakeError(ErrorKind::kInvalidArgument, "data_dir_not_empty",
                       staging.string() + " exists and was not left by a restore; move it away");
    }
    fs::remove_all(staging, ec);
    if (ec) return IoError("remove", staging.string(), ec.value());
  }
  if (staging.has_parent_path()) ML_RETURN_IF_ERROR(env.CreateDirs(staging.parent_path()));
  ML_RETURN_IF_ERROR(env.CreateDirs(staging));

  RestoreSummary summary;
  const Manifest target = chain->front().manifest;  // a copy: the chain moves into the restorer
  summary.number = target.number;
  summary.backup_id = target.backup_id;
  summary.height = target.ledger_height;
  summary.last_block_hash = target.last_block_hash;
  summary.created = target.created;
  for (const auto& link : *chain) summary.chain.push_back(link.manifest.number);
  summary.files = target.files.size();
  uint64_t total = 0;
  for (const auto& f : target.files) total += f.size;

  Restorer restorer(o, std::move(chain).value());
  restorer.SetTotal(total);
  // Everything from the marker on is undone on failure: the staging directory is ours from here (created above,
  // or a killed restore's), so a refused restore leaves nothing that would block the next one.
  auto built = [&]() -> Status {
    ML_RETURN_IF_ERROR(io::WriteFileAtomic(env, staging / kMarker, ""));
    for (const auto& f : target.files) ML_RETURN_IF_ERROR(restorer.RestoreFile(staging, f));
    ML_RETURN_IF_ERROR(restorer.SyncDirs());
    return env.SyncDir(staging);
  }();
  if (!built.ok()) {
    fs::remove_all(staging, ec);
    return built.error();
  }
  // The complete copy takes NEW's name (an empty NEW was allowed and gives way) with its marker still inside, so
  // that a power cut before the name is durable leaves a staging directory the next restore may replace. A
  // failed sync of the name takes the copy back: a refused restore leaves no NEW behind.
  fs::remove(o.data_dir, ec);
  Status placed = env.RenameFile(staging, o.data_dir);
  const fs::path parent = fs::absolute(o.data_dir, ec).lexically_normal().parent_path();
  if (placed.ok()) {
    placed = env.SyncDir(parent);
    if (!placed.ok() && env.RenameFile(o.data_dir, staging).ok()) fs::remove_all(staging, ec);
  } else {
    fs::remove_all(staging, ec);
  }
  if (!placed.ok()) return placed.error();
  // Last, the marker: NEW is complete whether or not its removal survives a power cut.
  auto unmarked = env.RemoveFile(o.data_dir / kMarker);
  if (unmarked.ok()) unmarked = env.SyncDir(o.data_dir);
  if (!unmarked.ok()) {
    Error e = unmarked.error();
    e.message += "; the restore into " + o.data_dir.string() + " is complete: delete its " + kMarker + " file";
    return e;
  }
  summary.bytes = restorer.done();
  return summary;
}

}  // namespace medledger::backup
