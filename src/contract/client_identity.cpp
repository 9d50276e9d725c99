#include "contract/client_identity.h"

#include "contract/args.h"
#include "crypto/x509.h"

namespace medledger::contract {

Result<ClientIdentity> IdentityResolver::Resolve(const Creator& creator) {
  auto denied = [](const std::string& why) {
    return MakeError(ErrorKind::kPermissionDenied, "permission_denied", why);
  };
  // Checked before the cache so that the cache key (msp '\0' pem) is unambiguous.
  if (!MatchesPattern(creator.msp_id, Pattern::kId)) return denied("the creator has no valid MSP ID");
  std::string key = creator.msp_id;
  key += '\0';
  key += creator.cert_pem;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  if (creator.cert_pem.empty()) return denied("the transaction has no creator certificate");
  auto cert = crypto::Certificate::FromPem(creator.cert_pem);
  if (!cert.ok()) return denied("the creator certificate does not parse");
  auto attrs = cert->FabricAttributes();
  if (!attrs.ok()) return denied("the creator certificate's attributes do not parse");
  auto role_it = attrs->find("role");
  if (role_it == attrs->end()) return denied("the creator certificate carries no role attribute");
  ClientIdentity id;
  auto role = RoleFromName(role_it->second);
  if (!role) return denied("the creator's role is none of admin, doctor, patient, auditor, service");
  id.role = *role;
  id.name = cert->SubjectCommonName();
  // The CN becomes part of ledger keys and caller IDs, so it must be a plain identifier.
  id.id = creator.msp_id + "/" + id.name;
  if (!MatchesPattern(id.id, Pattern::kCallerId)) {
    return denied("the creator certificate's common name is not a valid user name");
  }
  id.msp_id = creator.msp_id;
  std::lock_guard lock(mu_);
  // Dropping everything at the bound keeps the code trivial; a working set larger than the bound only
  // costs re-parsing, never correctness.
  if (cache_.size() >= kMaxEntries) cache_.clear();
  cache_.emplace(std::move(key), id);
  return id;
}

}  // namespace medledger::contract
