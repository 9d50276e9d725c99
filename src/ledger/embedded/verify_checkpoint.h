// DIR/ledger/verify-checkpoint.json: what the last successful `medledger verify` vouched for, signed by the
// organisation's peer identity, so the next run re-verifies only the blocks after it (docs/LEDGER.md,
// "Resuming from a checkpoint").
#pragma once

#include <filesystem>
#include <optional>

#include "common/result.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "io/env.h"
#include "ledger/embedded/verifier.h"

namespace medledger::ledger::embedded {

inline constexpr const char* kVerifyCheckpointFile = "verify-checkpoint.json";

// Signs `prefix` (verified_at set to now) and replaces the file atomically, through `env` (null:
// io::Env::Default()).
Status WriteVerifyCheckpoint(const std::filesystem::path& file, VerifiedPrefix prefix,
                             const identity::SigningIdentity& signer, io::Env* env = nullptr);

// nullopt when there is no file. A file that does not parse, or whose signature does not verify with
// `signer` (the organisation's peer certificate), is "verify_checkpoint_mismatch": never silently ignored.
Result<std::optional<VerifiedPrefix>> ReadVerifyCheckpoint(const std::filesystem::path& file,
                                                           const crypto::Certificate& signer, io::Env* env = nullptr);

}  // namespace medledger::ledger::embedded
