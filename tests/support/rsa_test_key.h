// An RSA private key for tests that need RSA signatures (medledger itself only ever verifies them):
// its public components as a JWK carries them, and RS256/PS256 signing.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <string_view>

namespace medledger::testing {

class RsaTestKey {
 public:
  explicit RsaTestKey(unsigned bits = 2048) : key_(EVP_RSA_gen(bits)) {}
  std::string modulus() const { return BigEndian(OSSL_PKEY_PARAM_RSA_N); }   // unsigned big-endian
  std::string exponent() const { return BigEndian(OSSL_PKEY_PARAM_RSA_E); }  // unsigned big-endian
  // SHA-256 signature with PKCS#1 v1.5 padding (RS256) or PSS with a 32-byte salt (PS256).
  std::string Sign(std::string_view message, bool pss = false) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(md.get(), &pctx, EVP_sha256(), nullptr, key_.get());
    EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING);
    if (pss) EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    const auto* in = reinterpret_cast<const unsigned char*>(message.data());
    size_t len = 0;
    EVP_DigestSign(md.get(), nullptr, &len, in, message.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, message.size());
    sig.resize(len);
    return sig;
  }

 private:
  struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  std::string BigEndian(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }
  std::unique_ptr<EVP_PKEY, Free> key_;
};

}  // namespace medledger::testing
