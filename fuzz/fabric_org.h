// The fixed organisation of test_identities.h as the ledger code wants it: certificates, keys, signing
// identities and the Membership the validator checks against. Shared by the fabric fuzzer and seedgen.
#pragma once

#include <memory>

#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "ledger/embedded/membership.h"
#include "test_identities.h"

namespace medledger::fuzz {

struct FabricOrg {
  crypto::Certificate ca = crypto::Certificate::FromPem(kCaCertPem).value();
  std::shared_ptr<identity::SigningIdentity> peer = Identity(kPeerCertPem, kPeerKeyPem);
  std::shared_ptr<identity::SigningIdentity> orderer = Identity(kOrdererCertPem, kOrdererKeyPem);
  std::shared_ptr<identity::SigningIdentity> alice = Identity(kAliceCertPem, kAliceKeyPem);
  crypto::EcPrivateKey peer_key = crypto::EcPrivateKey::FromPem(kPeerKeyPem).value();
  crypto::EcPrivateKey alice_key = crypto::EcPrivateKey::FromPem(kAliceKeyPem).value();
  ledger::embedded::Membership membership{"Org1MSP", ca, peer->certificate(), orderer->certificate()};

  static std::shared_ptr<identity::SigningIdentity> Identity(const char* cert, const char* key) {
    return std::make_shared<identity::SigningIdentity>("Org1MSP", crypto::Certificate::FromPem(cert).value(),
                                                       crypto::EcPrivateKey::FromPem(key).value());
  }
};

}  // namespace medledger::fuzz
