#include "crypto/rsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "crypto/openssl_util.h"

namespace medledger::crypto {
namespace {

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Error Invalid(std::string message) {
  internal::ClearOpensslErrors();
  return MakeError(ErrorKind::kInvalidArgument, "rsa_key_invalid", std::move(message));
}

std::unique_ptr<BIGNUM, BnDeleter> ToBignum(std::string_view bytes) {
  return std::unique_ptr<BIGNUM, BnDeleter>(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

}  // namespace

Result<RsaPublicKey> RsaPublicKey::FromComponents(std::string_view modulus, std::string_view exponent) {
  // Bounds before any arithmetic: the bytes may come from a hostile key document.
  if (modulus.empty() || modulus.size() > kMaxBits / 8 + 1) return Invalid("RSA modulus size out of range");
  if (exponent.empty() || exponent.size() > 8) return Invalid("RSA exponent size out of range");
  auto n = ToBignum(modulus);
  auto e = ToBignum(exponent);
  if (!n || !e) return internal::OpensslError(ErrorKind::kInternal, "rsa_key_invalid", "decode RSA components");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinBits || bits > kMaxBits) {
    return Invalid("RSA modulus of " + std::to_string(bits) + " bits; " + std::to_string(kMinBits) + " to " +
                   std::to_string(kMaxBits) + " accepted");
  }
  if (!BN_is_odd(n.get())) return Invalid("RSA modulus is even");
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2) return Invalid("RSA exponent must be odd and at least 3");

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "rsa_key_invalid", "build RSA parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) {
    return Invalid("OpenSSL refused the RSA public key");
  }
  return RsaPublicKey(std::shared_ptr<void>(raw, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }));
}

int RsaPublicKey::bits() const {
  return EVP_PKEY_get_bits(static_cast<EVP_PKEY*>(pkey_.get()));
}

bool RsaPublicKey::VerifySha256(std::string_view message, std::string_view signature, Padding padding) const {
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  bool ok = md && EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, pkey) == 1;
  if (ok && padding == Padding::kPss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  } else if (ok) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                              reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  internal::ClearOpensslErrors();  // a bad signature leaves reasons on the queue; they are not news
  return ok;
}

}  // namespace medledger::crypto
