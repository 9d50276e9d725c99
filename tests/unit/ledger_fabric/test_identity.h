// A user of a throwaway CA, with Fabric CA's role attribute: enough identity for client-side tests.
#pragma once

#include <string>

#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"

namespace medledger::ledger::fabric {

inline identity::SigningIdentity MakeTestUser(const std::string& name, const std::string& role) {
  auto ca_key = crypto::EcPrivateKey::Generate().value();
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "ca.hospital";
  ca_req.organization = "Hospital";
  ca_req.is_ca = true;
  auto ca = crypto::IssueCertificate(ca_req, ca_key.PublicKey(), ca_key, nullptr).value();
  auto key = crypto::EcPrivateKey::Generate().value();
  crypto::CertificateRequest req;
  req.common_name = name;
  req.organization = "Hospital";
  req.organizational_units = {"client"};
  req.attributes = {{"role", role}};
  auto cert = crypto::IssueCertificate(req, key.PublicKey(), ca_key, &ca).value();
  return identity::SigningIdentity("HospitalMSP", cert, key);
}

}  // namespace medledger::ledger::fabric
