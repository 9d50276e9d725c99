// X.509 certificates (OpenSSL 3): parsing, issuing, chain checks, and the Fabric CA attribute extension.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/ecdsa.h"

namespace medledger::crypto {

// Fabric CA's attribute extension: OID 1.2.3.4.5.6.7.8.1, extnValue = raw JSON {"attrs":{"role":"doctor",...}}.
inline constexpr const char* kFabricAttrOid = "1.2.3.4.5.6.7.8.1";

class Certificate {
 public:
  static Result<Certificate> FromPem(std::string_view pem);
  static Result<Certificate> FromDer(std::string_view der);

  std::string ToPem() const;
  std::string ToDer() const;

  std::string SubjectCommonName() const;
  std::vector<std::string> SubjectOrganizationalUnits() const;
  std::string SubjectOrganization() const;
  std::string IssuerCommonName() const;
  std::string SerialHex() const;
  std::chrono::system_clock::time_point NotBefore() const;
  std::chrono::system_clock::time_point NotAfter() const;
  bool IsCa() const;
  EcPublicKey PublicKey() const;

  // Attributes from the Fabric CA extension; empty map when the extension is absent.
  Result<std::map<std::string, std::string>> FabricAttributes() const;

  // True when `issuer` is a CA whose subject is this certificate's issuer and whose key signed it.
  // Validity periods are not checked here: see IsValidAt / VerifyIssuedBy.
  bool IsIssuedBy(const Certificate& issuer) const;
  bool IsValidAt(std::chrono::system_clock::time_point at) const;
  // IsIssuedBy + both certificates valid at `at`, with a precise error naming what failed.
  Status VerifyIssuedBy(const Certificate& issuer, std::chrono::system_clock::time_point at) const;

  // The DER encoding identifies a certificate; two certificates are equal when their DER is.
  friend bool operator==(const Certificate& a, const Certificate& b) { return a.ToDer() == b.ToDer(); }

  void* native() const;  // X509*, owned by this certificate

  struct State;  // X509 + cached public key and DER (x509.cpp)
  explicit Certificate(std::shared_ptr<const State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<const State> state_;  // immutable, shared by copies
};

struct CertificateRequest {
  std::string common_name;
  std::string organization;                       // the organisation (MSP) name
  std::vector<std::string> organizational_units;  // Fabric NodeOUs: "client", "peer", "orderer", "admin"
  std::map<std::string, std::string> attributes;  // written into the Fabric attribute extension when non-empty
  bool is_ca = false;
  std::chrono::hours validity{24 * 365 * 5};
};

// Issues a certificate for `subject_key` signed by `issuer_key`. With no issuer certificate the
// certificate is self-signed (a root CA).
Result<Certificate> IssueCertificate(const CertificateRequest& request, const EcPublicKey& subject_key,
                                     const EcPrivateKey& issuer_key, const Certificate* issuer_cert);

}  // namespace medledger::crypto
