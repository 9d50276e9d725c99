// Append-only block files, the embedded ledger's source of truth. A block is acknowledged only after
// Append returns, i.e. after its bytes are fsynced. Open() detects a torn tail left by a crash (partial
// record or bad checksum after the last good record) and truncates it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "ledger/embedded/env.h"

namespace medledger::ledger::embedded {

class BlockStore {
 public:
  // `env` may be null for the real file system; tests pass a fault-injecting Env.
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& dir, Env* env = nullptr);
  virtual ~BlockStore() = default;

  // Appends serialized block `number` (must equal Height()) and fsyncs before returning.
  virtual Status Append(uint64_t number, std::string_view block_bytes) = 0;
  virtual Result<std::string> Read(uint64_t number) const = 0;
  virtual uint64_t Height() const = 0;  // number of blocks stored
  // Bytes of torn tail removed by Open (0 after a clean shutdown).
  virtual uint64_t truncated_bytes() const = 0;
};

}  // namespace medledger::ledger::embedded
