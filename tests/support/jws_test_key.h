// A SMART Backend Services client's key pair for tests (ES384 on P-384 or RS384 on RSA-2048), made and used
// with OpenSSL directly: the test signs its client assertions as a real client would, independently of the
// server's verifier (src/crypto/jws_client_key).
#pragma once

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/encoding.h"

namespace medledger::testing {

// A client's key pair, made and used with OpenSSL directly: the test signs as a client would.
class TestKey {
 public:
  static TestKey Ec() { return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), "ES384"); }
  static TestKey Rsa() { return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}), "RS384"); }

  nlohmann::json Jwk(const std::string& kid) const {
    nlohmann::json j;
    if (alg_ == "ES384") {
      unsigned char point[200];
      size_t len = 0;
      EXPECT_EQ(EVP_PKEY_get_octet_string_param(pkey_.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len), 1);
      std::string p(reinterpret_cast<char*>(point), len);
      j = {{"kty", "EC"},
           {"crv", "P-384"},
           {"x", Base64UrlEncode(p.substr(1, 48))},
           {"y", Base64UrlEncode(p.substr(49))}};
    } else {
      j = {{"kty", "RSA"},
           {"n", Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_N))},
           {"e", Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_E))}};
    }
    if (!kid.empty()) j["kid"] = kid;
    return j;
  }

  std::string Sign(nlohmann::json header, const nlohmann::json& claims) const {
    if (!header.contains("alg")) header["alg"] = alg_;
    std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    size_t len = 0;
    EXPECT_EQ(EVP_DigestSignInit_ex(md, nullptr, "SHA384", nullptr, nullptr, pkey_.get(), nullptr), 1);
    EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EXPECT_EQ(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(md);
    sig.resize(len);
    if (alg_ == "ES384") {  // DER -> JWS r||s
      const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      unsigned char raw[96];
      BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 48);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 48, 48);
      ECDSA_SIG_free(es);
      sig.assign(reinterpret_cast<char*>(raw), 96);
    }
    return input + "." + Base64UrlEncode(sig);
  }

 private:
  TestKey(EVP_PKEY* k, std::string alg) : pkey_(k, EVP_PKEY_free), alg_(std::move(alg)) {}
  std::string Bn(const char* name) const {
    BIGNUM* bn = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(pkey_.get(), name, &bn), 1);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string alg_;
};

}  // namespace medledger::testing
