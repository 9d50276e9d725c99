#include "content/envelope.h"

#include "content/key_wrap.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

constexpr std::string_view kMagic = "MLEV";

std::string Aad(std::string_view header, const EnvelopeBinding& b) {
  std::string aad;
  aad.reserve(header.size() + 64 + b.report_id.size() + b.patient_ref.size());
  aad.append(header);
  aad.append("medledger report v1");
  PutLengthPrefixed(&aad, b.report_id);
  PutLengthPrefixed(&aad, b.patient_ref);
  return aad;
}

Error Invalid(const char* what) {
  return MakeError(ErrorKind::kInvalidArgument, "envelope_invalid", what);
}

}  // namespace

Result<std::string> SealEnvelope(std::string_view data_key, std::string_view key_id, const EnvelopeBinding& binding,
                                 std::string_view plaintext) {
  if (data_key.size() != crypto::kAesKeySize) {
    return MakeError(ErrorKind::kInvalidArgument, "envelope_bad_key", "data key must be 32 bytes");
  }
  if (key_id.empty() || key_id.size() > 255) {
    return MakeError(ErrorKind::kInvalidArgument, "envelope_bad_key_id", "key id must be 1..255 bytes");
  }
  std::string header(kMagic);
  header.push_back(static_cast<char>(kEnvelopeVersion));
  header.push_back(static_cast<char>(kEnvelopeAlgAes256Gcm));
  header.push_back(static_cast<char>(key_id.size()));
  header.append(key_id);
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  header.append(nonce);
  ML_ASSIGN_OR_RETURN(auto sealed, crypto::AesGcmSeal(data_key, nonce, plaintext, Aad(header, binding)));
  header.append(sealed);
  return header;
}

Result<ParsedEnvelope> ParseEnvelope(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 3 || bytes.substr(0, kMagic.size()) != kMagic) {
    return Invalid("not a medledger envelope (bad magic)");
  }
  ParsedEnvelope e;
  e.version = static_cast<uint8_t>(bytes[4]);
  e.alg = static_cast<uint8_t>(bytes[5]);
  if (e.version != kEnvelopeVersion) {
    return MakeError(ErrorKind::kInvalidArgument, "envelope_unsupported_version", "unknown envelope version");
  }
  if (e.alg != kEnvelopeAlgAes256Gcm) {
    return MakeError(ErrorKind::kInvalidArgument, "envelope_unsupported_alg", "unknown envelope algorithm");
  }
  size_t key_len = static_cast<uint8_t>(bytes[6]);
  if (key_len == 0) return Invalid("empty key id");
  size_t header_len = 7 + key_len + crypto::kGcmNonceSize;
  if (bytes.size() < header_len + crypto::kGcmTagSize) return Invalid("envelope is truncated");
  e.key_id = std::string(bytes.substr(7, key_len));
  e.header = bytes.substr(0, header_len);
  e.nonce = bytes.substr(7 + key_len, crypto::kGcmNonceSize);
  e.ciphertext = bytes.substr(header_len);
  return e;
}

Result<std::string> OpenEnvelope(std::string_view data_key, const ParsedEnvelope& e, const EnvelopeBinding& binding) {
  if (data_key.size() != crypto::kAesKeySize) {
    return MakeError(ErrorKind::kInvalidArgument, "envelope_bad_key", "data key must be 32 bytes");
  }
  return crypto::AesGcmOpen(data_key, e.nonce, e.ciphertext, Aad(e.header, binding));
}

}  // namespace medledger::content
