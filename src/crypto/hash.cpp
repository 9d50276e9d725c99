#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace medledger::crypto {
namespace {

[[noreturn]] void Fatal(const char* what) {
  // SHA-256 failing means the OpenSSL installation is broken; every caller would be wrong anyway.
  std::fprintf(stderr, "medledger: OpenSSL %s failed; aborting\n", what);
  std::abort();
}

// Fetched once: implicit fetching by name on every call is a measurable cost in OpenSSL 3.
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) Fatal("SHA256 fetch");
    return m;
  }();
  return md;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) Fatal("HMAC fetch");
    return m;
  }();
  return mac;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// One reusable context per thread: avoids an allocation per hash on the ledger's hot path.
EVP_MD_CTX* ThreadMdCtx() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) Fatal("EVP_MD_CTX_new");
  return ctx.get();
}

}  // namespace

std::string Sha256(std::string_view data) {
  EVP_MD_CTX* ctx = ThreadMdCtx();
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) != 1 || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != kSha256Size) {
    Fatal("SHA-256");
  }
  return out;
}

struct Sha256Hasher::State {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : state_(std::make_unique<State>()) {
  if (!state_->ctx || EVP_DigestInit_ex2(state_->ctx.get(), Sha256Md(), nullptr) != 1) Fatal("SHA-256 init");
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(std::string_view data) {
  if (EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size()) != 1) Fatal("SHA-256 update");
}

std::string Sha256Hasher::Finish() {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      EVP_DigestInit_ex2(state_->ctx.get(), Sha256Md(), nullptr) != 1) {
    Fatal("SHA-256 final");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(HmacMac()));
  if (!ctx) Fatal("EVP_MAC_CTX_new");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  // A zero-length key is legal for HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const auto* key_ptr = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 ||
      len != kSha256Size) {
    Fatal("HMAC-SHA-256");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // lengths of MACs and tags are public
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace medledger::crypto
