#include "crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <memory>

#include "crypto/openssl_util.h"

namespace medledger::crypto {
namespace {

using internal::OpensslError;

// Larger inputs would overflow OpenSSL's int lengths; nothing in medledger seals a gigabyte at once.
constexpr size_t kMaxGcmInput = static_cast<size_t>(INT_MAX) - kGcmTagSize;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

const EVP_CIPHER* Aes128Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  return cipher;
}

// Reused per thread: reports and wallet entries are sealed at high rates. Every use re-initializes it with
// its cipher, so one context serves both key sizes.
Result<EVP_CIPHER_CTX*> ThreadCtx(const EVP_CIPHER* cipher) {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || cipher == nullptr) return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "AES-GCM");
  return ctx.get();
}

Status CheckKeyNonce(std::string_view key, std::string_view nonce, size_t key_size) {
  if (key.size() != key_size) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_key_size",
                     key_size == kAesKeySize ? "AES-256-GCM key must be 32 bytes" : "AES-128-GCM key must be 16 bytes");
  }
  if (nonce.size() != kGcmNonceSize) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_nonce_size", "AES-GCM nonce must be 12 bytes");
  }
  return OkStatus();
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Result<std::string> GcmSeal(const EVP_CIPHER* cipher, size_t key_size, std::string_view key, std::string_view nonce,
                            std::string_view plaintext, std::string_view aad) {
  ML_RETURN_IF_ERROR(CheckKeyNonce(key, nonce, key_size));
  if (plaintext.size() > kMaxGcmInput || aad.size() > kMaxGcmInput) {
    return MakeError(ErrorKind::kTooLarge, "input_too_large", "AES-GCM input exceeds 2 GiB");
  }
  ML_ASSIGN_OR_RETURN(EVP_CIPHER_CTX * ctx, ThreadCtx(cipher));
  std::string out(plaintext.size() + kGcmTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  if (EVP_EncryptInit_ex2(ctx, cipher, U8(key), U8(nonce), nullptr) != 1) {
    return OpensslError(ErrorKind::kInternal, "encrypt_failed", "AES-GCM init");
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1) {
    return OpensslError(ErrorKind::kInternal, "encrypt_failed", "AES-GCM aad");
  }
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx, o, &len, U8(plaintext), static_cast<int>(plaintext.size())) != 1) {
      return OpensslError(ErrorKind::kInternal, "encrypt_failed", "AES-GCM update");
    }
    total = len;
  }
  if (EVP_EncryptFinal_ex(ctx, o + total, &len) != 1) {
    return OpensslError(ErrorKind::kInternal, "encrypt_failed", "AES-GCM final");
  }
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kGcmTagSize), o + total) != 1) {
    return OpensslError(ErrorKind::kInternal, "encrypt_failed", "AES-GCM tag");
  }
  out.resize(static_cast<size_t>(total) + kGcmTagSize);
  return out;
}

Result<std::string> GcmOpen(const EVP_CIPHER* cipher, size_t key_size, std::string_view key, std::string_view nonce,
                            std::string_view sealed, std::string_view aad) {
  ML_RETURN_IF_ERROR(CheckKeyNonce(key, nonce, key_size));
  if (sealed.size() < kGcmTagSize) {
    return MakeError(ErrorKind::kInvalidArgument, "ciphertext_too_short", "sealed data is shorter than the tag");
  }
  if (sealed.size() > kMaxGcmInput + kGcmTagSize || aad.size() > kMaxGcmInput) {
    return MakeError(ErrorKind::kTooLarge, "input_too_large", "AES-GCM input exceeds 2 GiB");
  }
  ML_ASSIGN_OR_RETURN(EVP_CIPHER_CTX * ctx, ThreadCtx(cipher));
  const size_t ct_len = sealed.size() - kGcmTagSize;
  std::string tag(sealed.substr(ct_len));
  std::string out(ct_len, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  if (EVP_DecryptInit_ex2(ctx, cipher, U8(key), U8(nonce), nullptr) != 1) {
    return OpensslError(ErrorKind::kInternal, "decrypt_failed", "AES-GCM init");
  }
  bool ok = aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &len, U8(aad), static_cast<int>(aad.size())) == 1;
  if (ok && ct_len > 0) {
    ok = EVP_DecryptUpdate(ctx, o, &len, U8(sealed), static_cast<int>(ct_len)) == 1;
    total = len;
  }
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kGcmTagSize), tag.data()) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx, o + total, &len) == 1;
  if (!ok) {
    internal::ClearOpensslErrors();
    OPENSSL_cleanse(out.data(), out.size());  // never hand back unauthenticated plaintext, even in memory
    return MakeError(ErrorKind::kCorruption, "decrypt_failed",
                     "AES-GCM authentication failed (wrong key, nonce or AAD, or tampered data)");
  }
  out.resize(static_cast<size_t>(total + len));
  return out;
}

}  // namespace

Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                               std::string_view aad) {
  return GcmSeal(Aes256Gcm(), kAesKeySize, key, nonce, plaintext, aad);
}

Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce, std::string_view sealed,
                               std::string_view aad) {
  return GcmOpen(Aes256Gcm(), kAesKeySize, key, nonce, sealed, aad);
}

Result<std::string> Aes128GcmSeal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                                  std::string_view aad) {
  return GcmSeal(Aes128Gcm(), kAes128KeySize, key, nonce, plaintext, aad);
}

Result<std::string> Aes128GcmOpen(std::string_view key, std::string_view nonce, std::string_view sealed,
                                  std::string_view aad) {
  return GcmOpen(Aes128Gcm(), kAes128KeySize, key, nonce, sealed, aad);
}

}  // namespace medledger::crypto
