#include "crypto/ecdsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace medledger::crypto {

void EvpPkeyDeleter::operator()(void* pkey) const {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey));
}

namespace detail {

// An EVP_PKEY plus pools of initialized sign/verify contexts. Creating and initializing an EVP_PKEY_CTX
// costs provider look-ups and allocations; a pooled one is reused as is (EVP_PKEY_sign/verify may be
// called repeatedly after one init). The pool is bounded by the number of threads using the key at once.
class EcKeyState {
 public:
  EcKeyState(EvpPkeyPtr pkey, bool has_private) : pkey_(std::move(pkey)), has_private_(has_private) {}
  ~EcKeyState() {
    for (EVP_PKEY_CTX* c : sign_pool_) EVP_PKEY_CTX_free(c);
    for (EVP_PKEY_CTX* c : verify_pool_) EVP_PKEY_CTX_free(c);
  }
  EcKeyState(const EcKeyState&) = delete;
  EcKeyState& operator=(const EcKeyState&) = delete;

  EVP_PKEY* pkey() const { return static_cast<EVP_PKEY*>(pkey_.get()); }
  bool has_private() const { return has_private_; }

  // A context initialized for signing (sign=true) or verifying; nullptr if OpenSSL refuses.
  EVP_PKEY_CTX* Acquire(bool sign) const {
    {
      std::lock_guard lock(mu_);
      auto& pool = sign ? sign_pool_ : verify_pool_;
      if (!pool.empty()) {
        EVP_PKEY_CTX* c = pool.back();
        pool.pop_back();
        return c;
      }
    }
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey(), nullptr);
    if (c == nullptr) return nullptr;
    if ((sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) != 1) {
      EVP_PKEY_CTX_free(c);
      return nullptr;
    }
    return c;
  }

  void Release(bool sign, EVP_PKEY_CTX* c) const {
    std::lock_guard lock(mu_);
    auto& pool = sign ? sign_pool_ : verify_pool_;
    if (pool.size() < kMaxPooled) {
      pool.push_back(c);
      return;
    }
    EVP_PKEY_CTX_free(c);
  }

 private:
  static constexpr size_t kMaxPooled = 64;
  EvpPkeyPtr pkey_;
  bool has_private_;
  mutable std::mutex mu_;
  mutable std::vector<EVP_PKEY_CTX*> sign_pool_;
  mutable std::vector<EVP_PKEY_CTX*> verify_pool_;
};

}  // namespace detail

namespace {

using detail::EcKeyState;
using internal::OpensslError;

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

// P-256 group order n and n/2 (SEC 2), built once.
struct CurveConstants {
  BIGNUM* n = nullptr;
  BIGNUM* half_n = nullptr;
};
const CurveConstants& Curve() {
  static const CurveConstants c = [] {
    CurveConstants k;
    BN_hex2bn(&k.n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    k.half_n = BN_dup(k.n);
    BN_rshift1(k.half_n, k.n);
    return k;
  }();
  return c;
}

// Strict DER: the bytes must be exactly what OpenSSL would encode (no BER lengths, no trailing data), so a
// signature has one encoding and cannot be malleated by re-encoding.
EcdsaSigPtr ParseStrictDer(std::string_view der) {
  if (der.empty() || der.size() > 80) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    internal::ClearOpensslErrors();
    return nullptr;
  }
  unsigned char* re = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &re);
  bool same = len == static_cast<int>(der.size()) && std::memcmp(re, der.data(), der.size()) == 0;
  OPENSSL_free(re);
  if (!same) return nullptr;
  return sig;
}

std::string EncodeDer(const ECDSA_SIG* sig) {
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig, &out);
  if (len <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

bool IsP256(EVP_PKEY* pkey) {
  if (pkey == nullptr || !EVP_PKEY_is_a(pkey, "EC")) return false;
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
    internal::ClearOpensslErrors();
    return false;
  }
  return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

bool HasPrivate(EVP_PKEY* pkey) {
  BIGNUM* priv = nullptr;
  bool has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 && priv != nullptr;
  BN_clear_free(priv);
  internal::ClearOpensslErrors();
  return has;
}

Result<std::shared_ptr<const EcKeyState>> Wrap(EvpPkeyPtr pkey, bool want_private) {
  auto* raw = static_cast<EVP_PKEY*>(pkey.get());
  if (!IsP256(raw)) return MakeError(ErrorKind::kInvalidArgument, "unsupported_key", "key is not an EC P-256 key");
  bool has_private = HasPrivate(raw);
  if (want_private && !has_private) {
    return MakeError(ErrorKind::kInvalidArgument, "not_a_private_key", "key has no private part");
  }
  return std::make_shared<const EcKeyState>(std::move(pkey), has_private);
}

}  // namespace

// ---- EcPublicKey ----

Result<EcPublicKey> EcPublicKey::FromNative(EvpPkeyPtr pkey) {
  ML_ASSIGN_OR_RETURN(auto state, Wrap(std::move(pkey), false));
  return EcPublicKey(std::move(state));
}

Result<EcPublicKey> EcPublicKey::FromPem(std::string_view pem) {
  auto bio = internal::ReadBio(pem);
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return OpensslError(ErrorKind::kInvalidArgument, "bad_public_key", "cannot parse PUBLIC KEY PEM");
  return FromNative(std::move(pkey));
}

Result<EcPublicKey> EcPublicKey::FromSpkiDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return OpensslError(ErrorKind::kInvalidArgument, "bad_public_key", "cannot parse SPKI DER");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_public_key", "trailing bytes after SPKI DER");
  }
  return FromNative(std::move(pkey));
}

Result<EcPublicKey> EcPublicKey::FromUncompressedPoint(std::string_view point65) {
  if (point65.size() != 65 || point65[0] != 0x04) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_public_key", "expected a 65-byte uncompressed P-256 point");
  }
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point65.data(), point65.size()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "OSSL_PARAM_BLD");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr),
                                                                  EVP_PKEY_CTX_free);
  EVP_PKEY* out = nullptr;
  // fromdata decodes the point with EC_POINT_oct2point, which rejects points not on the curve.
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError(ErrorKind::kInvalidArgument, "bad_public_key", "point is not on P-256");
  }
  return FromNative(EvpPkeyPtr(out));
}

std::string EcPublicKey::ToPem() const {
  auto bio = internal::WriteBio();
  if (PEM_write_bio_PUBKEY(bio.get(), state_->pkey()) != 1) return {};
  return internal::BioContents(bio.get());
}

std::string EcPublicKey::ToSpkiDer() const {
  unsigned char* out = nullptr;
  int len = i2d_PUBKEY(state_->pkey(), &out);
  if (len <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

std::string EcPublicKey::UncompressedPoint() const {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  std::string out;
  if (EVP_PKEY_get_bn_param(state_->pkey(), OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
      EVP_PKEY_get_bn_param(state_->pkey(), OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1) {
    out.assign(65, '\0');
    out[0] = 0x04;
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (BN_bn2binpad(x, o + 1, 32) != 32 || BN_bn2binpad(y, o + 33, 32) != 32) out.clear();
  }
  BN_free(x);
  BN_free(y);
  return out;
}

bool EcPublicKey::Verify(std::string_view message, std::string_view der_signature) const {
  return VerifyDigest(Sha256(message), der_signature);
}

bool EcPublicKey::VerifyDigest(std::string_view digest32, std::string_view der_signature) const {
  if (digest32.size() != kSha256Size) return false;
  EcdsaSigPtr sig = ParseStrictDer(der_signature);
  if (!sig) return false;
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_cmp(s, Curve().half_n) > 0) return false;  // high-S: Fabric's rule
  EVP_PKEY_CTX* ctx = state_->Acquire(false);
  if (ctx == nullptr) {
    internal::ClearOpensslErrors();
    return false;
  }
  int rc = EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(der_signature.data()), der_signature.size(),
                           reinterpret_cast<const unsigned char*>(digest32.data()), digest32.size());
  state_->Release(false, ctx);
  if (rc != 1) internal::ClearOpensslErrors();
  return rc == 1;
}

void* EcPublicKey::native() const {
  return state_->pkey();
}

bool operator==(const EcPublicKey& a, const EcPublicKey& b) {
  if (a.state_ == b.state_) return true;
  return EVP_PKEY_eq(a.state_->pkey(), b.state_->pkey()) == 1;
}

// ---- EcPrivateKey ----

Result<EcPrivateKey> EcPrivateKey::FromNative(EvpPkeyPtr pkey) {
  ML_ASSIGN_OR_RETURN(auto state, Wrap(std::move(pkey), true));
  // The public half shares the same EVP_PKEY (an EVP_PKEY is safe to share read-only) but gets its own pool.
  if (EVP_PKEY_up_ref(state->pkey()) != 1) return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "up_ref");
  auto pub_state = std::make_shared<const EcKeyState>(EvpPkeyPtr(state->pkey()), true);
  return EcPrivateKey(std::move(state), EcPublicKey(std::move(pub_state)));
}

Result<EcPrivateKey> EcPrivateKey::Generate() {
  EvpPkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) return OpensslError(ErrorKind::kInternal, "keygen_failed", "P-256 key generation");
  return FromNative(std::move(pkey));
}

Result<EcPrivateKey> EcPrivateKey::FromPem(std::string_view pem) {
  auto bio = internal::ReadBio(pem);
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return OpensslError(ErrorKind::kInvalidArgument, "bad_private_key", "cannot parse private key PEM");
  return FromNative(std::move(pkey));
}

std::string EcPrivateKey::ToPem() const {
  auto bio = internal::WriteBio();
  if (PEM_write_bio_PrivateKey(bio.get(), state_->pkey(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return internal::BioContents(bio.get());
}

EcPublicKey EcPrivateKey::PublicKey() const {
  return public_;
}

Result<std::string> EcPrivateKey::Sign(std::string_view message) const {
  return SignDigest(Sha256(message));
}

Result<std::string> EcPrivateKey::SignDigest(std::string_view digest32) const {
  if (digest32.size() != kSha256Size) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_digest_size", "ECDSA P-256 signs a 32-byte SHA-256 digest");
  }
  EVP_PKEY_CTX* ctx = state_->Acquire(true);
  if (ctx == nullptr) return OpensslError(ErrorKind::kInternal, "sign_failed", "ECDSA sign init");
  unsigned char buf[80];
  size_t len = sizeof(buf);
  int rc = EVP_PKEY_sign(ctx, buf, &len, reinterpret_cast<const unsigned char*>(digest32.data()), digest32.size());
  state_->Release(true, ctx);
  if (rc != 1) return OpensslError(ErrorKind::kInternal, "sign_failed", "ECDSA sign");
  return NormalizeLowS(std::string_view(reinterpret_cast<const char*>(buf), len));
}

void* EcPrivateKey::native() const {
  return state_->pkey();
}

// ---- signature formats ----

Result<std::string> NormalizeLowS(std::string_view der_signature) {
  EcdsaSigPtr sig = ParseStrictDer(der_signature);
  if (!sig) return MakeError(ErrorKind::kInvalidArgument, "bad_signature", "not a DER ECDSA signature");
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_cmp(s, Curve().half_n) <= 0) return std::string(der_signature);
  BnPtr r(BN_dup(ECDSA_SIG_get0_r(sig.get())));
  BnPtr low(BN_new());
  if (!r || !low || BN_sub(low.get(), Curve().n, s) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "BN_sub");
  }
  EcdsaSigPtr out(ECDSA_SIG_new());
  if (!out || ECDSA_SIG_set0(out.get(), r.get(), low.get()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "ECDSA_SIG_set0");
  }
  (void)r.release();  // owned by `out` now
  (void)low.release();
  return EncodeDer(out.get());
}

bool IsLowS(std::string_view der_signature) {
  EcdsaSigPtr sig = ParseStrictDer(der_signature);
  return sig && BN_cmp(ECDSA_SIG_get0_s(sig.get()), Curve().half_n) <= 0;
}

Result<std::string> DerSignatureToRaw(std::string_view der) {
  EcdsaSigPtr sig = ParseStrictDer(der);
  if (!sig) return MakeError(ErrorKind::kInvalidArgument, "bad_signature", "not a DER ECDSA signature");
  std::string raw(64, '\0');
  auto* o = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + 32, 32) != 32) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_signature", "signature integer exceeds 32 bytes");
  }
  return raw;
}

Result<std::string> RawSignatureToDer(std::string_view raw64) {
  if (raw64.size() != 64) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_signature", "raw P-256 signature must be 64 bytes (r||s)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw64.data());
  BnPtr r(BN_bin2bn(p, 32, nullptr));
  BnPtr s(BN_bin2bn(p + 32, 32, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "ECDSA_SIG_set0");
  }
  (void)r.release();
  (void)s.release();
  std::string der = EncodeDer(sig.get());
  if (der.empty()) return MakeError(ErrorKind::kInvalidArgument, "bad_signature", "cannot encode signature");
  return der;
}

}  // namespace medledger::crypto
