// libFuzzer: certificates in and out. The first byte picks the mode (its value mod 3):
// - 0, 1: PEM or DER parsing and every accessor the membership service and the CLI use on a parsed
//   certificate (names, OUs, validity, the Fabric CA attribute extension, chain checks against a fixed CA),
//   plus the EC key PEM parsers. Whatever parses must round-trip through its DER. Nothing may crash.
// - 2: issuing. The rest of the input, split at NUL bytes, is the request an enrollment builds from user
//   input (common name, organisation, OUs, attribute name=value pairs); a CA issues it. Either the
//   request is refused with an error, or the certificate parses back with exactly the names and attributes
//   asked for and verifies against the CA.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "fuzz_check.h"
#include "test_identities.h"

namespace {

using medledger::crypto::Certificate;
using medledger::crypto::CertificateRequest;
using medledger::crypto::EcPrivateKey;
using medledger::crypto::EcPublicKey;

const Certificate& Ca() {
  static const Certificate ca = Certificate::FromPem(medledger::fuzz::kCaCertPem).value();
  return ca;
}

void FuzzParse(bool pem, std::string_view in) {
  auto cert = pem ? Certificate::FromPem(in) : Certificate::FromDer(in);
  if (cert.ok()) {
    (void)cert->SubjectCommonName();
    (void)cert->SubjectOrganizationalUnits();
    (void)cert->SubjectOrganization();
    (void)cert->IssuerCommonName();
    (void)cert->SerialHex();
    (void)cert->NotBefore();
    (void)cert->NotAfter();
    (void)cert->IsCa();
    (void)cert->PublicKey().ToPem();
    (void)cert->FabricAttributes();
    (void)cert->VerifyIssuedBy(Ca(), cert->NotBefore());
    auto again = Certificate::FromDer(cert->ToDer());
    FUZZ_CHECK(again.ok() && *again == *cert);
  }
  if (pem) {
    (void)EcPublicKey::FromPem(in);
    (void)EcPrivateKey::FromPem(in);
  }
}

std::vector<std::string> SplitAtNul(std::string_view in) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 16) {
    size_t end = in.find('\0', start);
    parts.emplace_back(in.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

void FuzzIssue(uint8_t flags, std::string_view in) {
  static const EcPrivateKey ca_key = EcPrivateKey::FromPem(medledger::fuzz::kCaKeyPem).value();
  static const EcPublicKey subject_key = EcPrivateKey::FromPem(medledger::fuzz::kPeerKeyPem).value().PublicKey();
  std::vector<std::string> parts = SplitAtNul(in);
  CertificateRequest request;
  request.common_name = parts[0];
  if (parts.size() > 1) request.organization = parts[1];
  size_t i = 2;
  for (; i < parts.size() && parts[i].find('=') == std::string::npos; ++i) {
    request.organizational_units.push_back(parts[i]);
  }
  for (; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    if (eq != std::string::npos) request.attributes[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
  }
  request.is_ca = (flags & 0x04) != 0;
  request.validity = std::chrono::hours(1 + (flags >> 3) * 1000);

  // The parse mode's fixed CA has no subject key identifier, which issuing needs (authority key identifier
  // "keyid:always"), so the issuing CA is made the way `medledger` makes one, from the same key.
  static const Certificate issuer = [] {
    CertificateRequest root;
    root.common_name = "ca.fuzz";
    root.organization = "FuzzMSP";
    root.is_ca = true;
    return medledger::crypto::IssueCertificate(root, ca_key.PublicKey(), ca_key, nullptr).value();
  }();
  auto cert = medledger::crypto::IssueCertificate(request, subject_key, ca_key, &issuer);
  if (!cert.ok()) return;  // a refusal is an answer; a crash or a wrong certificate is not
  auto back = Certificate::FromDer(cert->ToDer());
  FUZZ_CHECK(back.ok() && *back == *cert);
  FUZZ_CHECK(back->SubjectCommonName() == request.common_name);
  FUZZ_CHECK(back->SubjectOrganization() == request.organization);
  FUZZ_CHECK(back->SubjectOrganizationalUnits() == request.organizational_units);
  FUZZ_CHECK(back->IsCa() == request.is_ca);
  FUZZ_CHECK(back->VerifyIssuedBy(issuer, back->NotBefore() + std::chrono::seconds(1)).ok());
  auto attributes = back->FabricAttributes();
  FUZZ_CHECK(attributes.ok() && *attributes == request.attributes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: FuzzParse(/*pem=*/true, in); break;
    case 1: FuzzParse(/*pem=*/false, in); break;
    default: FuzzIssue(data[0], in); break;
  }
  return 0;
}
