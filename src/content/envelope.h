// The sealed form of one report, as stored in the content store (documented in docs/CONTENT.md):
//   "MLEV" | version u8 (1) | alg u8 (1 = AES-256-GCM) | key id length u8 | key id | nonce (12) | ciphertext||tag (16)
// AAD = every header byte above (so the key id and algorithm cannot be swapped) || "medledger report v1" ||
//       u32be len || report id || u32be len || patient ref.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr uint8_t kEnvelopeAlgAes256Gcm = 1;

struct EnvelopeBinding {
  std::string_view report_id;
  std::string_view patient_ref;
};

struct ParsedEnvelope {
  uint8_t version = 0;
  uint8_t alg = 0;
  std::string key_id;
  std::string_view header;  // the bytes before the ciphertext (part of the AAD)
  std::string_view nonce;
  std::string_view ciphertext;  // with the tag
};

// `data_key` is 32 bytes; `key_id` 1..255 bytes. A fresh random nonce per call.
Result<std::string> SealEnvelope(std::string_view data_key, std::string_view key_id, const EnvelopeBinding& binding,
                                 std::string_view plaintext);
// The result views into `bytes` (no copy of the ciphertext), which must outlive it.
// Codes: "envelope_invalid", "envelope_unsupported_version", "envelope_unsupported_alg".
Result<ParsedEnvelope> ParseEnvelope(std::string_view bytes);
// "decrypt_failed" when the key, binding or any byte of the envelope is wrong.
Result<std::string> OpenEnvelope(std::string_view data_key, const ParsedEnvelope& envelope,
                                 const EnvelopeBinding& binding);

}  // namespace medledger::content
