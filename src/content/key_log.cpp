#include "content/key_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/encoding.h"
#include "common/errno_text.h"
#include "content/key_wrap.h"
#include "crypto/hash.h"
#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::content {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderSize = 8;           // length, check
constexpr uint32_t kMaxBodySize = 1 << 16;  // a body is ~150 bytes; anything near this is damage

Error IoError(const std::string& what, const fs::path& file) {
  return ErrnoError(what + " " + file.string(), errno);
}
Error Corrupt(const std::string& what) {
  return MakeError(ErrorKind::kCorruption, "keystore_corrupted", what);
}

uint32_t Check(std::string_view body) {
  return DecodeFixed32(crypto::Sha256(body).data());
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

Status PreadAll(int fd, char* out, size_t n, uint64_t offset, const fs::path& file) {
  const ssize_t got = io::PreadFull(fd, out, n, offset);
  if (got < 0) return IoError("read", file);
  if (static_cast<size_t>(got) < n) {
    return MakeError(ErrorKind::kCorruption, "keystore_corrupted", "key log ends inside a record");
  }
  return OkStatus();
}

Status PwriteAll(int fd, std::string_view bytes, uint64_t offset, const fs::path& file) {
  if (int err = io::PwriteFull(fd, bytes.data(), bytes.size(), offset); err != 0) {
    errno = err;
    return IoError("write", file);
  }
  return OkStatus();
}

// A reader racing the owner's append may see the file grow meanwhile; what was read is what it scans.
Result<std::string> ReadWhole(int fd, const fs::path& file) {
  std::string bytes;
  ML_RETURN_IF_ERROR(io::ReadFdInto(fd, file, &bytes));
  return bytes;
}

// Walks the records of `bytes`; `fn` sees each live one. Returns where the valid records end: a torn tail (a
// crash cut an append short) starts there. A damaged record followed by more data is corruption, since
// records after it cannot be found and acknowledged keys may be among them.
Result<size_t> Walk(std::string_view bytes, const std::function<Status(uint64_t, const KeyRecord&)>& fn,
                    bool tolerate_damage) {
  size_t at = 0;
  while (at < bytes.size()) {
    size_t used = 0;
    auto record = DecodeKeyRecord(bytes.substr(at), &used);
    if (record.ok()) {
      if (fn) ML_RETURN_IF_ERROR(fn(at, *record));
      at += used;
      continue;
    }
    if (record.error().code == "record_erased") {
      at += used;
      continue;
    }
    const bool at_tail =
        record.error().code == "record_truncated" || at + used == bytes.size() || AllZero(bytes.substr(at));
    if (at_tail || tolerate_damage) return at;
    return Corrupt("key log record at byte " + std::to_string(at) + " is damaged (" + record.error().message + ")");
  }
  return at;
}

}  // namespace

std::string EncodeKeyRecord(const KeyRecord& record) {
  std::string body = record.binding;
  PutLengthPrefixed(&body, record.key_id);
  PutLengthPrefixed(&body, record.kek_id);
  PutLengthPrefixed(&body, record.wrapped);
  std::string out;
  out.reserve(kHeaderSize + body.size());
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  PutFixed32(&out, Check(body));
  return out + body;
}

Result<KeyRecord> DecodeKeyRecord(std::string_view bytes, size_t* used) {
  *used = 0;
  if (bytes.size() < kHeaderSize) {
    *used = bytes.size();
    return MakeError(ErrorKind::kCorruption, "record_truncated", "record header is cut short");
  }
  const uint32_t len = DecodeFixed32(bytes.data());
  const uint32_t check = DecodeFixed32(bytes.data() + 4);
  if (len < crypto::kSha256Size + 12 || len > kMaxBodySize) {
    *used = kHeaderSize;
    return MakeError(ErrorKind::kCorruption, "record_damaged", "record length " + std::to_string(len) + " is invalid");
  }
  if (bytes.size() < kHeaderSize + len) {
    *used = bytes.size();
    return MakeError(ErrorKind::kCorruption, "record_truncated", "record body is cut short");
  }
  *used = kHeaderSize + len;
  std::string_view body = bytes.substr(kHeaderSize, len);
  if (check == 0 && AllZero(body)) return MakeError(ErrorKind::kNotFound, "record_erased", "the record was erased");
  if (Check(body) != check) return MakeError(ErrorKind::kCorruption, "record_damaged", "record check mismatch");
  KeyRecord r;
  r.binding = std::string(body.substr(0, crypto::kSha256Size));
  body.remove_prefix(crypto::kSha256Size);
  for (std::string* field : {&r.key_id, &r.kek_id, &r.wrapped}) {
    auto s = ReadLengthPrefixed(&body);
    if (!s.ok()) return MakeError(ErrorKind::kCorruption, "record_damaged", "record fields run past its body");
    *field = std::string(*s);
  }
  if (!body.empty()) return MakeError(ErrorKind::kCorruption, "record_damaged", "trailing bytes in record");
  return r;
}

Result<std::unique_ptr<KeyLog>> KeyLog::Open(const fs::path& file, Mode mode,
                                             const std::function<Status(uint64_t, const KeyRecord&)>& each,
                                             io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  const bool owner = mode == Mode::kOwner;
  const bool existed = fs::exists(file);
  UniqueFd fd(::open(file.c_str(), (owner ? O_RDWR | O_CREAT : O_RDWR) | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == ENOENT) return MakeError(ErrorKind::kNotFound, "not_found", "no key log at " + file.string());
    return IoError("open", file);
  }
  // A reader reads at each Scan: the owner may be appending, so nothing read now would stay current.
  if (!owner) return std::unique_ptr<KeyLog>(new KeyLog(file, env, std::move(fd), mode, 0));
  ML_ASSIGN_OR_RETURN(auto bytes, ReadWhole(fd.get(), file));
  ML_ASSIGN_OR_RETURN(size_t end, Walk(bytes, each, /*tolerate_damage=*/false));
  if (end != bytes.size()) {
    // Never acknowledged: a key is acknowledged only after a flush that covers its whole record.
    if (::ftruncate(fd.get(), static_cast<off_t>(end)) != 0 || ::fdatasync(fd.get()) != 0) {
      return IoError("truncate torn tail of", file);
    }
  }
  if (!existed) ML_RETURN_IF_ERROR(env->SyncDir(file.parent_path()));
  return std::unique_ptr<KeyLog>(new KeyLog(file, env, std::move(fd), mode, end));
}

KeyLog::~KeyLog() = default;

Status KeyLog::Scan(const std::function<Status(uint64_t offset, const KeyRecord&)>& fn) const {
  std::lock_guard lock(mu_);
  ML_ASSIGN_OR_RETURN(auto bytes, ReadWhole(fd_.get(), file_));
  if (mode_ == Mode::kOwner) bytes.resize(std::min<size_t>(bytes.size(), end_));
  ML_RETURN_IF_ERROR(Walk(bytes, fn, /*tolerate_damage=*/mode_ == Mode::kReader));
  return OkStatus();
}

Result<uint64_t> KeyLog::Append(const KeyRecord& record, bool sync) {
  if (mode_ != Mode::kOwner) {
    return MakeError(ErrorKind::kPermissionDenied, "keystore_busy", "another process owns this keystore");
  }
  const std::string bytes = EncodeKeyRecord(record);
  int fd = -1;
  uint64_t at = 0;
  {
    std::lock_guard lock(mu_);
    at = end_;
    if (auto s = PwriteAll(fd_.get(), bytes, at, file_); !s.ok()) {
      // Whatever part landed is cut off, so the next record starts on a clean boundary.
      (void)::ftruncate(fd_.get(), static_cast<off_t>(at));
      return s.error();
    }
    end_ += bytes.size();
    fd = fd_.get();
  }
  // Outside the lock, so concurrent appends share the flush. Rewrite cannot close `fd` meanwhile: the
  // keystore holds rotation off while appends run.
  if (sync && ::fdatasync(fd) != 0) return IoError("sync", file_);
  return at;
}

Status KeyLog::Sync() {
  std::lock_guard lock(mu_);
  if (::fdatasync(fd_.get()) != 0) return IoError("sync", file_);
  return OkStatus();
}

Result<KeyRecord> KeyLog::ReadAt(uint64_t offset) const {
  std::string header(kHeaderSize, '\0');
  std::lock_guard lock(mu_);
  ML_RETURN_IF_ERROR(PreadAll(fd_.get(), header.data(), header.size(), offset, file_));
  const uint32_t len = DecodeFixed32(header.data());
  if (len > kMaxBodySize) return Corrupt("key log record at byte " + std::to_string(offset) + " has a bad length");
  std::string bytes = header + std::string(len, '\0');
  ML_RETURN_IF_ERROR(PreadAll(fd_.get(), bytes.data() + kHeaderSize, len, offset + kHeaderSize, file_));
  size_t used = 0;
  auto record = DecodeKeyRecord(bytes, &used);
  if (!record.ok() && record.error().code == "record_erased") {
    return MakeError(ErrorKind::kNotFound, "key_destroyed", "the report's data key is gone (erased)");
  }
  if (!record.ok()) return Corrupt("key log record at byte " + std::to_string(offset) + ": " + record.error().message);
  return record;
}

Status KeyLog::Erase(std::span<const uint64_t> offsets) {
  std::lock_guard lock(mu_);
  for (uint64_t offset : offsets) {
    char header[kHeaderSize];
    ML_RETURN_IF_ERROR(PreadAll(fd_.get(), header, sizeof header, offset, file_));
    const uint32_t len = DecodeFixed32(header);
    if (len > kMaxBodySize) return Corrupt("key log record at byte " + std::to_string(offset) + " has a bad length");
    // The length stays so the log still parses; check and body become zeros, the mark of an erased record.
    ML_RETURN_IF_ERROR(PwriteAll(fd_.get(), std::string(4 + len, '\0'), offset + 4, file_));
  }
  if (!offsets.empty() && ::fdatasync(fd_.get()) != 0) return IoError("sync", file_);
  return OkStatus();
}

Result<std::vector<uint64_t>> KeyLog::Rewrite(const std::vector<KeyRecord>& records) {
  if (mode_ != Mode::kOwner) {
    return MakeError(ErrorKind::kPermissionDenied, "keystore_busy", "another process owns this keystore");
  }
  std::string bytes;
  std::vector<uint64_t> offsets;
  offsets.reserve(records.size());
  for (const auto& r : records) {
    offsets.push_back(bytes.size());
    bytes += EncodeKeyRecord(r);
  }
  std::lock_guard lock(mu_);
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env_, file_, bytes));
  UniqueFd fd(::open(file_.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return IoError("reopen", file_);
  fd_ = std::move(fd);
  end_ = bytes.size();
  return offsets;
}

}  // namespace medledger::content
