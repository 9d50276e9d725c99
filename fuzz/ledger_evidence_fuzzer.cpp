// libFuzzer: VerifyLedgerEvidence (src/receipt/ledger_evidence.cpp), the offline check of a receipt's
// `ledger` object, over evidence from outside: the envelope, block header, orderer signature, metadata
// value, the claims and the listed certificates are all attacker-chosen; the trust is the fixed CA of
// test_identities.h, whose members sign the seeds (seedgen cuts them from a real embedded ledger), so the
// signature and chain checks are reached. Input: fields, each a 4-byte big-endian length then its bytes:
//   channel, tx_id, block number (8 bytes big-endian), envelope, block header, block signature,
//   metadata value, then zero or more certificate PEMs.
// An input starting with '{' is instead the receipt's `ledger` JSON object: ParseStrictJson, then
// LedgerEvidenceFromJson, then the same checks (a binary input starts with a length byte far below '{').
// Nothing may crash or leak; evidence that verifies must verify again with the same result, and must name
// the claimed transaction.
// A mutated envelope fails its creator or endorsement signature before the checks behind them, so for an odd
// claimed block number the harness re-signs the envelope with the fixed peer's and alice's keys first
// (fuzz/envelope_resign.h), which takes mutations on to the proposal hash, response, event and block checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_strict.h"
#include "crypto/ecdsa.h"
#include "envelope_resign.h"
#include "receipt/ledger_evidence.h"
#include "test_identities.h"

namespace {

using medledger::receipt::LedgerEvidence;

bool Next(std::string_view* in, std::string* out) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  const size_t n = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
  if (in->size() - 4 < n) return false;
  out->assign(in->substr(4, n));
  in->remove_prefix(4 + n);
  return true;
}

bool ParseBinary(std::string_view in, LedgerEvidence* ev) {
  std::string number;
  if (!Next(&in, &ev->channel) || !Next(&in, &ev->tx_id) || !Next(&in, &number) || number.size() != 8 ||
      !Next(&in, &ev->envelope) || !Next(&in, &ev->block_header) || !Next(&in, &ev->block_signature) ||
      !Next(&in, &ev->block_metadata_value)) {
    return false;
  }
  for (unsigned char c : number) ev->block_number = (ev->block_number << 8) | c;
  std::string pem;
  while (ev->certificate_pems.size() <= medledger::receipt::kMaxCertificates && Next(&in, &pem)) {
    ev->certificate_pems.push_back(pem);
  }
  return true;
}

bool ParseJson(std::string_view in, LedgerEvidence* ev) {
  auto json = medledger::ParseStrictJson(in);
  if (!json.ok()) return false;
  auto parsed = medledger::receipt::LedgerEvidenceFromJson(*json);
  if (!parsed.ok()) return false;
  *ev = std::move(parsed).value();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::receipt;
  static const LedgerTrust trust = LedgerTrust::FromPem(medledger::fuzz::kCaCertPem, "Org1MSP").value();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  LedgerEvidence ev;
  if (!(!in.empty() && in[0] == '{' ? ParseJson(in, &ev) : ParseBinary(in, &ev))) return 0;
  if (ev.block_number % 2 == 1) {
    static const auto peer = medledger::crypto::EcPrivateKey::FromPem(medledger::fuzz::kPeerKeyPem).value();
    static const auto alice = medledger::crypto::EcPrivateKey::FromPem(medledger::fuzz::kAliceKeyPem).value();
    ev.envelope = medledger::fuzz::ResignEnvelope(ev.envelope, peer, alice);
  }
  auto first = VerifyLedgerEvidence(ev, trust);
  if (first.ok()) {
    auto again = VerifyLedgerEvidence(ev, trust);
    if (!again.ok() || again->tx_id != first->tx_id || first->tx_id != ev.tx_id ||
        first->block_number != ev.block_number || first->channel != ev.channel) {
      std::abort();
    }
  }
  return 0;
}
