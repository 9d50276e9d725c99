#include "crypto/hpke.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <memory>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace medledger::crypto::hpke {
namespace {

using internal::OpensslError;

constexpr size_t kNsecret = 32;  // DHKEM(P-256)'s shared secret
constexpr size_t kNk = 16;       // AES-128-GCM key
constexpr size_t kNn = 12;       // AES-128-GCM nonce
constexpr size_t kNh = 32;       // HKDF-SHA256 output

// suite_id for the KEM ("KEM" || I2OSP(0x0010, 2)) and for the whole suite ("HPKE" || kem || kdf || aead).
const std::string kKemSuiteId("KEM\x00\x10", 5);
const std::string kHpkeSuiteId("HPKE\x00\x10\x00\x01\x00\x01", 10);
constexpr std::string_view kVersionLabel = "HPKE-v1";
constexpr char kModeBase = 0x00;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct GroupDeleter {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct PointDeleter {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// Wipes a secret held in a std::string when the scope ends, on every return path.
class Wiped {
 public:
  explicit Wiped(std::string& secret) : secret_(secret) {}
  ~Wiped() { OPENSSL_cleanse(secret_.data(), secret_.size()); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;

 private:
  std::string& secret_;
};

Result<std::string> LabeledExtract(std::string_view salt, std::string_view suite_id, std::string_view label,
                                   std::string_view ikm) {
  std::string labeled;
  Wiped wipe(labeled);
  labeled.reserve(kVersionLabel.size() + suite_id.size() + label.size() + ikm.size());
  labeled.append(kVersionLabel).append(suite_id).append(label).append(ikm);
  return HkdfSha256Extract(salt, labeled);
}

Result<std::string> LabeledExpand(std::string_view prk, std::string_view suite_id, std::string_view label,
                                  std::string_view info, size_t length) {
  std::string labeled;
  labeled.push_back(static_cast<char>((length >> 8) & 0xff));
  labeled.push_back(static_cast<char>(length & 0xff));
  labeled.append(kVersionLabel).append(suite_id).append(label).append(info);
  return HkdfSha256Expand(prk, labeled, length);
}

// ExtractAndExpand of DHKEM (RFC 9180 §4.1).
Result<std::string> ExtractAndExpand(std::string_view dh, std::string_view kem_context) {
  ML_ASSIGN_OR_RETURN(std::string prk, LabeledExtract("", kKemSuiteId, "eae_prk", dh));
  Wiped wipe(prk);
  return LabeledExpand(prk, kKemSuiteId, "shared_secret", kem_context, kNsecret);
}

// The P-256 x-coordinate of sk * pk (the DH function of DHKEM(P-256)).
Result<std::string> Dh(const PrivateKey& sk, const PublicKey& pk) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, static_cast<EVP_PKEY*>(sk.key().native()), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), static_cast<EVP_PKEY*>(pk.key().native())) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != 32) {
    return OpensslError(ErrorKind::kInvalidArgument, "dh_failed", "P-256 ECDH");
  }
  std::string out(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != 32) {
    return OpensslError(ErrorKind::kInvalidArgument, "dh_failed", "P-256 ECDH");
  }
  return out;
}

const EC_GROUP* P256() {
  static const EC_GROUP* const group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  return group;
}

// True when the 32-byte big-endian `scalar` is in [1, n-1].
bool ScalarInRange(std::string_view scalar) {
  BnPtr sk(BN_bin2bn(reinterpret_cast<const unsigned char*>(scalar.data()), static_cast<int>(scalar.size()), nullptr));
  return sk && P256() != nullptr && !BN_is_zero(sk.get()) && BN_cmp(sk.get(), EC_GROUP_get0_order(P256())) < 0;
}

Result<std::string> AeadSeal(const detail::Context& ctx, std::string_view aad, std::string_view plaintext) {
  // Sequence number 0: the nonce is base_nonce itself (base_nonce XOR I2OSP(0, Nn)).
  return Aes128GcmSeal(ctx.key, ctx.base_nonce, plaintext, aad);
}

Status CheckLabelInputs(std::string_view info, std::string_view aad) {
  if (info.size() > kMaxLabelInput || aad.size() > kMaxLabelInput) {
    return MakeError(ErrorKind::kTooLarge, "input_too_large", "HPKE info and aad are limited to 64 KiB");
  }
  return OkStatus();
}

}  // namespace

// ---- keys ----

Result<PublicKey> PublicKey::FromBytes(std::string_view point65) {
  // EcPublicKey checks the length, the 0x04 prefix and that the point is on the curve; the identity has no
  // uncompressed encoding, so it cannot get through.
  ML_ASSIGN_OR_RETURN(EcPublicKey key, EcPublicKey::FromUncompressedPoint(point65));
  return PublicKey(std::move(key), std::string(point65));
}

Result<PrivateKey> PrivateKey::Generate() {
  ML_ASSIGN_OR_RETURN(EcPrivateKey key, EcPrivateKey::Generate());
  std::string point = key.PublicKey().UncompressedPoint();
  if (point.size() != kPublicKeySize) return MakeError(ErrorKind::kInternal, "keygen_failed", "P-256 public point");
  return PrivateKey(key, PublicKey(key.PublicKey(), std::move(point)));
}

Result<PrivateKey> PrivateKey::FromScalar(std::string_view scalar32) {
  if (scalar32.size() != kPrivateKeySize || !ScalarInRange(scalar32)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_private_key", "expected a 32-byte P-256 scalar in [1, n-1]");
  }
  const EC_GROUP* group = P256();
  BnPtr sk(BN_bin2bn(reinterpret_cast<const unsigned char*>(scalar32.data()), 32, nullptr));
  std::unique_ptr<EC_POINT, PointDeleter> pub(group ? EC_POINT_new(group) : nullptr);
  std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> bn_ctx(BN_CTX_new(), BN_CTX_free);
  if (!sk || !pub || !bn_ctx || EC_POINT_mul(group, pub.get(), sk.get(), nullptr, nullptr, bn_ctx.get()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "P-256 scalar multiplication");
  }
  std::string point(kPublicKeySize, '\0');
  if (EC_POINT_point2oct(group, pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                         reinterpret_cast<unsigned char*>(point.data()), point.size(),
                         bn_ctx.get()) != kPublicKeySize) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "P-256 point encoding");
  }
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, sk.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "OSSL_PARAM_BLD");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* out = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return OpensslError(ErrorKind::kInternal, "crypto_unavailable", "P-256 key from scalar");
  }
  ML_ASSIGN_OR_RETURN(EcPrivateKey key, EcPrivateKey::FromNative(EvpPkeyPtr(out)));
  EcPublicKey ec_pub = key.PublicKey();
  return PrivateKey(std::move(key), PublicKey(std::move(ec_pub), std::move(point)));
}

Result<PrivateKey> PrivateKey::Derive(std::string_view ikm) {
  ML_ASSIGN_OR_RETURN(std::string prk, LabeledExtract("", kKemSuiteId, "dkp_prk", ikm));
  Wiped wipe(prk);
  for (int counter = 0; counter < 256; ++counter) {
    const char c = static_cast<char>(counter);
    ML_ASSIGN_OR_RETURN(std::string candidate,
                        LabeledExpand(prk, kKemSuiteId, "candidate", std::string_view(&c, 1), kPrivateKeySize));
    Wiped wipe_candidate(candidate);
    // The bitmask for P-256 is 0xff: the candidate is used as is.
    if (ScalarInRange(candidate)) return FromScalar(candidate);
  }
  return MakeError(ErrorKind::kInternal, "derive_key_pair_failed", "no P-256 scalar in 256 candidates");
}

std::string PrivateKey::Scalar() const {
  BIGNUM* raw = nullptr;
  std::string out;
  if (EVP_PKEY_get_bn_param(static_cast<EVP_PKEY*>(key_.native()), OSSL_PKEY_PARAM_PRIV_KEY, &raw) == 1) {
    out.assign(kPrivateKeySize, '\0');
    if (BN_bn2binpad(raw, reinterpret_cast<unsigned char*>(out.data()), kPrivateKeySize) != kPrivateKeySize)
      out.clear();
  }
  BN_clear_free(raw);
  return out;
}

// ---- the steps ----

namespace detail {

Result<Encapsulated> Encap(const PrivateKey& ephemeral, const PublicKey& recipient) {
  ML_ASSIGN_OR_RETURN(std::string dh, Dh(ephemeral, recipient));
  Wiped wipe(dh);
  Encapsulated out;
  out.enc = ephemeral.public_key().bytes();
  ML_ASSIGN_OR_RETURN(out.shared_secret, ExtractAndExpand(dh, out.enc + recipient.bytes()));
  return out;
}

Result<std::string> Decap(std::string_view enc, const PrivateKey& recipient) {
  ML_ASSIGN_OR_RETURN(PublicKey ephemeral, PublicKey::FromBytes(enc));
  ML_ASSIGN_OR_RETURN(std::string dh, Dh(recipient, ephemeral));
  Wiped wipe(dh);
  return ExtractAndExpand(dh, std::string(enc) + recipient.public_key().bytes());
}

Result<Context> KeyScheduleBase(std::string_view shared_secret, std::string_view info) {
  // Base mode: psk and psk_id are empty.
  ML_ASSIGN_OR_RETURN(std::string psk_id_hash, LabeledExtract("", kHpkeSuiteId, "psk_id_hash", ""));
  ML_ASSIGN_OR_RETURN(std::string info_hash, LabeledExtract("", kHpkeSuiteId, "info_hash", info));
  std::string context(1, kModeBase);
  context += psk_id_hash;
  context += info_hash;
  ML_ASSIGN_OR_RETURN(std::string secret, LabeledExtract(shared_secret, kHpkeSuiteId, "secret", ""));
  Wiped wipe(secret);
  Context out;
  ML_ASSIGN_OR_RETURN(out.key, LabeledExpand(secret, kHpkeSuiteId, "key", context, kNk));
  ML_ASSIGN_OR_RETURN(out.base_nonce, LabeledExpand(secret, kHpkeSuiteId, "base_nonce", context, kNn));
  ML_ASSIGN_OR_RETURN(out.exporter_secret, LabeledExpand(secret, kHpkeSuiteId, "exp", context, kNh));
  return out;
}

Result<Sealed> SealWithEphemeral(const PrivateKey& ephemeral, const PublicKey& recipient, std::string_view info,
                                 std::string_view aad, std::string_view plaintext) {
  ML_RETURN_IF_ERROR(CheckLabelInputs(info, aad));
  ML_ASSIGN_OR_RETURN(Encapsulated encapsulated, Encap(ephemeral, recipient));
  Wiped wipe(encapsulated.shared_secret);
  ML_ASSIGN_OR_RETURN(Context ctx, KeyScheduleBase(encapsulated.shared_secret, info));
  Wiped wipe_key(ctx.key);
  Sealed out;
  out.enc = std::move(encapsulated.enc);
  ML_ASSIGN_OR_RETURN(out.ciphertext, AeadSeal(ctx, aad, plaintext));
  return out;
}

}  // namespace detail

Result<Sealed> Seal(const PublicKey& recipient, std::string_view info, std::string_view aad,
                    std::string_view plaintext) {
  ML_ASSIGN_OR_RETURN(PrivateKey ephemeral, PrivateKey::Generate());
  return detail::SealWithEphemeral(ephemeral, recipient, info, aad, plaintext);
}

Result<std::string> Open(const PrivateKey& recipient, std::string_view enc, std::string_view info, std::string_view aad,
                         std::string_view ciphertext) {
  ML_RETURN_IF_ERROR(CheckLabelInputs(info, aad));
  ML_ASSIGN_OR_RETURN(std::string shared_secret, detail::Decap(enc, recipient));
  Wiped wipe(shared_secret);
  ML_ASSIGN_OR_RETURN(detail::Context ctx, detail::KeyScheduleBase(shared_secret, info));
  Wiped wipe_key(ctx.key);
  return Aes128GcmOpen(ctx.key, ctx.base_nonce, ciphertext, aad);
}

}  // namespace medledger::crypto::hpke
