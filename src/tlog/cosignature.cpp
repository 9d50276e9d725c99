#include "tlog/cosignature.h"

#include "common/encoding.h"

namespace medledger::tlog {

std::string CosignatureMessage(std::string_view checkpoint_text, uint64_t time) {
  std::string out = "cosignature/v1\ntime " + std::to_string(time) + "\n";
  out += checkpoint_text;
  return out;
}

Result<NoteSignature> Cosign(const NoteSigner& witness, std::string_view checkpoint_text, uint64_t time) {
  if (witness.type() != SignatureType::kCosignatureV1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument", "a cosignature key has type 0x04");
  }
  if (time > static_cast<uint64_t>(INT64_MAX)) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument", "the time is at most 2^63-1");
  }
  if (checkpoint_text.empty() || checkpoint_text.back() != '\n' || !IsValidNoteText(checkpoint_text)) {
    return MakeError(ErrorKind::kInvalidArgument, "note_malformed", "invalid checkpoint text");
  }
  ML_ASSIGN_OR_RETURN(std::string sig, witness.key_pair().Sign(CosignatureMessage(checkpoint_text, time)));
  std::string raw;
  PutFixed64(&raw, time);
  raw += sig;
  NoteSignature out;
  out.name = witness.name();
  out.key_id = witness.key_id();
  out.signature = raw;
  std::string with_id;
  PutFixed32(&with_id, witness.key_id());
  out.base64 = Base64Encode(with_id + raw);
  return out;
}

Result<uint64_t> VerifyCosignature(const NoteVerifier& witness, std::string_view checkpoint_text,
                                   std::string_view signature_line) {
  if (witness.type() != SignatureType::kCosignatureV1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_vkey", "a witness key has type 0x04");
  }
  ML_ASSIGN_OR_RETURN(NoteSignature sig, ParseSignatureLine(signature_line));
  if (sig.name != witness.name() || sig.key_id != witness.key_id()) {
    return MakeError(ErrorKind::kInvalidArgument, "cosignature_unknown_key", "the cosignature is by another key");
  }
  if (sig.signature.size() != 72 || !witness.Verify(checkpoint_text, sig.signature)) {
    return MakeError(ErrorKind::kUnauthenticated, "cosignature_invalid", "the cosignature does not verify");
  }
  return DecodeFixed64(sig.signature.data());
}

}  // namespace medledger::tlog
