#include "crypto/jws_client_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
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
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

Error Invalid(std::string message) {
  internal::ClearOpensslErrors();
  return MakeError(ErrorKind::kInvalidArgument, "client_key_invalid", std::move(message));
}

BnPtr ToBignum(std::string_view bytes) {
  return BnPtr(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

std::shared_ptr<void> Own(EVP_PKEY* raw) {
  return std::shared_ptr<void>(raw, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}

// EVP_PKEY_fromdata for a public key of `type` from `bld`'s parameters; null if OpenSSL refuses it.
EVP_PKEY* FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return raw;
}

}  // namespace

Result<JwsClientKey> JwsClientKey::FromEcP384(std::string_view x, std::string_view y) {
  if (x.size() != 48 || y.size() != 48) return Invalid("a P-384 key's x and y are 48 bytes each");
  std::string point = "\x04" + std::string(x) + std::string(y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "client_key_invalid", "build EC parameters");
  }
  auto pkey = Own(FromParams("EC", bld.get()));
  if (!pkey) return Invalid("the EC point is not a P-384 public key");
  // fromdata does not promise a full check; a point off the curve would make verification meaningless.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, static_cast<EVP_PKEY*>(pkey.get()), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return Invalid("the EC point is not on P-384");
  return JwsClientKey(Alg::kES384, std::move(pkey));
}

Result<JwsClientKey> JwsClientKey::FromRsa(std::string_view modulus, std::string_view exponent) {
  if (modulus.empty() || modulus.size() > kMaxRsaBits / 8 + 1) return Invalid("RSA modulus size out of range");
  if (exponent.empty() || exponent.size() > 8) return Invalid("RSA exponent size out of range");
  auto n = ToBignum(modulus);
  auto e = ToBignum(exponent);
  if (!n || !e) return internal::OpensslError(ErrorKind::kInternal, "client_key_invalid", "decode RSA components");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Invalid("RSA modulus of " + std::to_string(bits) + " bits; 2048 to 8192 accepted");
  }
  if (!BN_is_odd(n.get())) return Invalid("RSA modulus is even");
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2) return Invalid("RSA exponent must be odd and at least 3");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "client_key_invalid", "build RSA parameters");
  }
  auto pkey = Own(FromParams("RSA", bld.get()));
  if (!pkey) return Invalid("OpenSSL refused the RSA public key");
  return JwsClientKey(Alg::kRS384, std::move(pkey));
}

bool JwsClientKey::Verify(std::string_view signing_input, std::string_view signature) const {
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  std::string der;
  std::string_view sig = signature;
  if (alg_ == Alg::kES384) {
    if (signature.size() != 96) return false;
    auto r = ToBignum(signature.substr(0, 48));
    auto s = ToBignum(signature.substr(48));
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> es(ECDSA_SIG_new());
    if (!r || !s || !es || ECDSA_SIG_set0(es.get(), r.get(), s.get()) != 1) {
      internal::ClearOpensslErrors();
      return false;
    }
    r.release();  // owned by es now
    s.release();
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &out);
    if (len <= 0) {
      internal::ClearOpensslErrors();
      return false;
    }
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    sig = der;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) {
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  bool ok = md && EVP_DigestVerifyInit_ex(md.get(), &pctx, "SHA384", nullptr, nullptr, pkey, nullptr) == 1;
  if (ok && alg_ == Alg::kRS384) ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  ok = ok && EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  if (!ok) internal::ClearOpensslErrors();
  return ok;
}

}  // namespace medledger::crypto
