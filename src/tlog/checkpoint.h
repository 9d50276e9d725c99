// C2SP tlog-checkpoint bodies: "<origin>\n<size>\n<base64 root>\n" and optional non-empty extension lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tlog/note.h"

namespace medledger::tlog {

inline constexpr size_t kMaxCheckpointExtensions = 16;

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root_hash;  // 32 raw bytes
  std::vector<std::string> extensions;

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The note text. Requires a valid checkpoint (ValidateCheckpoint).
std::string FormatCheckpoint(const Checkpoint& checkpoint);
// "invalid_checkpoint" unless the origin is non-empty note text without newline, the hash 32 bytes and every
// extension line non-empty note text without newline.
Status ValidateCheckpoint(const Checkpoint& checkpoint);
// Strict inverse of FormatCheckpoint: decimal size without sign or leading zeros, canonical padded base64 of
// exactly 32 bytes, every line newline-terminated, nothing else. "invalid_checkpoint".
Result<Checkpoint> ParseCheckpoint(std::string_view text);

struct SignedCheckpoint {
  Checkpoint checkpoint;
  OpenedNote note;
};

// Opens a signed checkpoint note with the log's verifier (type 0x01) and parses its text. The origin must
// equal `log_key.name()` when `origin_must_match_key` ("checkpoint_origin_mismatch"), which is how this
// project names its log keys (RECEIPTS.md).
Result<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log_key,
                                        bool origin_must_match_key = true);

}  // namespace medledger::tlog
