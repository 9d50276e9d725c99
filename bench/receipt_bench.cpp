// `medledger receipt verify`'s core on one core: how many receipts a court's expert or an insurer can check per
// second, and the latency of one (p50/p99), on the real receipt of docs/examples (one creator and one endorser
// signature, the orderer's, the log key's, one cosignature, an RFC 3161 token, a 3-hash inclusion proof).
// Usage: receipt_bench [iterations] [receipt.json trust-dir]   (default 2000, docs/examples).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "verifier/receipt_verifier.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2000;
  const std::string examples = std::string(MEDLEDGER_SOURCE_DIR) + "/docs/examples";
  const std::string receipt = Read(argc > 3 ? argv[2] : examples + "/receipt.json");
  auto trust = medledger::verifier::LoadTrust(argc > 3 ? argv[3] : examples + "/trust");
  if (!trust.ok()) {
    std::fprintf(stderr, "receipt_bench: %s\n", trust.error().ToString().c_str());
    return 1;
  }
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(n));
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    auto report = medledger::verifier::VerifyReceipt(receipt, *trust, {});
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!report.ok() || !report->ok()) {
      std::fprintf(stderr, "receipt_bench: the receipt does not verify\n");
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros[std::min(micros.size() - 1, static_cast<size_t>(p * micros.size()))]; };
  std::printf("receipts verified: %d in %.2f s on one thread: %.0f receipts/s; latency p50 %.0f us, p99 %.0f us\n", n,
              seconds, n / seconds, pct(0.50), pct(0.99));
  return 0;
}
