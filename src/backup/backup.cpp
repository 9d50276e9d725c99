#include "backup/backup.h"

#include <algorithm>
#include <initializer_list>
#include <system_error>

#include "backup/encrypted_file.h"
#include "backup/errors.h"
#include "backup/manifest.h"
#include "common/encoding.h"
#include "common/private_dir.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "io/env.h"

namespace medledger::backup {
namespace fs = std::filesystem;
namespace {

class BackupRun {
 public:
  BackupRun(const BackupOptions& options, Manifest manifest, BackupKeys keys, std::optional<Manifest> parent,
            fs::path dir)
      : o_(options),
        m_(std::move(manifest)),
        keys_(std::move(keys)),
        parent_(std::move(parent)),
        dir_(std::move(dir)) {}

  // Copies `rel`: at most `limit` bytes (block files), else the size when it is opened. A file that vanished
  // since it was listed is skipped.
  Status Copy(const std::string& rel, std::optional<uint64_t> limit) {
    const fs::path src = o_.data_dir / rel;
    auto opened = env_.OpenRandomAccess(src.string());
    if (!opened.ok()) {
      if (opened.error().kind == ErrorKind::kNotFound) return OkStatus();
      return opened.error();
    }
    const io::RandomAccessFile& in = **opened;
    auto size = env_.FileSize(src.string());
    if (!size.ok()) return size.error();
    uint64_t length = *size;
    if (limit) {
      if (*limit > length) {
        return MakeError(ErrorKind::kCorruption, "block_file_short",
                         rel + " is shorter than the block index says; run medledger verify");
      }
      length = *limit;
    }
    ManifestEntry e;
    e.path = rel;
    e.size = length;
    const ManifestEntry* prev = parent_ ? parent_->Find(rel) : nullptr;
    crypto::Sha256Hasher whole;
    if (prev != nullptr && prev->size <= length && prev->size > 0) {
      // The previous backup's bytes still stand when the prefix hashes the same: copy only what follows.
      // One read feeds both the prefix hash and the whole file's.
      crypto::Sha256Hasher prefix;
      ML_RETURN_IF_ERROR(Feed(in, src.string(), 0, prev->size, {&prefix, &whole}, nullptr));
      if (HexEncode(prefix.Finish()) == prev->sha256) {
        if (prev->size == length) {
          e.kind = EntryKind::kUnchanged;
          e.sha256 = prev->sha256;
          m_.files.push_back(std::move(e));
          return OkStatus();
        }
        return Store(in, rel, src.string(), prev->size, length, whole, std::move(e));
      }
      whole.Finish();  // resets it for the full copy below
    }
    return Store(in, rel, src.string(), 0, length, whole, std::move(e));
  }

  Status Finish() {
    if (files_dir_made_) ML_RETURN_IF_ERROR(env_.SyncDir(dir_ / kFilesDir));
    ML_RETURN_IF_ERROR(WriteManifest(env_, dir_, m_, keys_));
    return OkStatus();
  }

  Manifest& manifest() { return m_; }
  uint64_t bytes_stored() const { return stored_; }
  void AddTotal(uint64_t n) { total_ += n; }

 private:
  // Feeds [from, to) of `in` to `hashers` (and `writer`), reporting progress.
  Status Feed(const io::RandomAccessFile& in, const std::string& path, uint64_t from, uint64_t to,
              std::initializer_list<crypto::Sha256Hasher*> hashers, EncryptedFileWriter* writer) {
    uint64_t pos = from;
    while (pos < to) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkSize, to - pos));
      ML_ASSIGN_OR_RETURN(std::string data, in.Read(pos, n));
      if (data.size() != n) {
        return MakeError(ErrorKind::kIoError, "file_shrank", path + " shrank while it was copied");
      }
      for (auto* h : hashers) h->Update(data);
      if (writer != nullptr) ML_RETURN_IF_ERROR(writer->Append(data));
      pos += n;
      done_ += n;
      total_ = std::max(total_, done_);
      if (o_.progress) o_.progress(done_, total_);
    }
    return OkStatus();
  }

  Status Store(const io::RandomAccessFile& in, const std::string& rel, const std::string& src, uint64_t from,
               uint64_t length, crypto::Sha256Hasher& hasher, ManifestEntry e) {
    const fs::path out = dir_ / StoredName(keys_, rel);
    if (!files_dir_made_) {
      ML_RETURN_IF_ERROR(env_.CreateDirs(dir_ / kFilesDir));
      files_dir_made_ = true;
    }
    ML_ASSIGN_OR_RETURN(auto writer, EncryptedFileWriter::Create(env_, out, keys_.file_key, m_.backup_id, rel));
    ML_RETURN_IF_ERROR(Feed(in, src, from, length, {&hasher}, &writer));
    ML_RETURN_IF_ERROR(writer.Finish());
    stored_ += writer.stored_bytes();
    e.kind = from == 0 ? EntryKind::kFull : EntryKind::kSuffix;
    e.offset = from;
    e.stored = length - from;
    e.sha256 = HexEncode(hasher.Finish());
    m_.files.push_back(std::move(e));
    return OkStatus();
  }

  const BackupOptions& o_;
  io::Env& env_ = *o_.env;
  Manifest m_;
  BackupKeys keys_;
  std::optional<Manifest> parent_;
  fs::path dir_;
  bool files_dir_made_ = false;
  uint64_t done_ = 0;
  uint64_t total_ = 0;
  uint64_t stored_ = 0;
};

// 0 for a file that vanished: sizes only feed the progress total and the summary.
uint64_t SizeOf(io::Env& env, const fs::path& p) {
  auto n = env.FileSize(p);
  return n.ok() ? *n : 0;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::vector<uint64_t>> ListBackups(const fs::path& out_dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  if (!fs::exists(out_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
    if (!entry.is_directory()) continue;
    if (auto n = ParseBackupDirName(entry.path().filename().string())) out.push_back(*n);
  }
  if (ec) return IoError("list", out_dir.string(), ec.value());
  std::sort(out.begin(), out.end());
  return out;
}

Result<BackupSummary> RunBackup(const BackupOptions& o) {
  BackupSummary summary;
  ML_ASSIGN_OR_RETURN(auto first_listing, ListDataFiles(o.data_dir));
  if (std::find(first_listing.begin(), first_listing.end(), "org.json") == first_listing.end()) {
    return MakeError(ErrorKind::kNotFound, "data_dir_not_found",
                     o.data_dir.string() + " holds no org.json: not a medledger data directory");
  }
  {
    // A backup inside the data directory would copy itself into every later backup.
    // weakly_canonical leaves a relative path that does not exist yet relative: make both absolute first.
    std::error_code ec;
    fs::path data = fs::weakly_canonical(fs::absolute(o.data_dir, ec), ec);
    fs::path out = fs::weakly_canonical(fs::absolute(o.out_dir, ec), ec);
    auto rel = out.lexically_relative(data);
    if (!ec && !rel.empty() && *rel.begin() != "..") {
      return MakeError(ErrorKind::kInvalidArgument, "backup_inside_data_dir",
                       o.out_dir.string() + " is inside the data directory; back up to another place");
    }
  }
  io::Env& env = *o.env;
  ML_RETURN_IF_ERROR(env.CreateDirs(o.out_dir));
  // Two backups into one directory would both take the next number: the second is refused at once.
  auto running = env.LockFile(o.out_dir / kBackupLockFile, io::LockWait::kFail);
  if (!running.ok()) {
    if (running.error().code != "locked") return running.error();
    return MakeError(ErrorKind::kAlreadyExists, "backup_in_progress",
                     "another backup is running into " + o.out_dir.string());
  }
  ML_ASSIGN_OR_RETURN(auto existing, ListBackups(o.out_dir));

  // The parent: the newest backup that finished. Directories without a manifest (a killed backup) are
  // skipped and reported; one written with another key is refused rather than silently chained to.
  std::optional<Manifest> parent;
  for (uint64_t n : existing) {
    ML_ASSIGN_OR_RETURN(const bool finished, env.FileExists(o.out_dir / BackupDirName(n) / kManifestFile));
    if (!finished) summary.incomplete.push_back(n);
  }
  for (auto it = existing.rbegin(); it != existing.rend() && !o.force_full; ++it) {
    auto opened = ReadManifest(env, o.out_dir / BackupDirName(*it), o.secret);
    if (!opened.ok() && opened.error().code == "backup_incomplete") continue;
    if (!opened.ok()) {
      Error e = opened.error();
      e.message +=
          " (the newest finished backup in " + o.out_dir.string() + "; use --full, or another --out for another key)";
      return e;
    }
    parent = std::move(opened->manifest);
    break;
  }
  if (parent) {
    // The parent's manifest may be readable yet not durable: its backup failed at the directory sync after the
    // manifest's rename. Chaining to it would leave this backup unrestorable after a power cut that takes the
    // manifest away, so make it durable first (a sync that fails again fails this backup).
    ML_RETURN_IF_ERROR(env.SyncDir(o.out_dir / BackupDirName(parent->number)));
    ML_RETURN_IF_ERROR(env.SyncDir(o.out_dir));
  }

  Manifest m;
  m.number = existing.empty() ? 1 : existing.back() + 1;
  m.backup_id = BackupDirName(m.number).substr(7) + "-" + crypto::RandomHex(8);
  m.created = Timestamp::Now().ToRfc3339();
  if (parent) {
    m.parent_number = parent->number;
    m.parent_id = parent->backup_id;
  }
  const fs::path dir = o.out_dir / BackupDirName(m.number);
  ML_ASSIGN_OR_RETURN(const bool taken, env.FileExists(dir));
  if (taken) {
    return MakeError(ErrorKind::kAlreadyExists, "backup_in_progress",
                     dir.string() + " appeared meanwhile: is another backup running into " + o.out_dir.string() + "?");
  }
  ML_RETURN_IF_ERROR(env.CreateDirs(dir));
  ML_RETURN_IF_ERROR(env.SyncDir(o.out_dir));
  const uint64_t number = m.number;
  const std::string backup_id = m.backup_id;
  BackupRun run(o, std::move(m), DeriveBackupKeys(o.secret, crypto::RandomBytes(32)), std::move(parent), dir);
  for (const auto& rel : first_listing) run.AddTotal(SizeOf(env, o.data_dir / rel));

  // 1. The report log, small files first, then the tree's meta, then its append-only files.
  std::vector<std::string> log_files;
  for (const auto& rel : first_listing) {
    if (StartsWith(rel, std::string(kLogDir) + "/")) log_files.push_back(rel);
  }
  std::stable_sort(log_files.begin(), log_files.end(),
                   [](const std::string& a, const std::string& b) { return LogCopyRank(a) < LogCopyRank(b); });
  for (const auto& rel : log_files) ML_RETURN_IF_ERROR(run.Copy(rel, std::nullopt));

  // 2. The ledger, cut at height H fixed now.
  ML_ASSIGN_OR_RETURN(LedgerCut cut, CutLedger(o.data_dir, o.block_hash));
  run.manifest().ledger_height = cut.height;
  run.manifest().last_block_hash = cut.last_block_hash;
  for (const auto& f : cut.block_files) ML_RETURN_IF_ERROR(run.Copy(f.path, f.length));

  // 3. Everything else, listed after H: the keystore under its erase lock (an erasure zeroes records of
  // keys.log in place, and rotation rewrites keks and the log together).
  ML_ASSIGN_OR_RETURN(auto second_listing, ListDataFiles(o.data_dir));
  std::vector<std::string> keystore_files;
  for (const auto& rel : second_listing) {
    if (StartsWith(rel, std::string(kLogDir) + "/") || StartsWith(rel, std::string(kBlocksDir) + "/blockfile_")) {
      continue;  // copied above; block files past H are not part of this backup
    }
    if (StartsWith(rel, std::string(kKeystoreDir) + "/")) {
      keystore_files.push_back(rel);
      continue;
    }
    ML_RETURN_IF_ERROR(run.Copy(rel, std::nullopt));
  }
  if (!keystore_files.empty()) {
    ML_ASSIGN_OR_RETURN(auto erase_lock, env.LockFile(o.data_dir / kKeystoreDir / "erase.lock", io::LockWait::kBlock));
    for (const auto& rel : keystore_files) ML_RETURN_IF_ERROR(run.Copy(rel, std::nullopt));
  }
  ML_RETURN_IF_ERROR(run.Finish());

  const Manifest& done = run.manifest();
  summary.number = number;
  summary.backup_id = backup_id;
  summary.dir = dir;
  summary.parent = done.parent_number;
  summary.height = done.ledger_height;
  summary.last_block_hash = done.last_block_hash;
  summary.files = done.files.size();
  for (const auto& f : done.files) {
    summary.bytes_total += f.size;
    summary.bytes_copied += f.stored;
    if (f.kind != EntryKind::kUnchanged) ++summary.files_copied;
  }
  summary.bytes_stored = run.bytes_stored() + SizeOf(env, dir / kManifestFile);
  return summary;
}

}  // namespace medledger::backup
