#include "content/key_wrap.h"

#include "common/encoding.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

std::string WrapAad(std::string_view report_id, std::string_view key_id) {
  std::string aad = "medledger key wrap v1";
  PutLengthPrefixed(&aad, report_id);
  PutLengthPrefixed(&aad, key_id);
  return aad;
}

}  // namespace

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutFixed32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

Result<std::string_view> ReadLengthPrefixed(std::string_view* in) {
  if (in->size() < 4) return MakeError(ErrorKind::kCorruption, "record_truncated", "truncated length prefix");
  uint32_t n = DecodeFixed32(in->data());
  in->remove_prefix(4);
  if (n > in->size()) return MakeError(ErrorKind::kCorruption, "record_truncated", "field runs past the end");
  std::string_view s = in->substr(0, n);
  in->remove_prefix(n);
  return s;
}

Result<std::string> WrapKey(std::string_view kek, std::string_view report_id, std::string_view key_id,
                            std::string_view data_key) {
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(auto sealed, crypto::AesGcmSeal(kek, nonce, data_key, WrapAad(report_id, key_id)));
  return nonce + sealed;
}

Result<std::string> UnwrapKey(std::string_view kek, std::string_view report_id, std::string_view key_id,
                              std::string_view wrapped) {
  if (wrapped.size() < crypto::kGcmNonceSize + crypto::kGcmTagSize) {
    return MakeError(ErrorKind::kCorruption, "key_unwrap_failed", "wrapped key is truncated");
  }
  auto key = crypto::AesGcmOpen(kek, wrapped.substr(0, crypto::kGcmNonceSize), wrapped.substr(crypto::kGcmNonceSize),
                                WrapAad(report_id, key_id));
  if (!key.ok()) return MakeError(ErrorKind::kCorruption, "key_unwrap_failed", "data key does not unwrap");
  return key;
}

}  // namespace medledger::content
