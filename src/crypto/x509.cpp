#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/encoding.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace medledger::crypto {

using internal::OpensslError;

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// Everything derived from the certificate is computed once at parse time: the ledger checks the same
// creator certificates over and over, and parsing keys or JSON per transaction would dominate.
struct Certificate::State {
  X509Ptr x509;
  std::string der;
  std::optional<EcPublicKey> public_key;
  std::map<std::string, std::string> attributes;
  std::optional<Error> attributes_error;
};

namespace {

constexpr size_t kMaxNameLength = 64;  // X.520 upper bound for CN, O and OU

Result<std::map<std::string, std::string>> ParseFabricAttributes(std::string_view json_text) {
  auto bad = [](const char* why) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_cert_attributes",
                     std::string("Fabric attribute extension: ") + why);
  };
  nlohmann::json doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object()) return bad("not a JSON object");
  auto it = doc.find("attrs");
  if (it == doc.end() || !it->is_object()) return bad("missing \"attrs\" object");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return bad("attribute values must be strings");
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

std::optional<std::string> ExtensionData(X509* x, const char* oid_text) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid_text, 1);
  if (obj == nullptr) return std::nullopt;
  int idx = X509_get_ext_by_OBJ(x, obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
  if (data == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

Result<Certificate> FromX509(X509Ptr x) {
  auto state = std::make_shared<Certificate::State>();
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) return OpensslError(ErrorKind::kInvalidArgument, "bad_certificate", "cannot encode certificate");
  state->der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  EVP_PKEY* pkey = X509_get_pubkey(x.get());  // new reference
  if (pkey == nullptr) return OpensslError(ErrorKind::kInvalidArgument, "bad_certificate", "no public key");
  auto pub = EcPublicKey::FromNative(EvpPkeyPtr(pkey));
  if (!pub.ok()) {
    return MakeError(ErrorKind::kInvalidArgument, "unsupported_key", "certificate key is not EC P-256");
  }
  state->public_key = std::move(pub).value();
  if (auto ext = ExtensionData(x.get(), kFabricAttrOid)) {
    auto attrs = ParseFabricAttributes(*ext);
    if (attrs.ok()) {
      state->attributes = std::move(attrs).value();
    } else {
      state->attributes_error = attrs.error();
    }
  }
  // Caches extension flags (CA bit, key usage) now, so later const calls never mutate shared state.
  X509_check_purpose(x.get(), -1, 0);
  internal::ClearOpensslErrors();
  state->x509 = std::move(x);
  return Certificate(std::move(state));
}

std::string NameEntry(const X509_NAME* name, int nid, int* lastpos) {
  int idx = X509_NAME_get_index_by_NID(name, nid, *lastpos);
  *lastpos = idx;
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string FirstEntry(const X509_NAME* name, int nid) {
  int pos = -1;
  return NameEntry(name, nid, &pos);
}

// A certificate may say 9999-12-31 ("no expiration", RFC 5280) or 1500: outside the nanosecond time_point's
// range (1678-2262), where from_time_t would overflow. Clamping keeps every validity comparison right.
std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* t) {
  using Clock = std::chrono::system_clock;
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  const int64_t seconds = timegm(&tm);
  constexpr int64_t kMax = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count();
  if (seconds >= kMax) return Clock::time_point::max();
  if (seconds <= -kMax) return Clock::time_point::min();
  return Clock::time_point(std::chrono::seconds(seconds));
}

Status AddExtension(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", OBJ_nid2sn(nid));
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", OBJ_nid2sn(nid));
  return OkStatus();
}

Status AddFabricAttributes(X509* x, const std::map<std::string, std::string>& attributes) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : attributes) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v)) {
      return MakeError(ErrorKind::kInvalidArgument, "bad_cert_attributes", "attributes must be UTF-8");
    }
    attrs[k] = v;
  }
  // Sorted keys and compact output, the same bytes Go's json.Marshal produces in Fabric CA.
  std::string json = nlohmann::json{{"attrs", attrs}}.dump();
  ASN1_OBJECT* obj = OBJ_txt2obj(kFabricAttrOid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  X509_EXTENSION* ext = nullptr;
  if (obj != nullptr && data != nullptr &&
      ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(json.data()), static_cast<int>(json.size()))) {
    ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  }
  ASN1_OBJECT_free(obj);
  ASN1_OCTET_STRING_free(data);
  if (ext == nullptr) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "attribute extension");
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "attribute extension");
  return OkStatus();
}

Status AddNameEntry(X509_NAME* name, const char* field, std::string_view value) {
  if (value.empty() || value.size() > kMaxNameLength || !IsValidUtf8(value)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_subject",
                     std::string("subject ") + field + " must be 1-64 bytes of UTF-8");
  }
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return OpensslError(ErrorKind::kInvalidArgument, "bad_subject", field);
  }
  return OkStatus();
}

bool SignatureIsLowS(X509* x) {
  const ASN1_BIT_STRING* sig = nullptr;
  X509_get0_signature(&sig, nullptr, x);
  if (sig == nullptr) return false;
  return IsLowS(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
                                 static_cast<size_t>(ASN1_STRING_length(sig))));
}

}  // namespace

// ---- parsing and accessors ----

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  auto bio = internal::ReadBio(pem);
  X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) return OpensslError(ErrorKind::kInvalidArgument, "bad_certificate", "cannot parse certificate PEM");
  return FromX509(std::move(x));
}

Result<Certificate> Certificate::FromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return OpensslError(ErrorKind::kInvalidArgument, "bad_certificate", "cannot parse certificate DER");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_certificate", "trailing bytes after certificate DER");
  }
  return FromX509(std::move(x));
}

std::string Certificate::ToPem() const {
  auto bio = internal::WriteBio();
  if (PEM_write_bio_X509(bio.get(), state_->x509.get()) != 1) return {};
  return internal::BioContents(bio.get());
}

std::string Certificate::ToDer() const {
  return state_->der;
}

void* Certificate::native() const {
  return state_->x509.get();
}

std::string Certificate::SubjectCommonName() const {
  return FirstEntry(X509_get_subject_name(state_->x509.get()), NID_commonName);
}

std::vector<std::string> Certificate::SubjectOrganizationalUnits() const {
  std::vector<std::string> out;
  const X509_NAME* name = X509_get_subject_name(state_->x509.get());
  int pos = -1;
  for (;;) {
    std::string ou = NameEntry(name, NID_organizationalUnitName, &pos);
    if (pos < 0) break;
    out.push_back(std::move(ou));
  }
  return out;
}

std::string Certificate::SubjectOrganization() const {
  return FirstEntry(X509_get_subject_name(state_->x509.get()), NID_organizationName);
}

std::string Certificate::IssuerCommonName() const {
  return FirstEntry(X509_get_issuer_name(state_->x509.get()), NID_commonName);
}

std::string Certificate::SerialHex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(state_->x509.get()), nullptr);
  if (bn == nullptr) return {};
  std::string out;
  int n = BN_num_bytes(bn);
  out.resize(static_cast<size_t>(n));
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return HexEncode(out);
}

std::chrono::system_clock::time_point Certificate::NotBefore() const {
  return ToTimePoint(X509_get0_notBefore(state_->x509.get()));
}

std::chrono::system_clock::time_point Certificate::NotAfter() const {
  return ToTimePoint(X509_get0_notAfter(state_->x509.get()));
}

bool Certificate::IsCa() const {
  return (X509_get_extension_flags(state_->x509.get()) & EXFLAG_CA) != 0;
}

EcPublicKey Certificate::PublicKey() const {
  return *state_->public_key;
}

Result<std::map<std::string, std::string>> Certificate::FabricAttributes() const {
  if (state_->attributes_error) return *state_->attributes_error;
  return state_->attributes;
}

bool Certificate::IsIssuedBy(const Certificate& issuer) const {
  X509* subject = state_->x509.get();
  X509* ca = issuer.state_->x509.get();
  // X509_check_issued compares the issuer name, AKI/SKI and the issuer's keyCertSign usage.
  bool ok = issuer.IsCa() && X509_check_issued(ca, subject) == X509_V_OK &&
            X509_verify(subject, static_cast<EVP_PKEY*>(issuer.PublicKey().native())) == 1;
  internal::ClearOpensslErrors();
  return ok;
}

bool Certificate::IsValidAt(std::chrono::system_clock::time_point at) const {
  return NotBefore() <= at && at <= NotAfter();
}

Status Certificate::VerifyIssuedBy(const Certificate& issuer, std::chrono::system_clock::time_point at) const {
  if (!IsIssuedBy(issuer)) {
    return MakeError(
        ErrorKind::kUnauthenticated, "cert_wrong_issuer",
        "certificate '" + SubjectCommonName() + "' was not issued by '" + issuer.SubjectCommonName() + "'");
  }
  if (!issuer.IsValidAt(at)) {
    return MakeError(ErrorKind::kUnauthenticated, "cert_expired", "issuer certificate is outside its validity period");
  }
  if (!IsValidAt(at)) {
    return MakeError(ErrorKind::kUnauthenticated, "cert_expired",
                     "certificate '" + SubjectCommonName() + "' is outside its validity period");
  }
  return OkStatus();
}

// ---- issuing ----

Result<Certificate> IssueCertificate(const CertificateRequest& request, const EcPublicKey& subject_key,
                                     const EcPrivateKey& issuer_key, const Certificate* issuer_cert) {
  if (request.validity.count() <= 0 || request.validity > std::chrono::hours(24 * 365 * 100)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_validity", "validity must be between 1 hour and 100 years");
  }
  if (issuer_cert != nullptr) {
    if (!issuer_cert->IsCa()) {
      return MakeError(ErrorKind::kInvalidArgument, "issuer_not_ca", "issuer certificate is not a CA");
    }
    if (!(issuer_cert->PublicKey() == issuer_key.PublicKey())) {
      return MakeError(ErrorKind::kInvalidArgument, "issuer_key_mismatch", "issuer key does not match its certificate");
    }
  } else if (!(subject_key == issuer_key.PublicKey())) {
    return MakeError(ErrorKind::kInvalidArgument, "issuer_key_mismatch", "a self-signed certificate needs its own key");
  }

  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "X509_new");
  }
  // 128 random bits, top bit cleared so the DER INTEGER stays positive and at most 16 bytes.
  std::string serial = RandomBytes(16);
  serial[0] = static_cast<char>((static_cast<unsigned char>(serial[0]) & 0x7f) | 0x40);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  ASN1_INTEGER* sn = bn != nullptr ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr;
  BN_free(bn);
  int sn_ok = sn != nullptr ? X509_set_serialNumber(x.get(), sn) : 0;
  ASN1_INTEGER_free(sn);
  if (sn_ok != 1) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "serial number");

  std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> name(X509_NAME_new(), X509_NAME_free);
  if (!name) return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "X509_NAME_new");
  if (!request.organization.empty()) ML_RETURN_IF_ERROR(AddNameEntry(name.get(), "O", request.organization));
  for (const auto& ou : request.organizational_units) ML_RETURN_IF_ERROR(AddNameEntry(name.get(), "OU", ou));
  ML_RETURN_IF_ERROR(AddNameEntry(name.get(), "CN", request.common_name));
  X509_NAME* issuer_name =
      issuer_cert != nullptr ? X509_get_subject_name(static_cast<X509*>(issuer_cert->native())) : name.get();
  const long validity_seconds = static_cast<long>(request.validity.count()) * 3600;
  // Backdated a little so a certificate is usable at once on hosts whose clocks lag slightly.
  if (X509_set_subject_name(x.get(), name.get()) != 1 || X509_set_issuer_name(x.get(), issuer_name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), validity_seconds) == nullptr ||
      X509_set_pubkey(x.get(), static_cast<EVP_PKEY*>(subject_key.native())) != 1) {
    return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "subject fields");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert != nullptr ? static_cast<X509*>(issuer_cert->native()) : x.get(), x.get(), nullptr,
                 nullptr, 0);
  ML_RETURN_IF_ERROR(
      AddExtension(x.get(), &ctx, NID_basic_constraints, request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  ML_RETURN_IF_ERROR(
      AddExtension(x.get(), &ctx, NID_key_usage,
                   request.is_ca ? "critical,digitalSignature,keyCertSign,cRLSign" : "critical,digitalSignature"));
  ML_RETURN_IF_ERROR(AddExtension(x.get(), &ctx, NID_subject_key_identifier, "hash"));
  // For a self-signed certificate the issuer is `x` itself, whose SKI was just added.
  ML_RETURN_IF_ERROR(AddExtension(x.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!request.attributes.empty()) ML_RETURN_IF_ERROR(AddFabricAttributes(x.get(), request.attributes));

  // Fabric's MSP normalizes certificate signatures to low-S before comparing identities; issuing low-S
  // certificates keeps the bytes we hand out identical to what Fabric reconstructs. Each attempt has even odds.
  for (int attempt = 0;; ++attempt) {
    if (X509_sign(x.get(), static_cast<EVP_PKEY*>(issuer_key.native()), EVP_sha256()) <= 0) {
      return OpensslError(ErrorKind::kInternal, "cert_issue_failed", "X509_sign");
    }
    if (SignatureIsLowS(x.get())) break;
    if (attempt >= 64) return MakeError(ErrorKind::kInternal, "cert_issue_failed", "no low-S certificate signature");
  }
  return FromX509(std::move(x));
}

}  // namespace medledger::crypto
