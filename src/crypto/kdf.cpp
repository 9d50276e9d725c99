#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "crypto/openssl_util.h"

namespace medledger::crypto {

Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length) {
  if (length == 0 || length > 255 * 32) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_kdf_length", "HKDF-SHA-256 output must be 1..8160 bytes");
  }
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(kdf ? EVP_KDF_CTX_new(kdf) : nullptr, EVP_KDF_CTX_free);
  if (!ctx) return internal::OpensslError(ErrorKind::kInternal, "crypto_unavailable", "HKDF");
  char digest[] = "SHA256";
  // OpenSSL wants non-null pointers even for empty octet strings.
  static char empty = 0;
  auto ptr = [](std::string_view s) { return s.empty() ? &empty : const_cast<char*>(s.data()); };
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ptr(ikm), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, ptr(salt), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ptr(info), info.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "kdf_failed", "HKDF-SHA-256 derive");
  }
  return out;
}

}  // namespace medledger::crypto
