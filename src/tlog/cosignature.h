// C2SP tlog-cosignature, cosignature/v1: a witness's timestamped Ed25519 signature (note signature type 0x04)
// over "cosignature/v1\ntime <t>\n" followed by the checkpoint text. The note signature's bytes are
// key ID(4) || time(8, big-endian) || Ed25519 signature(64).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tlog/note.h"

namespace medledger::tlog {

// The signed message (time without leading zeros).
std::string CosignatureMessage(std::string_view checkpoint_text, uint64_t time);

// A signature line "— <witness name> <base64>\n" over `checkpoint_text` at `time` (seconds since the epoch,
// at most 2^63-1). The signer must be of type 0x04 ("invalid_argument").
Result<NoteSignature> Cosign(const NoteSigner& witness, std::string_view checkpoint_text, uint64_t time);

// Verifies one cosignature line with a type-0x04 verifier and returns its time. "cosignature_unknown_key"
// (the line names another key), "cosignature_invalid" (a bad signature or shape), "note_malformed".
Result<uint64_t> VerifyCosignature(const NoteVerifier& witness, std::string_view checkpoint_text,
                                   std::string_view signature_line);

}  // namespace medledger::tlog
