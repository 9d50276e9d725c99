// Append-only block files, the embedded ledger's source of truth. A block is acknowledged only after
// Append returns, i.e. after its bytes are fsynced. Open() detects a torn tail left by a crash (partial
// record or bad checksum after the last good record) and truncates it; damage followed by intact
// records is corruption, never truncated. Format and recovery rules: docs/LEDGER_STORAGE.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"

namespace medledger::ledger::storage {

// Each record in a block file: [magic u32][payload length u32][crc32c u32 of payload][payload], big-endian.
inline constexpr uint32_t kBlockRecordMagic = 0x4D4C424Bu;  // "MLBK"
inline constexpr uint64_t kBlockRecordHeaderSize = 12;
inline constexpr uint64_t kMaxBlockBytes = 1ull << 30;  // one block's payload
std::string BlockFileName(uint32_t file_number);        // "blockfile_000000", as Fabric names them

struct BlockStoreOptions {
  uint64_t max_file_bytes = 64ull << 20;    // roll to a new file before a file would grow past this
  uint64_t verify_tail_bytes = 4ull << 20;  // Open checks the checksums of records in this tail of the last file
  bool verify_all_checksums = false;        // Open checks every record's checksum
  bool read_only = false;                   // never write: a torn tail is left in place (but not indexed)
};

// One record as stored, returned even when its checksum fails, so `medledger verify` can say precisely
// which block was altered and where.
struct RawBlockRecord {
  std::string payload;
  uint32_t stored_crc = 0;
  uint32_t computed_crc = 0;
  std::string file;     // path of the block file
  uint64_t offset = 0;  // of the record header within the file
  bool checksum_ok() const { return stored_crc == computed_crc; }
};

class BlockStore {
 public:
  // `env` may be null for the real file system; tests pass a fault-injecting Env.
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& dir, io::Env* env = nullptr);
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& dir, io::Env* env,
                                                  const BlockStoreOptions& options);
  virtual ~BlockStore() = default;

  // Appends serialized block `number` (must equal Height()) and fsyncs before returning. Safe to call
  // while other threads Read. After a failed fsync the store refuses further appends (the kernel may
  // have dropped the unsynced pages, so retrying could acknowledge lost data): reopen it to recover.
  virtual Status Append(uint64_t number, std::string_view block_bytes) = 0;
  // The block's bytes; kNotFound "block_not_found" past the end, kCorruption "block_corrupt" naming the
  // block when its checksum fails.
  virtual Result<std::string> Read(uint64_t number) const = 0;
  virtual Result<RawBlockRecord> ReadRaw(uint64_t number) const = 0;
  virtual uint64_t Height() const = 0;  // number of blocks stored
  // Bytes of torn tail removed by Open (0 after a clean shutdown).
  virtual uint64_t truncated_bytes() const = 0;
};

}  // namespace medledger::ledger::storage
