// Content benchmark: UnixFS add throughput into the embedded store (CIDv1, 4 KiB / 1 MiB / 200 MiB), CID
// computation alone (1 and 2 hashing threads), and sealed 4 KiB reports per second through ReportVault.
// Usage: content_bench [dir] (default: a fresh directory under /tmp, removed after). Figures: docs/BENCHMARKS.md.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "content/embedded_store.h"
#include "content/importer.h"
#include "content/keystore.h"
#include "content/report_vault.h"
#include "crypto/random.h"

namespace {

using namespace medledger;
using namespace medledger::content;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Distinct inputs per iteration: the store skips blocks it already has, which would flatter the figures.
void BenchAdd(const fs::path& dir, bool sync, size_t size, size_t iterations) {
  EmbeddedStoreOptions o;
  o.sync = sync;
  auto store = EmbeddedStore::Open(dir / (std::to_string(size) + (sync ? "-sync" : "-nosync")), o).value();
  std::vector<std::string> inputs;
  for (size_t i = 0; i < iterations; ++i) inputs.push_back(crypto::RandomBytes(size));
  auto start = Clock::now();
  for (const auto& in : inputs) {
    auto r = store->Add(in, {});
    if (!r.ok()) {
      std::fprintf(stderr, "add failed: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
  }
  double s = Seconds(Clock::now() - start);
  double mb = static_cast<double>(size * iterations) / 1e6;
  std::printf("add %-9s %-7s %6zu x: %9.1f MB/s  %10.0f adds/s\n",
              size >= (1u << 20) ? (std::to_string(size >> 20) + " MiB").c_str() : (std::to_string(size >> 10) + " KiB").c_str(),
              sync ? "fsync" : "no-sync", iterations, mb / s, static_cast<double>(iterations) / s);
}

void BenchCid(size_t size, unsigned threads) {
  std::string bytes = crypto::RandomBytes(size);
  ImportOptions o = ImportOptions::Ipfs(1);
  o.threads = threads;
  auto start = Clock::now();
  auto cid = ComputeCid(bytes, o);
  double s = Seconds(Clock::now() - start);
  std::printf("cid only  %zu MiB, %u thread(s): %9.1f MB/s  (%s)\n", size >> 20, threads,
              static_cast<double>(size) / 1e6 / s, cid->ToString().substr(0, 16).c_str());
}

void BenchSeal(const fs::path& dir, bool sync, size_t reports) {
  EmbeddedStoreOptions o;
  o.sync = sync;
  auto store = EmbeddedStore::Open(dir / (sync ? "vault-sync" : "vault-nosync"), o).value();
  MemoryKeystore keys;
  ReportVault vault(*store, keys);
  std::string doc = crypto::RandomBytes(4096);
  auto start = Clock::now();
  for (size_t i = 0; i < reports; ++i) {
    auto r = vault.Put("report-" + std::to_string(i), "patient-" + std::to_string(i % 100), doc);
    if (!r.ok()) {
      std::fprintf(stderr, "seal failed: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
  }
  double s = Seconds(Clock::now() - start);
  std::printf("seal+add 4 KiB reports, %-7s: %10.0f reports/s\n", sync ? "fsync" : "no-sync",
              static_cast<double>(reports) / s);
}

}  // namespace

int main(int argc, char** argv) {
  bool own = argc < 2;
  fs::path dir = own ? fs::temp_directory_path() / ("content-bench-" + crypto::RandomHex(6)) : fs::path(argv[1]);
  fs::create_directories(dir);
  BenchCid(size_t{200} << 20, 1);
  BenchCid(size_t{200} << 20, 2);
  for (bool sync : {false, true}) {
    BenchAdd(dir, sync, 4096, sync ? 500 : 20000);
    BenchAdd(dir, sync, size_t{1} << 20, sync ? 50 : 200);
    BenchAdd(dir, sync, size_t{200} << 20, 2);
  }
  BenchSeal(dir, false, 50000);
  BenchSeal(dir, true, 500);
  if (own) fs::remove_all(dir);
  return 0;
}
