#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <vector>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace medledger::crypto {
namespace {

enum class Mode { kBoth, kExtractOnly, kExpandOnly };

// One HKDF call through OpenSSL's KDF API. `salt` and `info` are ignored by the modes that do not use them.
Result<std::string> Derive(Mode mode, std::string_view key, std::string_view salt, std::string_view info,
                           size_t length) {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(kdf ? EVP_KDF_CTX_new(kdf) : nullptr, EVP_KDF_CTX_free);
  if (!ctx) return internal::OpensslError(ErrorKind::kInternal, "crypto_unavailable", "HKDF");
  char digest[] = "SHA256";
  int mode_value = mode == Mode::kBoth          ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND
                   : mode == Mode::kExtractOnly ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY
                                                : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  // OpenSSL wants non-null pointers even for empty octet strings.
  static char empty = 0;
  auto ptr = [](std::string_view s) { return s.empty() ? &empty : const_cast<char*>(s.data()); };
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode_value),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ptr(key), key.size()),
  };
  if (mode != Mode::kExpandOnly) {
    params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, ptr(salt), salt.size()));
  }
  if (mode != Mode::kExtractOnly) {
    params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ptr(info), info.size()));
  }
  params.push_back(OSSL_PARAM_construct_end());
  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params.data()) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "kdf_failed", "HKDF-SHA-256 derive");
  }
  return out;
}

Status CheckLength(size_t length) {
  if (length == 0 || length > 255 * kSha256Size) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_kdf_length", "HKDF-SHA-256 output must be 1..8160 bytes");
  }
  return OkStatus();
}

}  // namespace

Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length) {
  ML_RETURN_IF_ERROR(CheckLength(length));
  return Derive(Mode::kBoth, ikm, salt, info, length);
}

Result<std::string> HkdfSha256Extract(std::string_view salt, std::string_view ikm) {
  return Derive(Mode::kExtractOnly, ikm, salt, {}, kSha256Size);
}

Result<std::string> HkdfSha256Expand(std::string_view prk, std::string_view info, size_t length) {
  ML_RETURN_IF_ERROR(CheckLength(length));
  if (prk.size() < kSha256Size) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_prk_size", "an HKDF-SHA-256 PRK is at least 32 bytes");
  }
  return Derive(Mode::kExpandOnly, prk, {}, info, length);
}

}  // namespace medledger::crypto
