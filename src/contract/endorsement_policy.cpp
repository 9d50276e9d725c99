#include "contract/endorsement_policy.h"

#include <cstdint>

namespace medledger::contract {
namespace {

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A length-delimited field (wire type 2).
void Bytes(std::string& out, uint32_t field, std::string_view value) {
  Varint(out, (uint64_t{field} << 3) | 2);
  Varint(out, value.size());
  out.append(value);
}

// A varint field (wire type 0); proto3 omits zero values.
void Int(std::string& out, uint32_t field, uint64_t value) {
  if (value == 0) return;
  Varint(out, uint64_t{field} << 3);
  Varint(out, value);
}

constexpr uint64_t kMspRolePeer = 3;         // msp.MSPRole.MSPRoleType.PEER
constexpr uint64_t kClassificationRole = 0;  // msp.MSPPrincipal.Classification.ROLE

}  // namespace

std::string OrganizationPeerPolicy(std::string_view msp_id) {
  std::string role;  // msp.MSPRole{msp_identifier = 1, role = 2}
  Bytes(role, 1, msp_id);
  Int(role, 2, kMspRolePeer);
  std::string principal;  // msp.MSPPrincipal{principal_classification = 1, principal = 2}
  Int(principal, 1, kClassificationRole);
  Bytes(principal, 2, role);

  std::string signed_by_first;  // common.SignaturePolicy{signed_by = 1: 0}; a oneof member is written even if 0
  Varint(signed_by_first, uint64_t{1} << 3);
  Varint(signed_by_first, 0);
  std::string n_out_of;  // SignaturePolicy.NOutOf{n = 1, rules = 2}
  Int(n_out_of, 1, 1);
  Bytes(n_out_of, 2, signed_by_first);
  std::string rule;  // common.SignaturePolicy{n_out_of = 2}
  Bytes(rule, 2, n_out_of);

  std::string envelope;  // common.SignaturePolicyEnvelope{version = 1 (0), rule = 2, identities = 3}
  Bytes(envelope, 2, rule);
  Bytes(envelope, 3, principal);
  return envelope;
}

}  // namespace medledger::contract
