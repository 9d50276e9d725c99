// libFuzzer: PEM and DER certificate parsing and every accessor the membership service and the CLI use on
// a parsed certificate (names, OUs, validity, the Fabric CA attribute extension, chain checks against a
// fixed CA), plus the EC key PEM parsers. The first byte picks PEM or DER. Nothing may crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "test_identities.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using medledger::crypto::Certificate;
  static const Certificate ca = Certificate::FromPem(medledger::fuzz::kCaCertPem).value();
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  auto cert = data[0] % 2 == 0 ? Certificate::FromPem(in) : Certificate::FromDer(in);
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
    (void)cert->VerifyIssuedBy(ca, cert->NotBefore());
    // Whatever parses must round-trip through its DER.
    auto again = Certificate::FromDer(cert->ToDer());
    if (!again.ok() || !(*again == *cert)) std::abort();
  }
  if (data[0] % 2 == 0) {
    (void)medledger::crypto::EcPublicKey::FromPem(in);
    (void)medledger::crypto::EcPrivateKey::FromPem(in);
  }
  return 0;
}
