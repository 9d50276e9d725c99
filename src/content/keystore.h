// Where report data keys live: wrapped by a key-encryption key (KEK), outside the ledger and outside IPFS.
// The interface admits an HSM later; FileKeystore keeps everything in one directory, encrypted at rest.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "content/key_log.h"
#include "io/env.h"

namespace medledger::content {

class Keystore {
 public:
  virtual ~Keystore() = default;
  // Wraps and stores `data_key` for (report_id, key_id). "key_exists" if that key id is taken.
  virtual Status Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) = 0;
  // The unwrapped data key. "key_destroyed" when the report was erased (or never had this key).
  virtual Result<std::string> Load(std::string_view report_id, std::string_view key_id) = 0;
  // Crypto-shredding: every data key of the report is gone for good. Idempotent.
  virtual Status Destroy(std::string_view report_id) = 0;
  // Drops one data key (a version that never reached the ledger); the report's other keys stay. Idempotent.
  virtual Status DestroyKey(std::string_view report_id, std::string_view key_id) = 0;
  // How many data keys the report has (0 when erased or unknown).
  virtual Result<size_t> KeyCount(std::string_view report_id) = 0;
  // Generates a new KEK and re-wraps every data key with it; content is not touched.
  virtual Status RotateKek() = 0;
};

// Crypto-shredding of one report (every version's key). Returns how many keys were destroyed;
// "report_not_in_keystore" when there were none (an unknown report, or one erased before).
Result<size_t> ShredReport(Keystore& keys, std::string_view report_id);

// For tests and benchmarks: keys in memory, wrapped all the same so rotation has something to do.
class MemoryKeystore final : public Keystore {
 public:
  MemoryKeystore();
  Status Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) override;
  Result<std::string> Load(std::string_view report_id, std::string_view key_id) override;
  Status Destroy(std::string_view report_id) override;
  Status DestroyKey(std::string_view report_id, std::string_view key_id) override;
  Result<size_t> KeyCount(std::string_view report_id) override;
  Status RotateKek() override;

 private:
  std::mutex mu_;
  std::string kek_;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> wrapped_;  // report -> key id -> wrapped
};

// Files under <dir>: "keks" (every KEK, sealed under a key derived from the 32-byte master key) and "keys.log"
// (every wrapped data key, one appended record each; see KeyLog). All 0600. Formats are in docs/CONTENT.md.
//
// One process owns the store (it holds <dir>/owner.lock): it keeps an index of the log in memory, appends, and
// rotates. A second process that opens the store meanwhile (`medledger erase` while the server runs) is a
// reader: it may load, count and erase, each by scanning the log afresh, and erasure works for both because
// it zeroes the record in the one file both read. Erasures and rotation serialize on <dir>/erase.lock.
class FileKeystore final : public Keystore {
 public:
  // Creates the store (and its first KEK) when `dir` has none. "keystore_locked" when the master key is wrong.
  // `sync_stores` false: Store() leaves its write to a durability barrier the caller runs before anything
  // depends on the key (see SyncFilesystem); erasure, rotation and the KEK file are always synced.
  // Key files of the layout before the log (keys/<sha256 hex>) are imported into it and removed. The KEK file,
  // locks and the log's whole-file rewrites go through `env` (null: io::Env::Default()), which must outlive
  // the store; the log's records are written at offsets by descriptor (KeyLog).
  static Result<std::unique_ptr<FileKeystore>> Open(const std::filesystem::path& dir, std::string_view master_key,
                                                    bool sync_stores = true, io::Env* env = nullptr);

  // A reader cannot store or rotate: "keystore_busy".
  Status Store(std::string_view report_id, std::string_view key_id, std::string_view data_key) override;
  Result<std::string> Load(std::string_view report_id, std::string_view key_id) override;
  Status Destroy(std::string_view report_id) override;
  Status DestroyKey(std::string_view report_id, std::string_view key_id) override;
  Result<size_t> KeyCount(std::string_view report_id) override;
  Status RotateKek() override;

  std::string current_kek_id() const;
  bool owner() const { return log_ != nullptr; }

 private:
  struct Keks;
  struct Located {
    uint64_t offset;
    KeyRecord record;
  };
  FileKeystore(std::filesystem::path dir, std::string master, std::unique_ptr<Keks> keks, io::Env* env);
  Status SaveKeks();
  Status ImportKeyFiles();
  // The report's live records: from the index (owner) or a fresh scan (reader).
  Result<std::vector<Located>> Find(std::string_view binding);
  // A reader's handle on the log; null when there is no log yet.
  Result<std::unique_ptr<KeyLog>> OpenReaderLog() const;
  static Result<std::vector<Located>> ScanFor(const KeyLog& log, std::string_view binding);
  Status EraseWhere(std::string_view report_id, const std::function<bool(const KeyRecord&)>& which);

  std::filesystem::path dir_;
  io::Env* env_;
  bool sync_stores_ = true;
  std::string master_;  // derived key that seals the KEK file
  std::unique_ptr<Keks> keks_;
  std::unique_ptr<io::FileLock> owner_lock_;
  std::unique_ptr<KeyLog> log_;  // the owner's; null in a reader
  std::mutex index_mu_;
  std::unordered_map<std::string, std::vector<uint64_t>> index_;  // binding -> offsets of its records
  // Rotation takes kek_mu_ exclusively; everything else shares it and serializes per report on a stripe.
  mutable std::shared_mutex kek_mu_;
  std::array<std::mutex, 64> stripes_;
  std::mutex& StripeFor(std::string_view report_id);

 public:
  ~FileKeystore() override;
};

}  // namespace medledger::content
