// The file under FileKeystore: an append-only log of wrapped data keys, one record per key, so storing a
// report's key is one short append instead of a file (an inode, a rename) per report. Erasure overwrites a
// record's bytes with zeros in place, which another process's reads of the same file see at once; rotation
// rewrites the whole log. The format is in docs/CONTENT.md ("Keystore").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "io/env.h"

namespace medledger::content {

struct KeyRecord {
  std::string binding;  // SHA-256 of the report id, 32 raw bytes
  std::string key_id;
  std::string kek_id;
  std::string wrapped;  // the data key, wrapped by the KEK named kek_id
};

class KeyLog {
 public:
  // kOwner: this process writes the log; a torn tail (a crash mid-append) is cut off on open.
  // kReader: another process owns it and may be appending right now; reading stops quietly at an incomplete
  // record, and the file is never truncated. Both may erase.
  enum class Mode { kOwner, kReader };

  // Creates the file (0600) when absent. "keystore_corrupted" when a record before the tail is damaged.
  // An owner's open reads the whole log once; `each` (optional) sees every live record of that read, as
  // Scan would. A reader's open reads nothing ("not_found" when there is no log).
  // The directory sync and Rewrite go through `env` (null: io::Env::Default()), which must outlive the log;
  // records are read, appended and erased at offsets by descriptor.
  static Result<std::unique_ptr<KeyLog>> Open(
      const std::filesystem::path& file, Mode mode,
      const std::function<Status(uint64_t offset, const KeyRecord&)>& each = nullptr, io::Env* env = nullptr);
  KeyLog(const KeyLog&) = delete;
  KeyLog& operator=(const KeyLog&) = delete;
  ~KeyLog();

  // Each live record in file order (erased records are skipped). Stops at the first error `fn` returns.
  Status Scan(const std::function<Status(uint64_t offset, const KeyRecord&)>& fn) const;
  // Appends a record and returns its offset; fdatasyncs before returning when `sync`. Owner only.
  Result<uint64_t> Append(const KeyRecord& record, bool sync);
  // fdatasync: every record appended before is durable.
  Status Sync();
  // The record at `offset`; "key_destroyed" when it was erased.
  Result<KeyRecord> ReadAt(uint64_t offset) const;
  // Overwrites the records at `offsets` with zeros (their lengths stay, so the log still parses), then
  // fdatasyncs: the wrapped keys are gone from the live file.
  Status Erase(std::span<const uint64_t> offsets);
  // Replaces the log with `records` (a sibling file, fsynced, renamed over, directory fsynced) and returns
  // their new offsets. Owner only.
  Result<std::vector<uint64_t>> Rewrite(const std::vector<KeyRecord>& records);

 private:
  KeyLog(std::filesystem::path file, io::Env* env, UniqueFd fd, Mode mode, uint64_t end)
      : file_(std::move(file)), env_(env), fd_(std::move(fd)), mode_(mode), end_(end) {}

  std::filesystem::path file_;
  io::Env* env_;
  mutable std::mutex mu_;  // guards fd_ (Rewrite swaps it) and end_
  UniqueFd fd_;
  Mode mode_;
  uint64_t end_;  // where the next append goes
};

// The record's bytes as they are written: a 4-byte length, a 4-byte check (the first bytes of the body's
// SHA-256), then the body. Exposed for the parser tests.
std::string EncodeKeyRecord(const KeyRecord& record);
// "record_truncated" / "record_damaged" / "record_erased"; `*used` gets the record's size in bytes.
Result<KeyRecord> DecodeKeyRecord(std::string_view bytes, size_t* used);

}  // namespace medledger::content
