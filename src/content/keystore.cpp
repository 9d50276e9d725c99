#include "content/keystore.h"

#include <map>
#include <system_error>
#include <vector>

#include "common/encoding.h"
#include "content/fs_util.h"
#include "content/key_wrap.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

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

std::string EncodeEntries(const std::vector<Entry>& entries) {
  std::string out(kKeyFileMagic);
  PutFixed32(&out, static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries) {
    PutLengthPrefixed(&out, e.key_id);
    PutLengthPrefixed(&out, e.kek_id);
    PutLengthPrefixed(&out, e.wrapped);
  }
  return out;
}

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

std::filesystem::path KeyFile(const std::filesystem::path& dir, std::string_view report_id) {
  return dir / "keys" / ReportBinding(report_id);
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

struct FileKeystore::Keks {
  std::string current;
  std::map<std::string, std::string> by_id;
};

FileKeystore::FileKeystore(std::filesystem::path dir, std::string master, std::unique_ptr<Keks> keks)
    : dir_(std::move(dir)), master_(std::move(master)), keks_(std::move(keks)) {}
FileKeystore::~FileKeystore() = default;

Result<std::unique_ptr<FileKeystore>> FileKeystore::Open(const std::filesystem::path& dir, std::string_view master_key,
                                                         bool sync_stores) {
  if (master_key.size() != 32) {
    return MakeError(ErrorKind::kInvalidArgument, "keystore_bad_master_key", "the master key must be 32 bytes");
  }
  ML_ASSIGN_OR_RETURN(auto sealing, crypto::HkdfSha256(master_key, "medledger", "content keystore: KEK file", 32));
  std::error_code ec;
  std::filesystem::create_directories(dir / "keys", ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create keystore: " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (!ec) std::filesystem::permissions(dir / "keys", std::filesystem::perms::owner_all, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot restrict keystore permissions: " + ec.message());
  auto keks = std::make_unique<Keks>();
  auto file = ReadFileBytes(dir / "keks");
  if (!file.ok() && file.error().kind != ErrorKind::kNotFound) return file.error();
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
  std::unique_ptr<FileKeystore> ks(new FileKeystore(dir, std::move(sealing), std::move(keks)));
  ks->sync_stores_ = sync_stores;
  if (!file.ok()) {
    ks->keks_->current = HexEncode(crypto::RandomBytes(8));
    ks->keks_->by_id[ks->keks_->current] = crypto::RandomBytes(crypto::kAesKeySize);
    ML_RETURN_IF_ERROR(ks->SaveKeks());
  }
  return ks;
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
  return WriteFileAtomic(dir_ / "keks", std::string(kKeksMagic) + nonce + sealed, true, true);
}

std::mutex& FileKeystore::StripeFor(std::string_view report_id) {
  return stripes_[std::hash<std::string_view>{}(report_id) % stripes_.size()];
}

std::string FileKeystore::current_kek_id() const {
  std::shared_lock lock(kek_mu_);
  return keks_->current;
}

Status FileKeystore::Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  auto path = KeyFile(dir_, report_id);
  std::vector<Entry> entries;
  auto existing = ReadFileBytes(path);
  if (existing.ok()) {
    ML_ASSIGN_OR_RETURN(entries, DecodeEntries(*existing));
  } else if (existing.error().kind != ErrorKind::kNotFound) {
    return existing.error();
  }
  for (const auto& e : entries) {
    if (e.key_id == key_id) return MakeError(ErrorKind::kAlreadyExists, "key_exists", "key id already stored");
  }
  const std::string& kek = keks_->by_id.at(keks_->current);
  ML_ASSIGN_OR_RETURN(auto wrapped, WrapKey(kek, ReportBinding(report_id), key_id, data_key));
  entries.push_back(Entry{std::string(key_id), keks_->current, std::move(wrapped)});
  // Deferring the flush is safe only for a new file: a crash before the barrier loses just this key, whose
  // report was never acknowledged. Rewriting a file that holds earlier, acknowledged keys always syncs.
  const bool sync = sync_stores_ || entries.size() > 1;
  return WriteFileAtomic(path, EncodeEntries(entries), sync, true, sync);
}

Result<std::string> FileKeystore::Load(std::string_view report_id, std::string_view key_id) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  auto file = ReadFileBytes(KeyFile(dir_, report_id));
  if (!file.ok()) {
    if (file.error().kind == ErrorKind::kNotFound) return Destroyed();
    return file.error();
  }
  ML_ASSIGN_OR_RETURN(auto entries, DecodeEntries(*file));
  for (const auto& e : entries) {
    if (e.key_id != key_id) continue;
    auto kek = keks_->by_id.find(e.kek_id);
    if (kek == keks_->by_id.end()) return Corrupt("data key wrapped by an unknown KEK");
    return UnwrapKey(kek->second, ReportBinding(report_id), key_id, e.wrapped);
  }
  return Destroyed();
}

Status FileKeystore::DestroyIn(const std::filesystem::path& dir, std::string_view report_id) {
  return RemoveFileDurably(KeyFile(dir, report_id));
}

Status FileKeystore::Destroy(std::string_view report_id) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  return DestroyIn(dir_, report_id);
}

Status FileKeystore::DestroyKey(std::string_view report_id, std::string_view key_id) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  auto path = KeyFile(dir_, report_id);
  auto file = ReadFileBytes(path);
  if (!file.ok()) return file.error().kind == ErrorKind::kNotFound ? OkStatus() : Status(file.error());
  ML_ASSIGN_OR_RETURN(auto entries, DecodeEntries(*file));
  std::erase_if(entries, [&](const Entry& e) { return e.key_id == key_id; });
  // The rewrite replaces the file by rename, so the dropped key's bytes are not in the live file.
  if (entries.empty()) return RemoveFileDurably(path);
  return WriteFileAtomic(path, EncodeEntries(entries), true, true);
}

Result<size_t> FileKeystore::KeyCount(std::string_view report_id) {
  std::shared_lock kek_lock(kek_mu_);
  std::lock_guard lock(StripeFor(report_id));
  auto file = ReadFileBytes(KeyFile(dir_, report_id));
  if (!file.ok()) {
    if (file.error().kind == ErrorKind::kNotFound) return size_t{0};
    return file.error();
  }
  ML_ASSIGN_OR_RETURN(auto entries, DecodeEntries(*file));
  return entries.size();
}

Status FileKeystore::RotateKek() {
  std::unique_lock lock(kek_mu_);
  // 1. Record the new KEK next to the old ones, so a crash mid-rotation leaves every key file readable.
  std::string next_id = HexEncode(crypto::RandomBytes(8));
  std::string next = crypto::RandomBytes(crypto::kAesKeySize);
  keks_->by_id[next_id] = next;
  keks_->current = next_id;
  ML_RETURN_IF_ERROR(SaveKeks());
  // 2. Re-wrap every data key; only the key files change, never the content.
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir_ / "keys", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->path().filename().string().size() == 64) files.push_back(it->path());
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list key files: " + ec.message());
  for (const auto& path : files) {
    const std::string binding = path.filename().string();
    ML_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path));
    ML_ASSIGN_OR_RETURN(auto entries, DecodeEntries(bytes));
    for (auto& e : entries) {
      if (e.kek_id == next_id) continue;
      auto old = keks_->by_id.find(e.kek_id);
      if (old == keks_->by_id.end()) return Corrupt("data key wrapped by an unknown KEK");
      ML_ASSIGN_OR_RETURN(auto dk, UnwrapKey(old->second, binding, e.key_id, e.wrapped));
      ML_ASSIGN_OR_RETURN(e.wrapped, WrapKey(next, binding, e.key_id, dk));
      e.kek_id = next_id;
    }
    ML_RETURN_IF_ERROR(WriteFileAtomic(path, EncodeEntries(entries), true, true));
  }
  // 3. Retire the old KEKs: a copy of a key file erased earlier (in a backup, on a worn SSD page) is now
  //    wrapped by a KEK that no longer exists anywhere, which completes its shredding.
  std::string keep = keks_->by_id[next_id];
  keks_->by_id.clear();
  keks_->by_id[next_id] = std::move(keep);
  return SaveKeks();
}

}  // namespace medledger::content
