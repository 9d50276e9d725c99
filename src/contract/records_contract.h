// The `records` contract: patients, reports (versioned), consent, emergency access and the access audit
// trail. Deterministic: it reads only its arguments, the ledger state and the transaction's creator and
// timestamp. Functions, arguments, roles and errors are listed in docs/CONTRACT.md.
#pragma once

#include <array>
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

// Why an administrator erased a report (EraseReport's reasonCode); the server checks requests against the same
// list before it submits.
inline constexpr std::array<std::string_view, 4> kErasureReasons = {"patient_request", "legal_order",
                                                                    "retention_expired", "entered_in_error"};

// One instance serves every transaction and may be invoked from several threads at once; it holds only a
// bounded memo of parsed creator certificates (a pure function of their bytes).
std::unique_ptr<Contract> NewRecordsContract();

}  // namespace medledger::contract
