#include "content/keystore.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>
#include <vector>

#include "common/encoding.h"
#include "common/errno_text.h"
#include "common/private_dir.h"
#include "content/key_wrap.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::content {
namespace {

constexpr std::string_view kKeksMagic = "MLKK\x01";
constexpr std::string_view kKeyFileMagic = "MLKF\x01";

Error Corrupt(const std::string& what) {
  return MakeError(ErrorKind::kCorruption, "keystore_corrupted", what);
}
Error Destroyed() {
  return MakeError(ErrorKind::kNotFound, "key_destroyed", "the report's data key is gone (erased or never stored)");
}

struct Entry {
  std::string key_id;
  std::string kek_id;
  std::string wrapped;
};

Result<std::vector<Entry>> DecodeEntries(std::string_view in) {
  if (in.substr(0, kKeyFileMagic.size()) != kKeyFileMagic || in.size() < kKeyFileMagic.size() + 4) {
    return Corrupt("key file has a bad header");
  }
  in.remove_prefix(kKeyFileMagic.size());
  uint32_t n = DecodeFixed32(in.data());
  in.remove_prefix(4);
  std::vector<Entry> out;
  for (uint32_t i = 0; i < n; ++i) {
    Entry e;
    for (std::string* f : {&e.key_id, &e.kek_id, &e.wrapped}) {
      auto s = ReadLengthPrefixed(&in);
      if (!s.ok()) return Corrupt("key file is truncated");
      *f = std::string(*s);
    }
    out.push_back(std::move(e));
  }
  if (!in.empty()) return Corrupt("trailing bytes in key file");
  return out;
}

// Hashed so the file name neither leaks the report id nor lets it escape the directory. The same value binds
// each wrapped key to its report (as AAD), which lets rotation re-wrap a file knowing only its name.
std::string ReportBinding(std::string_view report_id) {
  return HexEncode(crypto::Sha256(report_id));
}

}  // namespace

// ---- MemoryKeystore ----

MemoryKeystore::MemoryKeystore() : kek_(crypto::RandomBytes(crypto::kAesKeySize)) {}

Status MemoryKeystore::Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) {
  ML_ASSIGN_OR_RETURN(auto wrapped, WrapKey(kek_, report_id, key_id, data_key));
  std::lock_guard lock(mu_);
  auto& keys = wrapped_[std::string(report_id)];
  if (!keys.emplace(std::string(key_id), std::move(wrapped)).second) {
    return MakeError(ErrorKind::kAlreadyExists, "key_exists", "key id already stored");
  }
  return OkStatus();
}

Result<std::string> MemoryKeystore::Load(std::string_view report_id, std::string_view key_id) {
  std::lock_guard lock(mu_);
  auto r = wrapped_.find(report_id);
  if (r == wrapped_.end()) return Destroyed();
  auto k = r->second.find(std::string(key_id));
  if (k == r->second.end()) return Destroyed();
  return UnwrapKey(kek_, report_id, key_id, k->second);
}

Status MemoryKeystore::Destroy(std::string_view report_id) {
  std::lock_guard lock(mu_);
  if (auto it = wrapped_.find(report_id); it != wrapped_.end()) wrapped_.erase(it);
  return OkStatus();
}

Status MemoryKeystore::DestroyKey(std::string_view report_id, std::string_view key_id) {
  std::lock_guard lock(mu_);
  auto r = wrapped_.find(report_id);
  if (r == wrapped_.end()) return OkStatus();
  r->second.erase(std::string(key_id));
  if (r->second.empty()) wrapped_.erase(r);
  return OkStatus();
}

Result<size_t> MemoryKeystore::KeyCount(std::string_view report_id) {
  std::lock_guard lock(mu_);
  auto r = wrapped_.find(report_id);
  return r == wrapped_.end() ? size_t{0} : r->second.size();
}

Status MemoryKeystore::RotateKek() {
  std::lock_guard lock(mu_);
  std::string next = crypto::RandomBytes(crypto::kAesKeySize);
  for (auto& [report, keys] : wrapped_) {
    for (auto& [key_id, wrapped] : keys) {
      ML_ASSIGN_OR_RETURN(auto dk, UnwrapKey(kek_, report, key_id, wrapped));
      ML_ASSIGN_OR_RETURN(wrapped, WrapKey(next, report, key_id, dk));
    }
  }
  kek_ = std::move(next);
  return OkStatus();
}

Result<size_t> ShredReport(Keystore& keys, std::string_view report_id) {
  ML_ASSIGN_OR_RETURN(size_t count, keys.KeyCount(report_id));
  if (count == 0) {
    return MakeError(ErrorKind::kNotFound, "report_not_in_keystore",
                     "the keystore holds no key for this report (an unknown report, or erased before)");
  }
  ML_RETURN_IF_ERROR(keys.Destroy(report_id));
  return count;
}

// ---- FileKeystore ----

namespace {

// An io::Env lock (flock) on a lock file, released when this goes. Locks of different open files conflict
// even within one process, so this also serializes threads.
class FileLock {
 public:
  static Result<FileLock> Acquire(io::Env& env, const std::filesystem::path& file, bool wait) {
    auto lock = env.LockFile(file, wait ? io::LockWait::kBlock : io::LockWait::kFail);
    if (!lock.ok()) {
      if (lock.error().code == "locked") {
        return MakeError(ErrorKind::kUnavailable, "lock_held", file.string() + " is held");
      }
      return lock.error();
    }
    return FileLock(std::move(lock).value());
  }
  std::unique_ptr<io::FileLock> Release() { return std::move(lock_); }

 private:
  explicit FileLock(std::unique_ptr<io::FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<io::FileLock> lock_;
};

Error Busy() {
  return MakeError(ErrorKind::kPermissionDenied, "keystore_busy",
                   "another process (the server?) owns this keystore; only loading and erasure work here");
}

}  // namespace

struct FileKeystore::Keks {
  std::string current;
  std::map<std::string, std::string> by_id;
};

FileKeystore::FileKeystore(std::filesystem::path dir, std::string master, std::unique_ptr<Keks> keks, io::Env* env)
    : dir_(std::move(dir)), env_(env), master_(std::move(master)), keks_(std::move(keks)) {}
FileKeystore::~FileKeystore() = default;

Result<std::unique_ptr<FileKeystore>> FileKeystore::Open(const std::filesystem::path& dir, std::string_view master_key,
                                                         bool sync_stores, io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  if (master_key.size() != 32) {
    return MakeError(ErrorKind::kInvalidArgument, "keystore_bad_master_key", "the master key must be 32 bytes");
  }
  ML_ASSIGN_OR_RETURN(auto sealing, crypto::HkdfSha256(master_key, "medledger", "content keystore: KEK file", 32));
  ML_RETURN_IF_ERROR(CreatePrivateDirectories(dir));
  std::error_code ec;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot restrict keystore permissions: " + ec.message());
  // The owner lock comes first: the KEK file is created (and later rewritten) only by the owner.
  auto owner_lock = FileLock::Acquire(*env, dir / "owner.lock", /*wait=*/false);
  if (!owner_lock.ok() && owner_lock.error().code != "lock_held") return owner_lock.error();
  auto keks = std::make_unique<Keks>();
  auto file = io::ReadFile(*env, dir / "keks");
  if (!file.ok() && file.error().kind != ErrorKind::kNotFound) return file.error();
  if (!file.ok() && !owner_lock.ok()) {
    return MakeError(ErrorKind::kUnavailable, "keystore_busy", "the keystore is being created by another process");
  }
  if (file.ok()) {
    std::string_view in = *file;
    size_t head = kKeksMagic.size();
    if (in.substr(0, head) != kKeksMagic || in.size() < head + crypto::kGcmNonceSize + crypto::kGcmTagSize) {
      return Corrupt("KEK file has a bad header");
    }
    auto plain = crypto::AesGcmOpen(sealing, in.substr(head, crypto::kGcmNonceSize),
                                    in.substr(head + crypto::kGcmNonceSize), kKeksMagic);
    if (!plain.ok()) {
      return MakeError(ErrorKind::kPermissionDenied, "keystore_locked", "wrong master key or tampered KEK file");
    }
    std::string_view p = *plain;
    ML_ASSIGN_OR_RETURN(auto current, ReadLengthPrefixed(&p));
    keks->current = std::string(current);
    while (!p.empty()) {
      ML_ASSIGN_OR_RETURN(auto id, ReadLengthPrefixed(&p));
      ML_ASSIGN_OR_RETURN(auto key, ReadLengthPrefixed(&p));
      keks->by_id[std::string(id)] = std::string(key);
    }
    if (!keks->by_id.count(keks->current)) return Corrupt("current KEK missing");
  }
  std::unique_ptr<FileKeystore> ks(new FileKeystore(dir, std::move(sealing), std::move(keks), env));
  ks->sync_stores_ = sync_stores;
  if (!file.ok()) {
    ks->keks_->current = HexEncode(crypto::RandomBytes(8));
    ks->keks_->by_id[ks->keks_->current] = crypto::RandomBytes(crypto::kAesKeySize);
    ML_RETURN_IF_ERROR(ks->SaveKeks());
  }
  if (!owner_lock.ok()) return ks;  // a reader: every operation scans the log afresh
  ks->owner_lock_ = owner_lock->Release();
  ML_ASSIGN_OR_RETURN(ks->log_, KeyLog::Open(
                                    dir / "keys.log", KeyLog::Mode::kOwner,
                                    [&](uint64_t offset, const KeyRecord& r) {
                                      ks->index_[r.binding].push_back(offset);
                                      return OkStatus();
                                    },
                                    env));
  ML_RETURN_IF_ERROR(ks->ImportKeyFiles());
  return ks;
}

// The layout before the log: keys/<sha256(report id) hex>, one file of entries per report. Each entry the
// log lacks is appended (so a crash mid-import repeats nothing), the log is synced, then the files go.
Status FileKeystore::ImportKeyFiles() {
  const auto legacy = dir_ / "keys";
  std::error_code ec;
  if (!std::filesystem::is_directory(legacy, ec)) return OkStatus();
  std::vector<std::filesystem::path> done;
  for (auto it = std::filesystem::directory_iterator(legacy, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".tmp.") != std::string::npos) {
      done.push_back(it->path());  // an interrupted rewrite of the old layout; its file was never renamed in
      continue;
    }
    auto binding = HexDecode(name);
    if (!binding.ok() || binding->size() != crypto::kSha256Size) continue;  // not ours: left for a person
    ML_ASSIGN_OR_RETURN(auto bytes, io::ReadFile(*env_, it->path()));
    ML_ASSIGN_OR_RETURN(auto entries, DecodeEntries(bytes));
    ML_ASSIGN_OR_RETURN(auto present, Find(*binding));
    for (auto& e : entries) {
      bool have =
          std::any_of(present.begin(), present.end(), [&](const Located& l) { return l.record.key_id == e.key_id; });
      if (have) continue;
      ML_ASSIGN_OR_RETURN(uint64_t offset,
                          log_->Append(KeyRecord{*binding, e.key_id, e.kek_id, std::move(e.wrapped)}, false));
      index_[*binding].push_back(offset);
    }
    done.push_back(it->path());
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list " + legacy.string() + ": " + ec.message());
  if (done.empty()) return OkStatus();
  ML_RETURN_IF_ERROR(log_->Sync());
  for (const auto& p : done) ML_RETURN_IF_ERROR(io::RemoveFileDurably(*env_, p));
  std::filesystem::remove(legacy, ec);  // only if now empty
  return OkStatus();
}

Status FileKeystore::SaveKeks() {
  std::string plain;
  PutLengthPrefixed(&plain, keks_->current);
  for (const auto& [id, key] : keks_->by_id) {
    PutLengthPrefixed(&plain, id);
    PutLengthPrefixed(&plain, key);
  }
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(auto sealed, crypto::AesGcmSeal(master_, nonce, plain, kKeksMagic));
  return io::WriteFileAtomic(*env_, dir_ / "keks", std::string(kKeksMagic) + nonce + sealed);
}

std::mutex& FileKeystore::StripeFor(std::string_view report_id) {
  return stripes_[std::hash<std::string_view>{}(report_id) % stripes_.size()];
}

std::string FileKeystore::current_kek_id() const {
  std::shared_lock lock(kek_mu_);
  return keks_->current;
}

Result<std::unique_ptr<KeyLog>> FileKeystore::OpenReaderLog() const {
  auto log = KeyLog::Open(dir_ / "keys.log", KeyLog::Mode::kReader, nullptr, env_);
  if (!log.ok() && log.error().code == "not_found") return std::unique_ptr<KeyLog>();
  return log;
}

Result<std::vector<FileKeystore::Located>> FileKeystore::ScanFor(const KeyLog& log, std::string_view binding) {
  std::vector<Located> out;
  ML_RETURN_IF_ERROR(log.Scan([&](uint64_t offset, const KeyRecord& r) {
    if (r.binding == binding) out.push_back(Located{offset, r});
    return OkStatus();
  }));
  return out;
}

Result<std::vector<FileKeystore::Located>> FileKeystore::Find(std::string_view binding) {
  std::vector<Located> out;
  if (log_ == nullptr) {
    ML_ASSIGN_OR_RETURN(auto log, OpenReaderLog());
    if (log == nullptr) return out;
    return ScanFor(*log, binding);
  }
  std::vector<uint64_t> offsets;
  {
    std::lock_guard lock(index_mu_);
    if (auto it = index_.find(std::string(binding)); it != index_.end()) offsets = it->second;
  }
  for (uint64_t offset : offsets) {
    auto r = log_->ReadAt(offset);
    if (r.ok()) {
      out.push_back(Located{offset, std::move(*r)});
    } else if (r.error().code != "key_destroyed") {  // erased by another process: skipped like a gone key
      return r.error();
    }
  }
  return out;
}

Status FileKeystore::Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) {
  if (log_ == nullptr) return Busy();
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  const std::string binding = crypto::Sha256(report_id);
  ML_ASSIGN_OR_RETURN(auto present, Find(binding));
  for (const auto& l : present) {
    if (l.record.key_id == key_id) return MakeError(ErrorKind::kAlreadyExists, "key_exists", "key id already stored");
  }
  const std::string& kek = keks_->by_id.at(keks_->current);
  ML_ASSIGN_OR_RETURN(auto wrapped, WrapKey(kek, ReportBinding(report_id), key_id, data_key));
  // Unsynced appends are safe: a crash before the caller's barrier loses only this record (its report was
  // never acknowledged), and an append never rewrites a record that was.
  ML_ASSIGN_OR_RETURN(
      uint64_t offset,
      log_->Append(KeyRecord{binding, std::string(key_id), keks_->current, std::move(wrapped)}, sync_stores_));
  std::lock_guard index_lock(index_mu_);
  index_[binding].push_back(offset);
  return OkStatus();
}

Result<std::string> FileKeystore::Load(std::string_view report_id, std::string_view key_id) {
  std::shared_lock kek_lock(kek_mu_);
  ML_ASSIGN_OR_RETURN(auto present, Find(crypto::Sha256(report_id)));
  for (const auto& l : present) {
    if (l.record.key_id != key_id) continue;
    auto kek = keks_->by_id.find(l.record.kek_id);
    if (kek == keks_->by_id.end()) return Corrupt("data key wrapped by an unknown KEK");
    return UnwrapKey(kek->second, ReportBinding(report_id), key_id, l.record.wrapped);
  }
  return Destroyed();
}

Status FileKeystore::EraseWhere(std::string_view report_id, const std::function<bool(const KeyRecord&)>& which) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  ML_ASSIGN_OR_RETURN(auto erase_lock, FileLock::Acquire(*env_, dir_ / "erase.lock", /*wait=*/true));
  const std::string binding = crypto::Sha256(report_id);
  std::unique_ptr<KeyLog> reader;  // a reader opens the log once, for the scan and the erasure
  if (log_ == nullptr) {
    ML_ASSIGN_OR_RETURN(reader, OpenReaderLog());
    if (reader == nullptr) return OkStatus();
  }
  ML_ASSIGN_OR_RETURN(auto present, reader ? ScanFor(*reader, binding) : Find(binding));
  std::vector<uint64_t> offsets;
  for (const auto& l : present) {
    if (which(l.record)) offsets.push_back(l.offset);
  }
  ML_RETURN_IF_ERROR((reader ? *reader : *log_).Erase(offsets));
  if (reader) return OkStatus();
  std::lock_guard index_lock(index_mu_);
  auto it = index_.find(binding);
  if (it != index_.end()) {
    std::erase_if(it->second, [&](uint64_t o) { return std::count(offsets.begin(), offsets.end(), o) > 0; });
    if (it->second.empty()) index_.erase(it);
  }
  return OkStatus();
}

Status FileKeystore::Destroy(std::string_view report_id) {
  return EraseWhere(report_id, [](const KeyRecord&) { return true; });
}

Status FileKeystore::DestroyKey(std::string_view report_id, std::string_view key_id) {
  return EraseWhere(report_id, [&](const KeyRecord& r) { return r.key_id == key_id; });
}

Result<size_t> FileKeystore::KeyCount(std::string_view report_id) {
  std::shared_lock kek_lock(kek_mu_);
  ML_ASSIGN_OR_RETURN(auto present, Find(crypto::Sha256(report_id)));
  return present.size();
}

Status FileKeystore::RotateKek() {
  if (log_ == nullptr) return Busy();
  std::unique_lock lock(kek_mu_);
  // No erasure (here or in another process) may zero a record of the log this replaces.
  ML_ASSIGN_OR_RETURN(auto erase_lock, FileLock::Acquire(*env_, dir_ / "erase.lock", /*wait=*/true));
  // 1. Record the new KEK next to the old ones, so a crash mid-rotation leaves the log readable.
  std::string next_id = HexEncode(crypto::RandomBytes(8));
  std::string next = crypto::RandomBytes(crypto::kAesKeySize);
  keks_->by_id[next_id] = next;
  keks_->current = next_id;
  ML_RETURN_IF_ERROR(SaveKeks());
  // 2. Re-wrap every data key into a new log; content is not touched.
  std::vector<KeyRecord> records;
  ML_RETURN_IF_ERROR(log_->Scan([&](uint64_t, const KeyRecord& r) {
    records.push_back(r);
    return OkStatus();
  }));
  for (auto& r : records) {
    if (r.kek_id == next_id) continue;
    auto old = keks_->by_id.find(r.kek_id);
    if (old == keks_->by_id.end()) return Corrupt("data key wrapped by an unknown KEK");
    const std::string binding = HexEncode(r.binding);
    ML_ASSIGN_OR_RETURN(auto dk, UnwrapKey(old->second, binding, r.key_id, r.wrapped));
    ML_ASSIGN_OR_RETURN(r.wrapped, WrapKey(next, binding, r.key_id, dk));
    r.kek_id = next_id;
  }
  ML_ASSIGN_OR_RETURN(auto offsets, log_->Rewrite(records));
  {
    std::lock_guard index_lock(index_mu_);
    index_.clear();
    for (size_t i = 0; i < records.size(); ++i) index_[records[i].binding].push_back(offsets[i]);
  }
  // 3. Retire the old KEKs: a copy of the log taken before (a backup, a worn SSD page), erased records and
  //    all, is now wrapped by KEKs that no longer exist anywhere, which completes their shredding.
  std::string keep = keks_->by_id[next_id];
  keks_->by_id.clear();
  keks_->by_id[next_id] = std::move(keep);
  return SaveKeks();
}

}  // namespace medledger::content
