// A user's ledger identity: an X.509 certificate from the organisation's CA and its private key.
// Transactions are signed with it; the contract reads the role from the certificate.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "crypto/ecdsa.h"
#include "crypto/x509.h"

namespace medledger::identity {

class SigningIdentity {
 public:
  SigningIdentity(std::string msp_id, crypto::Certificate cert, crypto::EcPrivateKey key);
  // Checks that the key belongs to the certificate (a mismatched pair would sign unverifiable transactions).
  static Result<SigningIdentity> Create(std::string msp_id, crypto::Certificate cert, crypto::EcPrivateKey key);

  const std::string& msp_id() const { return msp_id_; }
  const crypto::Certificate& certificate() const { return cert_; }
  const std::string& cert_pem() const { return cert_pem_; }
  // msp.SerializedIdentity {mspid = 1, id_bytes = 2 (PEM)} encoded as protobuf bytes: the "creator".
  const std::string& serialized() const { return serialized_; }
  const crypto::EcPrivateKey& private_key() const { return key_; }

  Result<std::string> Sign(std::string_view message) const;  // DER, low-S

 private:
  std::string msp_id_;
  crypto::Certificate cert_;
  crypto::EcPrivateKey key_;
  std::string cert_pem_;
  std::string serialized_;
};

// Encodes msp.SerializedIdentity without depending on generated protobuf code (two length-delimited fields).
std::string SerializeIdentity(std::string_view msp_id, std::string_view cert_pem);
// Strict parser: both fields present exactly once and non-empty, mspid valid UTF-8, well-formed varints and
// lengths; validly encoded unknown fields are skipped as protobuf does. Errors have code "bad_identity".
Result<std::pair<std::string, std::string>> ParseSerializedIdentity(std::string_view bytes);  // {msp_id, pem}

}  // namespace medledger::identity
