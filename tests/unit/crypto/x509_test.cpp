#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "crypto/random.h"

namespace medledger::crypto {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

struct Ca {
  EcPrivateKey key = EcPrivateKey::Generate().value();
  Certificate cert = IssueCertificate({.common_name = "ca.hospital", .organization = "Hospital", .is_ca = true},
                                      key.PublicKey(), key, nullptr)
                         .value();
};

Certificate IssueLeaf(const Ca& ca, const EcPrivateKey& key, hours validity = hours(24)) {
  CertificateRequest req;
  req.common_name = "alice";
  req.organization = "Hospital";
  req.organizational_units = {"client", "doctors"};
  req.attributes = {{"role", "doctor"}, {"hf.EnrollmentID", "alice"}, {"hf.Type", "client"}};
  req.validity = validity;
  return IssueCertificate(req, key.PublicKey(), ca.key, &ca.cert).value();
}

TEST(X509, SelfSignedCa) {
  Ca ca;
  EXPECT_TRUE(ca.cert.IsCa());
  EXPECT_EQ(ca.cert.SubjectCommonName(), "ca.hospital");
  EXPECT_EQ(ca.cert.IssuerCommonName(), "ca.hospital");
  EXPECT_EQ(ca.cert.SubjectOrganization(), "Hospital");
  EXPECT_TRUE(ca.cert.IsIssuedBy(ca.cert));
  EXPECT_TRUE(ca.cert.PublicKey() == ca.key.PublicKey());
  EXPECT_TRUE(ca.cert.FabricAttributes().value().empty());
}

TEST(X509, LeafFieldsExtensionsAndAttributes) {
  Ca ca;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key);
  EXPECT_FALSE(leaf.IsCa());
  EXPECT_EQ(leaf.SubjectCommonName(), "alice");
  EXPECT_EQ(leaf.SubjectOrganizationalUnits(), (std::vector<std::string>{"client", "doctors"}));
  EXPECT_EQ(leaf.IssuerCommonName(), "ca.hospital");
  EXPECT_TRUE(leaf.PublicKey() == key.PublicKey());
  std::string serial = leaf.SerialHex();
  EXPECT_EQ(serial.size(), 32u) << serial;  // 128 bits
  EXPECT_NE(serial, IssueLeaf(ca, key).SerialHex());

  auto attrs = leaf.FabricAttributes().value();
  EXPECT_EQ(attrs.at("role"), "doctor");
  EXPECT_EQ(attrs.at("hf.EnrollmentID"), "alice");
  EXPECT_EQ(attrs.at("hf.Type"), "client");

  auto* x = static_cast<X509*>(leaf.native());
  ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(x), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                  X509_get0_subject_key_id(static_cast<X509*>(ca.cert.native()))),
            0);
  EXPECT_TRUE(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);

  // The extension value is the raw JSON itself, exactly as Fabric CA writes it.
  ASN1_OBJECT* obj = OBJ_txt2obj(kFabricAttrOid, 1);
  int idx = X509_get_ext_by_OBJ(x, obj, -1);
  ASN1_OBJECT_free(obj);
  ASSERT_GE(idx, 0);
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
  std::string raw(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)), ASN1_STRING_length(data));
  EXPECT_EQ(raw, R"({"attrs":{"hf.EnrollmentID":"alice","hf.Type":"client","role":"doctor"}})");
}

TEST(X509, PemAndDerRoundTrip) {
  Ca ca;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key);
  std::string pem = leaf.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  Certificate parsed = Certificate::FromPem(pem).value();
  EXPECT_TRUE(parsed == leaf);
  EXPECT_EQ(parsed.ToPem(), pem);
  EXPECT_EQ(parsed.FabricAttributes().value().at("role"), "doctor");
  EXPECT_TRUE(parsed.IsIssuedBy(ca.cert));
  EXPECT_TRUE(Certificate::FromDer(leaf.ToDer()).value() == leaf);
  EXPECT_EQ(Certificate::FromDer(leaf.ToDer() + "x").error().code, "bad_certificate");
  EXPECT_EQ(Certificate::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").error().code,
            "bad_certificate");
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(Certificate::FromDer(RandomBytes(static_cast<size_t>(i * 3))).ok());
}

TEST(X509, WrongIssuerAndTamperingAreDetected) {
  Ca ca;
  Ca other;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key);
  EXPECT_TRUE(leaf.IsIssuedBy(ca.cert));
  EXPECT_FALSE(leaf.IsIssuedBy(other.cert));
  EXPECT_FALSE(ca.cert.IsIssuedBy(leaf));  // a leaf is not a CA
  EXPECT_EQ(leaf.VerifyIssuedBy(other.cert, system_clock::now()).error().code, "cert_wrong_issuer");

  // Same subject name and key identifier cannot be forged without the CA key: flip a signature byte.
  std::string der = leaf.ToDer();
  der[der.size() - 3] ^= 0x01;
  auto tampered = Certificate::FromDer(der);
  if (tampered.ok()) {
    EXPECT_FALSE(tampered->IsIssuedBy(ca.cert));
  }
  // A certificate with a changed body (the CN) no longer matches its signature either.
  std::string body = leaf.ToDer();
  size_t pos = body.find("alice");
  ASSERT_NE(pos, std::string::npos);
  body[pos] = 'm';
  auto renamed = Certificate::FromDer(body);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->SubjectCommonName(), "mlice");
  EXPECT_FALSE(renamed->IsIssuedBy(ca.cert));
}

TEST(X509, IssuerMustBeACaWithMatchingKey) {
  Ca ca;
  Ca other;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key);
  CertificateRequest req{.common_name = "bob"};
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), key, &leaf).error().code, "issuer_not_ca");
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), other.key, &ca.cert).error().code, "issuer_key_mismatch");
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), ca.key, nullptr).error().code, "issuer_key_mismatch");
  req.common_name = "";
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), ca.key, &ca.cert).error().code, "bad_subject");
  req.common_name = std::string(65, 'a');
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), ca.key, &ca.cert).error().code, "bad_subject");
  req.common_name = "bob";
  req.validity = hours(0);
  EXPECT_EQ(IssueCertificate(req, key.PublicKey(), ca.key, &ca.cert).error().code, "bad_validity");
}

TEST(X509, Expiry) {
  Ca ca;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key, hours(1));
  auto now = system_clock::now();
  EXPECT_TRUE(leaf.IsValidAt(now));
  EXPECT_LE(leaf.NotBefore(), now);
  EXPECT_GT(leaf.NotAfter(), now + std::chrono::minutes(59));
  EXPECT_LT(leaf.NotAfter(), now + std::chrono::minutes(61));
  EXPECT_FALSE(leaf.IsValidAt(now + hours(2)));
  EXPECT_FALSE(leaf.IsValidAt(now - hours(1)));
  EXPECT_TRUE(leaf.VerifyIssuedBy(ca.cert, now).ok());
  EXPECT_EQ(leaf.VerifyIssuedBy(ca.cert, now + hours(2)).error().code, "cert_expired");
  EXPECT_TRUE(leaf.IsIssuedBy(ca.cert));  // the signature itself stays good
}

// RFC 5280 §4.1.2.5: 99991231235959Z means "no well-defined expiration". Such dates (and any before 1678 or
// after 2262) do not fit a nanosecond system_clock time_point: converting them overflowed (UBSan). They are
// clamped to the time_point's range, which keeps every comparison right.
TEST(X509, FarDatesClampInsteadOfOverflowing) {
  Ca ca;
  auto key = EcPrivateKey::Generate().value();
  Certificate leaf = IssueLeaf(ca, key);
  X509* x = X509_dup(static_cast<X509*>(leaf.native()));
  ASSERT_NE(x, nullptr);
  ASSERT_EQ(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z"), 1);
  ASSERT_EQ(ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "15000101000000Z"), 1);
  ASSERT_GT(X509_sign(x, static_cast<EVP_PKEY*>(ca.key.native()), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  X509_free(x);
  ASSERT_GT(len, 0);
  auto forever = Certificate::FromDer(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  ASSERT_TRUE(forever.ok()) << forever.error().ToString();
  EXPECT_EQ(forever->NotAfter(), system_clock::time_point::max());
  EXPECT_EQ(forever->NotBefore(), system_clock::time_point::min());
  EXPECT_TRUE(forever->IsValidAt(system_clock::now()));
  EXPECT_TRUE(forever->IsValidAt(system_clock::now() + hours(24 * 365 * 200)));
}

TEST(X509, CertificateSignaturesAreLowS) {
  Ca ca;
  auto key = EcPrivateKey::Generate().value();
  for (int i = 0; i < 20; ++i) {
    Certificate leaf = IssueLeaf(ca, key);
    const ASN1_BIT_STRING* sig = nullptr;
    X509_get0_signature(&sig, nullptr, static_cast<X509*>(leaf.native()));
    EXPECT_TRUE(IsLowS(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
                                   static_cast<size_t>(ASN1_STRING_length(sig)))));
  }
}

}  // namespace
}  // namespace medledger::crypto

namespace medledger::crypto {
namespace {

// Re-signs a copy of `base` (no attribute extension) with an attribute extension holding `json`.
Certificate WithAttributeExtension(const Certificate& base, const std::string& json, const EcPrivateKey& ca_key) {
  X509* x = X509_dup(static_cast<X509*>(base.native()));
  ASN1_OBJECT* obj = OBJ_txt2obj(kFabricAttrOid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(json.data()), static_cast<int>(json.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(x, ext, -1);
  X509_sign(x, static_cast<EVP_PKEY*>(ca_key.native()), EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
  X509_free(x);
  return Certificate::FromDer(out).value();
}

TEST(X509, MalformedAttributeExtensionsAreErrorsNotCrashes) {
  auto ca_key = EcPrivateKey::Generate().value();
  auto ca = IssueCertificate({.common_name = "ca", .is_ca = true}, ca_key.PublicKey(), ca_key, nullptr).value();
  auto key = EcPrivateKey::Generate().value();
  auto plain = IssueCertificate({.common_name = "bob"}, key.PublicKey(), ca_key, &ca).value();
  EXPECT_TRUE(plain.FabricAttributes().value().empty());

  auto good = WithAttributeExtension(plain, R"({"attrs":{"role":"auditor","x":""}})", ca_key);
  EXPECT_TRUE(good.IsIssuedBy(ca));
  EXPECT_EQ(good.FabricAttributes().value().at("role"), "auditor");
  EXPECT_EQ(good.FabricAttributes().value().at("x"), "");

  for (const char* bad :
       {"", "not json", "[]", R"({"attrs":[]})", R"({"role":"doctor"})", R"({"attrs":{"role":5}})",
        R"({"attrs":{"role":null}})", R"({"attrs":{"role":"doctor"})", "{\"attrs\":{\"r\":\"\xff\"}}"}) {
    auto cert = WithAttributeExtension(plain, bad, ca_key);
    auto attrs = cert.FabricAttributes();
    ASSERT_FALSE(attrs.ok()) << bad;
    EXPECT_EQ(attrs.error().code, "bad_cert_attributes") << bad;
    EXPECT_EQ(cert.SubjectCommonName(), "bob");  // the rest of the certificate stays usable
  }
  // Deep nesting must not exhaust the stack.
  std::string deep = R"({"attrs":{"role":)" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  EXPECT_EQ(WithAttributeExtension(plain, deep, ca_key).FabricAttributes().error().code, "bad_cert_attributes");
}

}  // namespace
}  // namespace medledger::crypto
