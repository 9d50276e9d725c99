// The embedded store's pins: an append-only log <dir>/pins.log of lines "+<CID>" and "-<CID>", replayed into a
// set on open. One short append per pin instead of a file per pin (the layout before, <dir>/pins/<CID>, which is
// imported into the log and removed on first open). The log is rewritten compactly on open once it holds many
// more lines than pins. A last line without its newline is a write a crash cut short and is dropped; any
// other line that does not parse marks the log damaged: pins keep working, but Pins() (and so garbage
// collection) refuse to run on a pin set they cannot trust.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "content/cid.h"
#include "io/env.h"

namespace medledger::content {

class PinLog {
 public:
  // `sync`: fdatasync each change before returning (else the caller flushes, e.g. with a filesystem barrier).
  // The log is read and written through `env` (null: io::Env::Default()), which must outlive it.
  static Result<std::unique_ptr<PinLog>> Open(const std::filesystem::path& dir, bool sync, io::Env* env = nullptr);
  PinLog(const PinLog&) = delete;
  PinLog& operator=(const PinLog&) = delete;

  Status Add(const Cid& cid);     // idempotent
  Status Remove(const Cid& cid);  // "not_pinned"
  bool Contains(const Cid& cid) const;
  // The pinned CIDs as they were pinned (v0 or v1 text); "pin_corrupted" when the log is damaged.
  Result<std::vector<std::string>> List() const;

 private:
  PinLog(std::filesystem::path file, io::Env* env, std::shared_ptr<io::WritableFile> out, uint64_t size, bool sync)
      : file_(std::move(file)), env_(env), out_(std::move(out)), size_(size), sync_(sync) {}
  Status AppendLine(char op, const std::string& cid_text);  // with mu_ held
  Status Flush();                                           // fdatasync when syncing

  std::filesystem::path file_;
  io::Env* env_;
  mutable std::mutex mu_;
  std::shared_ptr<io::WritableFile> out_;  // appends at size_; shared with a Flush running outside mu_
  uint64_t size_;                          // the log's length: every line written whole
  bool sync_;
  std::map<std::string, std::string> pins_;  // CIDv1 text -> the text it was pinned as
  std::string damage_;                       // why the log cannot be trusted, or empty
};

}  // namespace medledger::content
