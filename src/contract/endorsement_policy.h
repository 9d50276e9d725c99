// Key-level (state-based) endorsement policies, serialized as Fabric's `common.SignaturePolicyEnvelope`. The
// contract sets them on a report's keys so that only a transaction its author's organisation endorsed can change
// them (docs/CONSORTIUM.md). Encoded here by hand because the contract depends on nothing but its stub; the
// tests decode the bytes with the generated protobuf classes.
#pragma once

#include <string>
#include <string_view>

namespace medledger::contract {

// The stub's metadata key for a key-level policy, as Fabric's shim (`VALIDATION_PARAMETER`).
inline constexpr std::string_view kValidationParameter = "VALIDATION_PARAMETER";

// "OutOf(1, '<msp_id>.peer')": one signature of a peer of that organisation.
std::string OrganizationPeerPolicy(std::string_view msp_id);

}  // namespace medledger::contract
