#include "tlog/witness.h"

#include "common/encoding.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::tlog {
namespace {

constexpr size_t kMaxStateFile = kMaxNoteSize;

Error Fork(const Checkpoint& old_cp, const Checkpoint& new_cp, const std::string& why) {
  return MakeError(ErrorKind::kConflict, "witness_fork",
                   why + ": cosigned size " + std::to_string(old_cp.size) + " root " + Base64Encode(old_cp.root_hash) +
                       ", log now shows size " + std::to_string(new_cp.size) + " root " +
                       Base64Encode(new_cp.root_hash));
}

}  // namespace

Result<WitnessVerdict> CheckCheckpoint(const std::optional<SignedCheckpoint>& last, std::string_view note,
                                       const NoteVerifier& log_key, const std::vector<std::string>& proof) {
  ML_ASSIGN_OR_RETURN(SignedCheckpoint next, OpenCheckpoint(note, log_key));
  if (!last) return WitnessVerdict{WitnessOutcome::kFirst, std::move(next)};
  const Checkpoint& old_cp = last->checkpoint;
  const Checkpoint& new_cp = next.checkpoint;
  if (new_cp.origin != old_cp.origin) {
    return MakeError(ErrorKind::kInvalidArgument, "witness_origin_mismatch", "the checkpoint is for another log");
  }
  if (new_cp.size < old_cp.size) {
    return MakeError(
        ErrorKind::kConflict, "witness_rollback",
        "the log's size went back from " + std::to_string(old_cp.size) + " to " + std::to_string(new_cp.size));
  }
  if (new_cp.size == old_cp.size) {
    if (new_cp.root_hash != old_cp.root_hash) return Fork(old_cp, new_cp, "two roots for one tree size");
    return WitnessVerdict{WitnessOutcome::kUnchanged, std::move(next)};
  }
  Status consistent = VerifyConsistency(old_cp.size, new_cp.size, old_cp.root_hash, new_cp.root_hash, proof);
  if (!consistent.ok()) {
    return Fork(old_cp, new_cp, "no consistency between the trees (" + consistent.error().code + ")");
  }
  return WitnessVerdict{WitnessOutcome::kGrown, std::move(next)};
}

Result<std::unique_ptr<Witness>> Witness::Open(NoteVerifier log_key, NoteSigner key,
                                               const std::filesystem::path& state_dir, io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  if (log_key.type() != SignatureType::kEd25519 || key.type() != SignatureType::kCosignatureV1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument",
                     "the log key is a note key (type 0x01) and the witness key a cosignature key (type 0x04)");
  }
  ML_RETURN_IF_ERROR(env->CreateDirs(state_dir.string()));
  std::unique_ptr<Witness> w(new Witness(std::move(log_key), std::move(key), state_dir, env));
  auto saved = io::ReadFile(*env, (state_dir / "checkpoint").string(), kMaxStateFile);
  if (saved.ok()) {
    auto opened = OpenCheckpoint(*saved, w->log_key_);
    if (!opened.ok()) {
      return MakeError(ErrorKind::kCorruption, "witness_state_invalid",
                       "the saved checkpoint does not open with the log key: " + opened.error().code);
    }
    w->last_ = std::move(opened).value();
    w->last_note_ = std::move(saved).value();
  } else if (saved.error().code != "not_found") {
    return saved.error();
  }
  return w;
}

Status Witness::WriteEvidence(std::string_view note, const std::vector<std::string>& proof, uint64_t now,
                              uint64_t new_size, std::filesystem::path* where) const {
  const auto dir = dir_ / "evidence" /
                   ("fork-" + std::to_string(now) + "-" + std::to_string(last_size()) + "-" + std::to_string(new_size));
  ML_RETURN_IF_ERROR(env_->CreateDirs(dir.string()));
  std::string proof_text;
  for (const auto& h : proof) proof_text += Base64Encode(h) + "\n";
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env_, (dir / "cosigned.note").string(), last_note_));
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env_, (dir / "conflicting.note").string(), note));
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env_, (dir / "proof").string(), proof_text));
  ML_RETURN_IF_ERROR(env_->SyncDir(dir.parent_path().string()));
  *where = dir;
  return OkStatus();
}

Result<Witness::Cosigned> Witness::Observe(std::string_view note, const std::vector<std::string>& proof, uint64_t now) {
  auto verdict = CheckCheckpoint(last_, note, log_key_, proof);
  if (!verdict.ok()) {
    if (verdict.error().code != "witness_fork") return verdict.error();
    // CheckCheckpoint reports a fork only for a note that opened with the log key.
    auto conflicting = OpenCheckpoint(note, log_key_);
    const uint64_t new_size = conflicting.ok() ? conflicting->checkpoint.size : 0;
    std::filesystem::path where;
    ML_RETURN_IF_ERROR(WriteEvidence(note, proof, now, new_size, &where));
    Error e = verdict.error();
    e.message += "; evidence in " + where.string();
    return e;
  }
  // The state moves before the cosignature leaves: a witness that crashed after cosigning must not later
  // cosign a conflicting checkpoint of the same size.
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env_, (dir_ / "checkpoint").string(), note));
  last_ = verdict->checkpoint;
  last_note_ = std::string(note);
  ML_ASSIGN_OR_RETURN(NoteSignature cosig, Cosign(key_, verdict->checkpoint.note.text, now));
  return Cosigned{verdict->outcome, verdict->checkpoint.checkpoint, std::string(note), std::move(cosig)};
}

}  // namespace medledger::tlog
