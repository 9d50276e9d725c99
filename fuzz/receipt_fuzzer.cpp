// libFuzzer: a receipt from outside (docs/RECEIPTS.md) through the whole offline verifier, against the trust
// directory of the worked example (docs/examples/trust), whose real receipt is the seed: mutations of a receipt
// that verifies reach every check behind the signatures. The verifier must answer with a report or
// "receipt_unusable", never crash, and its verdict must agree with its checks (ok exactly when none failed).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "verifier/receipt_verifier.h"

namespace {

using medledger::verifier::TrustSet;

const TrustSet& Trust() {
  static const TrustSet trust =
      medledger::verifier::LoadTrust(std::string(MEDLEDGER_SOURCE_DIR) + "/docs/examples/trust").value();
  return trust;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = medledger::verifier::VerifyReceipt(text, Trust(), {});
  if (!report.ok() && report.error().code != "receipt_unusable") __builtin_trap();
  if (report.ok() && report->checks.empty()) __builtin_trap();
  if (report.ok() && report->ok() != report->first_failure().empty()) __builtin_trap();
  return 0;
}
