#include "ledger/embedded/membership.h"

#include <mutex>

#include "pb/msp/identities.pb.h"

namespace medledger::ledger::embedded {

Membership::Membership(std::string msp_id, crypto::Certificate ca_cert, const crypto::Certificate& peer_cert,
                       const crypto::Certificate& orderer_cert)
    : msp_id_(std::move(msp_id)),
      ca_cert_(std::move(ca_cert)),
      peer_der_(peer_cert.ToDer()),
      orderer_der_(orderer_cert.ToDer()) {}

Result<std::shared_ptr<const MemberIdentity>> Membership::Resolve(std::string_view serialized) const {
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(std::string(serialized));
    if (it != cache_.end()) return it->second;
  }
  ML_ASSIGN_OR_RETURN(auto identity, Parse(serialized));
  std::unique_lock lock(mu_);
  // Only well-formed members are cached, so garbage creators cannot evict real ones; a full cache is
  // simply reset (identities are few: one per user).
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.emplace(std::string(serialized), identity);
  return identity;
}

Result<std::shared_ptr<const MemberIdentity>> Membership::Parse(std::string_view serialized) const {
  msp::SerializedIdentity sid;
  if (serialized.empty() || !sid.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return MakeError(ErrorKind::kPermissionDenied, "malformed_identity", "identity is not an msp.SerializedIdentity");
  }
  if (sid.mspid() != msp_id_) {
    return MakeError(ErrorKind::kPermissionDenied, "unknown_msp",
                     "identity belongs to MSP '" + sid.mspid() + "', not '" + msp_id_ + "'");
  }
  auto cert = crypto::Certificate::FromPem(sid.id_bytes());
  if (!cert.ok()) {
    return MakeError(ErrorKind::kPermissionDenied, "malformed_identity",
                     "identity certificate does not parse: " + cert.error().message);
  }
  if (!cert->IsIssuedBy(ca_cert_)) {
    return MakeError(ErrorKind::kPermissionDenied, "untrusted_certificate",
                     "identity certificate is not issued by the " + msp_id_ + " CA");
  }
  auto member = std::make_shared<MemberIdentity>(
      MemberIdentity{sid.mspid(), sid.id_bytes(), *cert, cert->PublicKey(), false, false});
  std::string der = cert->ToDer();
  member->is_endorser = der == peer_der_;
  member->is_orderer = der == orderer_der_;
  return std::shared_ptr<const MemberIdentity>(std::move(member));
}

}  // namespace medledger::ledger::embedded
