#include "crypto/ed25519.h"

#include <openssl/evp.h>

#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace medledger::crypto {
namespace detail {

struct Ed25519Key {
  explicit Ed25519Key(EVP_PKEY* p) : pkey(p) {}
  ~Ed25519Key() { EVP_PKEY_free(pkey); }
  Ed25519Key(const Ed25519Key&) = delete;
  Ed25519Key& operator=(const Ed25519Key&) = delete;
  EVP_PKEY* pkey;
};

}  // namespace detail
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<Ed25519PublicKey> Ed25519PublicKey::FromBytes(std::string_view raw32) {
  if (raw32.size() != kEd25519KeySize) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "an Ed25519 public key is 32 bytes");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw32), raw32.size());
  if (pkey == nullptr) {
    return internal::OpensslError(ErrorKind::kInvalidArgument, "invalid_key", "Ed25519 public key");
  }
  return Ed25519PublicKey(std::make_shared<const detail::Ed25519Key>(pkey), std::string(raw32));
}

bool Ed25519PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize || key_ == nullptr) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1) {
    internal::ClearOpensslErrors();
    return false;
  }
  const bool ok = EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message), message.size()) == 1;
  if (!ok) internal::ClearOpensslErrors();
  return ok;
}

Result<Ed25519KeyPair> Ed25519KeyPair::Generate() {
  return FromSeed(RandomBytes(kEd25519KeySize));
}

Result<Ed25519KeyPair> Ed25519KeyPair::FromSeed(std::string_view seed32) {
  if (seed32.size() != kEd25519KeySize) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "an Ed25519 private key (seed) is 32 bytes");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed32), seed32.size());
  if (pkey == nullptr) {
    return internal::OpensslError(ErrorKind::kInvalidArgument, "invalid_key", "Ed25519 private key");
  }
  auto key = std::make_shared<const detail::Ed25519Key>(pkey);
  std::string pub(kEd25519KeySize, '\0');
  size_t pub_len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pub.data()), &pub_len) != 1 ||
      pub_len != kEd25519KeySize) {
    return internal::OpensslError(ErrorKind::kInternal, "crypto_error", "Ed25519 public key derivation");
  }
  // The public half shares the EVP_PKEY: verifying with a private EVP_PKEY uses its public part.
  Ed25519PublicKey public_key(key, pub);
  return Ed25519KeyPair(std::move(key), std::string(seed32), std::move(public_key));
}

Result<std::string> Ed25519KeyPair::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1) {
    return internal::OpensslError(ErrorKind::kInternal, "crypto_error", "Ed25519 sign init");
  }
  std::string sig(kEd25519SignatureSize, '\0');
  size_t sig_len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, Bytes(message),
                     message.size()) != 1 ||
      sig_len != kEd25519SignatureSize) {
    return internal::OpensslError(ErrorKind::kInternal, "crypto_error", "Ed25519 sign");
  }
  return sig;
}

}  // namespace medledger::crypto
