#include "tsa/timestamp_token.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>

#include "crypto/openssl_util.h"

namespace medledger::tsa {
namespace {

using crypto::internal::BioContents;
using crypto::internal::ReadBio;
using crypto::internal::WriteBio;

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using TsReqPtr = std::unique_ptr<TS_REQ, Deleter<TS_REQ_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, Deleter<TS_RESP_free>>;
using TsTstInfoPtr = std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO_free>>;
using TsMsgImprintPtr = std::unique_ptr<TS_MSG_IMPRINT, Deleter<TS_MSG_IMPRINT_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, Deleter<X509_ALGOR_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

Error Fail(ErrorKind kind, const char* code, std::string message) {
  ERR_clear_error();  // stale OpenSSL errors must not surface in a later, unrelated call
  return MakeError(kind, code, std::move(message));
}

// d2i_* over the whole input: trailing bytes after the DER value are refused, so one token has one encoding.
template <class Ptr, class D2i>
Ptr DecodeOwned(D2i d2i, std::string_view der) {
  using T = typename Ptr::element_type;
  if (der.empty() || der.size() > static_cast<size_t>(LONG_MAX)) return Ptr();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = p + der.size();
  Ptr value(static_cast<T*>(d2i(nullptr, &p, static_cast<long>(der.size()))));
  if (value && p != end) value.reset();
  return value;
}

template <class T, class I2d>
std::string Encode(I2d i2d, T* value) {
  int len = i2d(value, nullptr);
  if (len <= 0) return {};
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d(value, &p) != len) return {};
  return out;
}

std::string_view OctetView(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s))};
}

// A remote TSA's free text goes into logs and error messages: printable ASCII only, bounded.
std::string Printable(std::string_view text, size_t max = 200) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

bool IsSha256Algorithm(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, alg);
  // RFC 5754: parameters absent or NULL.
  return OBJ_obj2nid(oid) == NID_sha256 && (param_type == V_ASN1_UNDEF || param_type == V_ASN1_NULL);
}

std::string StatusText(const TS_STATUS_INFO* info) {
  static constexpr struct {
    int bit;
    const char* name;
  } kFailures[] = {{TS_INFO_BAD_ALG, "badAlg"},
                   {TS_INFO_BAD_REQUEST, "badRequest"},
                   {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
                   {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
                   {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
                   {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
                   {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
                   {TS_INFO_SYSTEM_FAILURE, "systemFailure"}};
  static constexpr const char* kStatuses[] = {"granted", "grantedWithMods",   "rejection",
                                              "waiting", "revocationWarning", "revocationNotification"};
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  std::string out = "status " + std::to_string(status);
  if (status >= 0 && status < static_cast<long>(std::size(kStatuses)))
    out += std::string(" (") + kStatuses[status] + ")";
  if (const auto* texts = TS_STATUS_INFO_get0_text(info)) {
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts) && i < 4; ++i) {
      out += ": " + Printable(OctetView(sk_ASN1_UTF8STRING_value(texts, i)));
    }
  }
  if (const ASN1_BIT_STRING* bits = TS_STATUS_INFO_get0_failure_info(info)) {
    std::string names;
    for (const auto& f : kFailures) {
      if (ASN1_BIT_STRING_get_bit(bits, f.bit)) names += (names.empty() ? "" : ",") + std::string(f.name);
    }
    if (!names.empty()) out += "; failure info: " + names;
  }
  return out;
}

// "YYYYMMDDHHMMSS[.f+]Z" (RFC 3161 §2.4.2: UTC, fraction without trailing zeros) into a Timestamp.
Result<Timestamp> GenTime(const ASN1_GENERALIZEDTIME* t) {
  auto bad = [] { return Fail(ErrorKind::kInvalidArgument, "tsa_token_malformed", "genTime is not a UTC time"); };
  if (t == nullptr || !ASN1_GENERALIZEDTIME_check(t)) return bad();
  std::string_view s = OctetView(t);
  if (s.size() < 15 || s.back() != 'Z') return bad();
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  CivilDate date{num(0, 4), num(4, 2), num(6, 2)};
  const int hour = num(8, 2), minute = num(10, 2), second = num(12, 2);
  if (date.year < 1 || date.month < 1 || date.month > 12 || date.day < 1 ||
      date.day > DaysInMonth(date.year, date.month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59) {
    return bad();
  }
  int32_t nanos = 0;
  std::string_view rest = s.substr(14, s.size() - 15);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) return bad();
    int32_t scale = 100000000;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return bad();
      nanos += (c - '0') * scale;
      scale /= 10;
    }
  }
  return Timestamp{date.DaysSinceEpoch() * 86400 + hour * 3600 + minute * 60 + second, nanos};
}

std::string IntegerHex(const ASN1_INTEGER* v) {
  BignumPtr bn(ASN1_INTEGER_to_BN(v, nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

std::string OidText(const ASN1_OBJECT* oid) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, oid, 1);
  if (n <= 0 || n >= static_cast<int>(sizeof buf)) return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::string NameLine(const X509_NAME* name) {
  char* line = X509_NAME_oneline(name, nullptr, 0);
  std::string out = line != nullptr ? line : "";
  OPENSSL_free(line);
  return out;
}

// The first TS/ESS/PKCS7 reason in the error queue decides the named failure of TS_RESP_verify_signature.
Error SignatureFailure() {
  const char* code = "tsa_token_invalid";
  std::string detail;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (detail.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      detail = buf;
    }
    if (std::string_view(code) != "tsa_token_invalid") continue;
    const int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
    if (lib == ERR_LIB_ESS) {
      code = "tsa_signer_mismatch";
    } else if (lib == ERR_LIB_TS && reason == TS_R_CERTIFICATE_VERIFY_ERROR) {
      code = "tsa_untrusted_signer";
    } else if (lib == ERR_LIB_TS && reason == TS_R_ESS_SIGNING_CERTIFICATE_ERROR) {
      code = "tsa_signer_mismatch";
    } else if (lib == ERR_LIB_TS && reason == TS_R_SIGNATURE_FAILURE) {
      code = "tsa_bad_signature";
    } else if (lib == ERR_LIB_PKCS7 && reason == PKCS7_R_SIGNER_CERTIFICATE_NOT_FOUND) {
      code = "tsa_untrusted_signer";
    } else if (lib == ERR_LIB_PKCS7 && reason == PKCS7_R_SIGNATURE_FAILURE) {
      code = "tsa_bad_signature";
    } else if (lib == ERR_LIB_PKCS7 && reason == PKCS7_R_DIGEST_FAILURE) {
      code = "tsa_bad_signature";
    }
  }
  return Fail(ErrorKind::kCorruption, code, "the time-stamp token does not verify: " + Printable(detail, 300));
}

Result<X509StorePtr> LoadRoots(std::string_view pem) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return Fail(ErrorKind::kInternal, "tsa_internal", "X509_STORE_new failed");
  auto bio = ReadBio(pem);
  int count = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
      return Fail(ErrorKind::kInvalidArgument, "tsa_no_trusted_roots", "cannot add a trusted TSA root");
    }
    ++count;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (count == 0) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_no_trusted_roots", "no certificate in the trusted TSA roots");
  }
  return store;
}

}  // namespace

Result<std::string> BuildRequest(std::string_view sha256_digest, uint64_t nonce) {
  if (sha256_digest.size() != 32) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_bad_digest", "a SHA-256 digest is 32 bytes");
  }
  TsReqPtr req(TS_REQ_new());
  TsMsgImprintPtr imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr alg(X509_ALGOR_new());
  Asn1IntegerPtr n(ASN1_INTEGER_new());
  if (!req || !imprint || !alg || !n) return Fail(ErrorKind::kInternal, "tsa_internal", "out of memory");
  if (X509_ALGOR_set0(alg.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), alg.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), reinterpret_cast<unsigned char*>(const_cast<char*>(sha256_digest.data())),
                             static_cast<int>(sha256_digest.size())) != 1 ||
      TS_REQ_set_version(req.get(), 1) != 1 || TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      ASN1_INTEGER_set_uint64(n.get(), nonce) != 1 || TS_REQ_set_nonce(req.get(), n.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return Fail(ErrorKind::kInternal, "tsa_internal", "cannot build the time-stamp request");
  }
  std::string der = Encode(i2d_TS_REQ, req.get());
  if (der.empty()) return Fail(ErrorKind::kInternal, "tsa_internal", "cannot encode the time-stamp request");
  return der;
}

Result<std::string> TokenFromResponse(std::string_view response_der, std::string_view request_der) {
  if (request_der.size() > kMaxResponseBytes) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_bad_request", "the time-stamp request is too large");
  }
  auto req = DecodeOwned<TsReqPtr>(d2i_TS_REQ, request_der);
  if (!req) return Fail(ErrorKind::kInvalidArgument, "tsa_bad_request", "not a DER TimeStampReq");
  if (response_der.size() > kMaxResponseBytes) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_response_malformed", "the time-stamp reply is too large");
  }
  // d2i_TS_RESP also parses the token's TSTInfo and refuses a granted reply without one.
  auto resp = DecodeOwned<TsRespPtr>(d2i_TS_RESP, response_der);
  if (!resp) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_response_malformed", "not a DER TimeStampResp");
  }
  const TS_STATUS_INFO* info = TS_RESP_get_status_info(resp.get());
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
    return Fail(ErrorKind::kUnavailable, "tsa_rejected", "the TSA refused the request: " + StatusText(info));
  }
  PKCS7* token = TS_RESP_get_token(resp.get());
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp.get());
  if (token == nullptr || tst == nullptr || TS_TST_INFO_get_version(tst) != 1) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_response_malformed", "a granted reply without a v1 token");
  }
  TS_MSG_IMPRINT* want = TS_REQ_get_msg_imprint(req.get());
  TS_MSG_IMPRINT* got = TS_TST_INFO_get_msg_imprint(tst);
  if (want == nullptr || got == nullptr ||
      OBJ_cmp(TS_MSG_IMPRINT_get_algo(want)->algorithm, TS_MSG_IMPRINT_get_algo(got)->algorithm) != 0 ||
      OctetView(TS_MSG_IMPRINT_get_msg(want)) != OctetView(TS_MSG_IMPRINT_get_msg(got))) {
    return Fail(ErrorKind::kCorruption, "tsa_response_mismatch", "the token's message imprint is not the request's");
  }
  const ASN1_INTEGER* want_nonce = TS_REQ_get_nonce(req.get());
  const ASN1_INTEGER* got_nonce = TS_TST_INFO_get_nonce(tst);
  if (want_nonce != nullptr && (got_nonce == nullptr || ASN1_INTEGER_cmp(want_nonce, got_nonce) != 0)) {
    return Fail(ErrorKind::kCorruption, "tsa_response_mismatch", "the token's nonce is not the request's");
  }
  std::string der = Encode(i2d_PKCS7, token);
  if (der.empty()) return Fail(ErrorKind::kInternal, "tsa_internal", "cannot encode the time-stamp token");
  return der;
}

Result<VerifiedTime> VerifyToken(std::string_view token_der, std::string_view message,
                                 std::string_view trusted_roots_pem) {
  const std::string digest = [&] {
    std::string d(32, '\0');
    unsigned int len = 0;
    EVP_Digest(message.data(), message.size(), reinterpret_cast<unsigned char*>(d.data()), &len, EVP_sha256(), nullptr);
    return len == 32 ? d : std::string();
  }();
  if (digest.empty()) return Fail(ErrorKind::kInternal, "tsa_internal", "SHA-256 failed");
  return VerifyTokenDigest(token_der, digest, trusted_roots_pem);
}

Result<VerifiedTime> VerifyTokenDigest(std::string_view token_der, std::string_view sha256_digest,
                                       std::string_view trusted_roots_pem) {
  if (sha256_digest.size() != 32) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_bad_digest", "a SHA-256 digest is 32 bytes");
  }
  if (token_der.size() > kMaxTokenBytes) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_token_malformed", "the time-stamp token is too large");
  }
  auto token = DecodeOwned<Pkcs7Ptr>(d2i_PKCS7, token_der);
  if (!token) return Fail(ErrorKind::kInvalidArgument, "tsa_token_malformed", "not a DER CMS ContentInfo");
  TsTstInfoPtr tst(PKCS7_to_TS_TST_INFO(token.get()));
  if (!tst || TS_TST_INFO_get_version(tst.get()) != 1) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_token_malformed", "no v1 TSTInfo in signed data");
  }
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
  if (!IsSha256Algorithm(TS_MSG_IMPRINT_get_algo(imprint))) {
    return Fail(ErrorKind::kInvalidArgument, "tsa_unsupported_digest", "the token's imprint is not SHA-256");
  }
  if (OctetView(TS_MSG_IMPRINT_get_msg(imprint)) != sha256_digest) {
    return Fail(ErrorKind::kCorruption, "tsa_imprint_mismatch", "the token time-stamps other data");
  }
  ML_ASSIGN_OR_RETURN(Timestamp gen_time, GenTime(TS_TST_INFO_get_time(tst.get())));
  ML_ASSIGN_OR_RETURN(X509StorePtr store, LoadRoots(trusted_roots_pem));
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(gen_time.seconds));

  ERR_clear_error();
  X509* signer_raw = nullptr;
  // Signer certificate from the token, chain to the store with purpose timestampsign (critical EKU
  // timeStamping), ESSCertID/ESSCertIDv2 against that chain, then the CMS signature over the TSTInfo.
  if (TS_RESP_verify_signature(token.get(), nullptr, store.get(), &signer_raw) != 1) {
    X509_free(signer_raw);
    return SignatureFailure();
  }
  X509Ptr signer(signer_raw);

  VerifiedTime out;
  out.gen_time = gen_time;
  out.serial_hex = IntegerHex(TS_TST_INFO_get_serial(tst.get()));
  out.policy_oid = OidText(TS_TST_INFO_get_policy_id(tst.get()));
  if (GENERAL_NAME* name = TS_TST_INFO_get_tsa(tst.get())) {
    auto bio = WriteBio();
    if (GENERAL_NAME_print(bio.get(), name) == 1) out.tsa_name = Printable(BioContents(bio.get()), 1024);
  }
  out.signer_subject = Printable(NameLine(X509_get_subject_name(signer.get())), 1024);
  ERR_clear_error();
  return out;
}

}  // namespace medledger::tsa
