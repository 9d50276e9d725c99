// Who is calling the contract: derived only from the creator certificate of the signed proposal.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "common/role.h"
#include "contract/stub.h"

namespace medledger::contract {

using medledger::Role;  // common/role.h: the service role anchors log checkpoints and records key releases only
using medledger::RoleName;

struct ClientIdentity {
  std::string id;  // "<mspId>/<CN>", the stable caller ID used on the ledger
  std::string msp_id;
  std::string name;  // the certificate's CN (the username)
  Role role = Role::kPatient;
};

// Parses creators into identities. Parsing an X.509 certificate costs tens of microseconds, and the same
// few certificates sign most transactions, so results are memoized. The result is a pure function of the
// certificate bytes, so the cache cannot make the contract non-deterministic.
class IdentityResolver {
 public:
  Result<ClientIdentity> Resolve(const Creator& creator);

 private:
  static constexpr size_t kMaxEntries = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, ClientIdentity> cache_;  // key: msp_id + '\0' + cert PEM
};

}  // namespace medledger::contract
