// The organisation's membership service as the ledger sees it: turns a serialized creator/endorser
// (msp.SerializedIdentity bytes) into a checked identity, and caches the result by those exact bytes so
// the hot path parses and checks each certificate once.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "crypto/ecdsa.h"
#include "crypto/x509.h"

namespace medledger::ledger::embedded {

struct MemberIdentity {
  std::string msp_id;
  std::string cert_pem;
  crypto::Certificate cert;
  crypto::EcPublicKey public_key;
  bool is_endorser = false;  // one of the organisation's peers (the endorsement policy)
  bool is_orderer = false;   // the organisation's ordering service identity
};

class Membership {
 public:
  // `peer_cert` and `orderer_cert` are the organisation's endorsing peer and orderer certificates.
  Membership(std::string msp_id, crypto::Certificate ca_cert, const crypto::Certificate& peer_cert,
             const crypto::Certificate& orderer_cert);

  // Errors: "malformed_identity" (not a SerializedIdentity / certificate), "unknown_msp" (another org),
  // "untrusted_certificate" (not issued by the organisation's CA).
  Result<std::shared_ptr<const MemberIdentity>> Resolve(std::string_view serialized) const;

  const std::string& msp_id() const { return msp_id_; }

 private:
  Result<std::shared_ptr<const MemberIdentity>> Parse(std::string_view serialized) const;

  static constexpr size_t kMaxCached = 4096;
  std::string msp_id_;
  crypto::Certificate ca_cert_;
  std::string peer_der_;
  std::string orderer_der_;
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const MemberIdentity>> cache_;
};

}  // namespace medledger::ledger::embedded
