// The `records` contract: patients, reports (versioned), consent, emergency access and the access audit
// trail. Deterministic: it reads only its arguments, the ledger state and the transaction's creator and
// timestamp. Functions, arguments, roles and errors are listed in docs/CONTRACT.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "contract/stub.h"

namespace medledger::contract {

// The chaincode name, and so the state namespace, of the records contract.
inline constexpr std::string_view kRecordsNamespace = "records";
inline constexpr std::string_view kRecordsContractName = kRecordsNamespace;

// Listing pages: the contract refuses larger pageSize values, and the HTTP API validates against the same
// constants (it includes this header), so the two can never disagree on the range.
inline constexpr uint32_t kMinPageSize = 1;
inline constexpr uint32_t kMaxPageSize = 100;
inline constexpr uint32_t kDefaultPageSize = 20;

// One instance serves every transaction and may be invoked from several threads at once; it holds only a
// bounded memo of parsed creator certificates (a pure function of their bytes).
std::unique_ptr<Contract> NewRecordsContract();

}  // namespace medledger::contract
