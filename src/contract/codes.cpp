// Closed codes: the only words from a caller that the contract stores. Free text (reasons, purposes) lives in
// sealed, erasable content; the ledger keeps a code from a fixed list and at most the CID of the sealed note.
#include <algorithm>

#include "contract/records_support.h"

namespace medledger::contract::records {

Result<std::string> Code(const Args& a, std::string_view name, std::span<const std::string_view> allowed) {
  ML_ASSIGN_OR_RETURN(std::string value, a.String(name, 64, Pattern::kId));
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (std::string_view c : allowed) list += (list.empty() ? "" : ", ") + std::string(c);
    return Invalid("invalid_code", "\"" + std::string(name) + "\" must be one of: " + list);
  }
  return value;
}

}  // namespace medledger::contract::records
