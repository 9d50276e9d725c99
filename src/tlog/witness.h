// The witness's logic (C2SP tlog-witness semantics): it remembers the last checkpoint it cosigned for one
// log, and cosigns a new one only if the log signed it and it is consistent with that one. Two log-signed
// checkpoints that cannot both be true (same size and different roots, or a larger size whose consistency
// proof from ours fails) are a fork: both notes and the proof are written as evidence and "witness_fork" is
// returned; the state does not move. A smaller size than ours is refused ("witness_rollback").
//
// State directory (owner-only): `checkpoint` (the last cosigned note, log signature included, replaced
// atomically before any cosignature is handed out) and `evidence/fork-<unix time>-<old size>-<new size>/`
// (`cosigned.note`, `conflicting.note`, `proof`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "io/env.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"

namespace medledger::tlog {

enum class WitnessOutcome {
  kFirst,      // no earlier checkpoint: trusted on first use
  kGrown,      // a larger tree, consistent with ours
  kUnchanged,  // the same tree again (cosigned with a fresh time)
};

struct WitnessVerdict {
  WitnessOutcome outcome = WitnessOutcome::kFirst;
  SignedCheckpoint checkpoint;
};

// Pure check of `note` against the last cosigned checkpoint (nullopt: none). Errors: the note's own
// ("note_unverified", "invalid_checkpoint", ...), "witness_origin_mismatch", "witness_rollback",
// "witness_fork" (kConflict).
Result<WitnessVerdict> CheckCheckpoint(const std::optional<SignedCheckpoint>& last, std::string_view note,
                                       const NoteVerifier& log_key, const std::vector<std::string>& proof);

class Witness {
 public:
  // The log key must be type 0x01 and the witness key type 0x04 ("invalid_argument"). Loads and re-verifies
  // the saved state ("witness_state_invalid" if it no longer opens with the log key).
  static Result<std::unique_ptr<Witness>> Open(NoteVerifier log_key, NoteSigner key,
                                               const std::filesystem::path& state_dir, io::Env* env = nullptr);

  const std::optional<SignedCheckpoint>& last() const { return last_; }
  uint64_t last_size() const { return last_ ? last_->checkpoint.size : 0; }

  struct Cosigned {
    WitnessOutcome outcome = WitnessOutcome::kFirst;
    Checkpoint checkpoint;
    std::string note;           // the log-signed note that was cosigned
    NoteSignature cosignature;  // its cosignature/v1 line
  };
  // Checks `note` (with the consistency proof from last_size() to its size), saves it as the new state and
  // cosigns it at `now` (unix seconds). On a fork the evidence is written first and the error's message
  // names both roots (base64) and the evidence directory.
  Result<Cosigned> Observe(std::string_view note, const std::vector<std::string>& proof, uint64_t now);

 private:
  Witness(NoteVerifier log_key, NoteSigner key, std::filesystem::path dir, io::Env* env)
      : log_key_(std::move(log_key)), key_(std::move(key)), dir_(std::move(dir)), env_(env) {}
  Status WriteEvidence(std::string_view note, const std::vector<std::string>& proof, uint64_t now, uint64_t new_size,
                       std::filesystem::path* where) const;

  NoteVerifier log_key_;
  NoteSigner key_;
  std::filesystem::path dir_;
  io::Env* env_;  // not owned; outlives the witness
  std::optional<SignedCheckpoint> last_;
  std::string last_note_;
};

}  // namespace medledger::tlog
