// Transparency-log micro-benchmark: TreeStore append + commit throughput, and inclusion / consistency proof
// generation and verification at a given tree size, with the proof sizes (which depend only on the sizes).
// Usage: tlog_bench [leaves] [dir|-] [leaves per commit]   (default 1000000 leaves, a fresh directory under /tmp
// removed after ("-"), a commit every 500 leaves).
// CPU times are the calling thread's, so a loaded machine changes them less than wall-clock times.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tlog/merkle.h"
#include "tlog/tree_store.h"

namespace {

using namespace medledger::tlog;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

double ThreadCpuMicros() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// A leaf the size of the report log's (a canonical JSON object of ~420 bytes).
std::string Leaf(uint64_t i) {
  std::string s = "{\"blockNumber\":" + std::to_string(i / 50) + ",\"index\":" + std::to_string(i) + "}";
  s.resize(420, 'x');
  return s;
}

[[noreturn]] void Die(const char* what, const medledger::Error& e) {
  std::fprintf(stderr, "tlog_bench: %s: %s\n", what, e.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const bool temp = argc <= 2 || std::string(argv[2]) == "-";
  const std::filesystem::path dir =
      temp ? std::filesystem::temp_directory_path() / ("tlog-bench-" + std::to_string(::getpid())) : argv[2];
  {
    auto opened = TreeStore::Open(dir);
    if (!opened.ok()) Die("open", opened.error());
    auto& store = *opened;
    const auto wall0 = Clock::now();
    const double cpu0 = ThreadCpuMicros();
    const uint64_t kBatch = argc > 3 ? std::max<uint64_t>(1, std::strtoull(argv[3], nullptr, 10)) : 500;
    for (uint64_t i = store->Size(); i < n; ++i) {
      if (auto s = store->Append(Leaf(i)); !s.ok()) Die("append", s.error());
      if ((i + 1) % kBatch == 0 || i + 1 == n) {
        if (auto s = store->Commit(i); !s.ok()) Die("commit", s.error());
      }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - wall0).count();
    const double cpu = (ThreadCpuMicros() - cpu0) / 1e6;
    std::printf("append+commit (fsync every %llu leaves): %llu leaves in %.2f s wall, %.2f s CPU: %.0f leaves/s wall\n",
                static_cast<unsigned long long>(kBatch), static_cast<unsigned long long>(n), wall, cpu,
                static_cast<double>(n) / wall);

    const std::string root = store->RootHash(n).value();
    std::mt19937_64 rng(1);
    constexpr int kProofs = 2000;
    size_t incl_hashes = 0;
    double gen = 0;
    double ver = 0;
    for (int k = 0; k < kProofs; ++k) {
      const uint64_t index = rng() % n;
      double t0 = ThreadCpuMicros();
      auto proof = store->InclusionProof(index, n);
      gen += ThreadCpuMicros() - t0;
      if (!proof.ok()) Die("inclusion proof", proof.error());
      incl_hashes = std::max(incl_hashes, proof->size());
      t0 = ThreadCpuMicros();
      if (auto s = VerifyInclusion(LeafHash(Leaf(index)), index, n, *proof, root); !s.ok()) Die("verify", s.error());
      ver += ThreadCpuMicros() - t0;
    }
    std::printf(
        "inclusion proof at %llu leaves: at most %zu hashes (%zu bytes); generate %.1f us CPU, verify %.1f us "
        "CPU (mean of %d)\n",
        static_cast<unsigned long long>(n), incl_hashes, incl_hashes * kHashSize, gen / kProofs, ver / kProofs,
        kProofs);
    size_t cons_hashes = 0;
    gen = 0;
    ver = 0;
    for (int k = 0; k < kProofs / 10; ++k) {
      const uint64_t m = 1 + rng() % n;
      double t0 = ThreadCpuMicros();
      auto proof = store->ConsistencyProof(m, n);
      const std::string old_root = store->RootHash(m).value();
      gen += ThreadCpuMicros() - t0;
      if (!proof.ok()) Die("consistency proof", proof.error());
      cons_hashes = std::max(cons_hashes, proof->size());
      t0 = ThreadCpuMicros();
      if (auto s = VerifyConsistency(m, n, old_root, root, *proof); !s.ok()) Die("verify", s.error());
      ver += ThreadCpuMicros() - t0;
    }
    std::printf(
        "consistency proof to %llu leaves: at most %zu hashes (%zu bytes); generate (with the old root) %.1f "
        "us CPU, verify %.1f us CPU (mean of %d)\n",
        static_cast<unsigned long long>(n), cons_hashes, cons_hashes * kHashSize, gen / (kProofs / 10),
        ver / (kProofs / 10), kProofs / 10);
    const double t0 = ThreadCpuMicros();
    auto tile = store->Tile(0, (n / 2) / kTileWidth, kTileWidth);
    if (!tile.ok()) Die("tile", tile.error());
    std::printf("full level-0 tile read: %.1f us CPU\n", ThreadCpuMicros() - t0);
  }
  if (temp) std::filesystem::remove_all(dir);
  return 0;
}
