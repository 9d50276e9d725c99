// `medledger verify` throughput (issue 18): VerifyDataDir over an existing data directory with 1 thread and
// with N, alternating rounds so both share the machine's load of the moment. Prints blocks/s, tx/s, the
// median of each and the speedup of N threads over 1. Make the chain first, e.g. with
// `ledger_bench --dir D --tx 50000 --levels 256` (bench/run_verify_bench.sh does both).
//
//   verify_bench DIR [--threads 1,2] [--rounds 3] [--chaincode records]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/embedded/data_dir.h"

namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU of the whole process: with N threads on a busy machine, wall time shows the neighbours'
// load, CPU time shows how much work the pass itself took.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: verify_bench DIR [--threads 1,2] [--rounds 3] [--chaincode records]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<size_t> threads = {1, 2};
  int rounds = 3;
  std::string chaincode = "records";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--threads") {
      threads.clear();
      std::stringstream ss(value);
      for (std::string t; std::getline(ss, t, ',');) threads.push_back(std::strtoul(t.c_str(), nullptr, 10));
    } else if (flag == "--rounds") {
      rounds = std::atoi(value.c_str());
    } else if (flag == "--chaincode") {
      chaincode = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::map<size_t, std::vector<double>> seconds;
  uint64_t blocks = 0, txs = 0;
  for (int r = 0; r < rounds; ++r) {
    // Alternate the order each round (1,2 then 2,1): neither setting always runs on a warmer cache.
    std::vector<size_t> order = threads;
    if (r % 2 == 1) std::reverse(order.begin(), order.end());
    for (size_t t : order) {
      medledger::ledger::embedded::VerifyOptions o;
      o.chaincode = chaincode;
      o.threads = t;
      const double cpu0 = CpuSeconds();
      auto t0 = Clock::now();
      auto report = medledger::ledger::embedded::VerifyDataDir(dir, o);
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      const double cpu = CpuSeconds() - cpu0;
      if (!report.ok()) {
        std::fprintf(stderr, "verify: %s\n", report.error().ToString().c_str());
        return 1;
      }
      if (!report->ok) {
        std::fprintf(stderr, "verify failed at block %llu: %s\n",
                     static_cast<unsigned long long>(report->bad_block.value_or(0)), report->problem.c_str());
        return 1;
      }
      blocks = report->blocks;
      txs = report->txs_valid + report->txs_invalid;
      seconds[t].push_back(s);
      std::printf(
          "round %d, %zu thread(s): %.3f s, %.0f blocks/s, %.0f tx/s, CPU %.2f s (calling thread: waiting %.2f s, "
          "state %.2f s, state db compare %.2f s)\n",
          r + 1, t, s, static_cast<double>(blocks) / s, static_cast<double>(txs) / s, cpu, report->timings.waiting,
          report->timings.state, report->timings.compare);
      std::fflush(stdout);
    }
  }
  std::printf("\n%llu blocks, %llu transactions; medians over %d rounds:\n", static_cast<unsigned long long>(blocks),
              static_cast<unsigned long long>(txs), rounds);
  const double base = Median(seconds[threads.front()]);
  for (size_t t : threads) {
    const double s = Median(seconds[t]);
    std::printf("  %zu thread(s): %.3f s, %.0f blocks/s, %.0f tx/s, speedup %.2fx\n", t, s,
                static_cast<double>(blocks) / s, static_cast<double>(txs) / s, base / s);
  }
  return 0;
}
