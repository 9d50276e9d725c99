// Content benchmark: UnixFS add throughput (CIDv1, 4 KiB / 1 MiB / 200 MiB inputs) and sealed 4 KiB reports per
// second through ReportVault, with p50/p99 latency per operation, and CID computation alone (1 and 2 hashing
// threads). The same workloads run against the embedded store (with and without fsync) and, with --kubo URL,
// against an IPFS node's Kubo RPC API through KuboStore (bench/run_content_side_by_side.sh starts a js-ipfs
// daemon for that). Figures: docs/BENCHMARKS.md, "Content".
//
// Usage: content_bench [--dir D] [--kubo URL] [--threads N] [--only W] [--store M] [--quick]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "content/embedded_store.h"
#include "content/importer.h"
#include "content/keystore.h"
#include "content/kubo_store.h"
#include "content/report_vault.h"
#include "crypto/random.h"

namespace {

using namespace medledger;
using namespace medledger::content;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Stats {
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Runs op(i) for i in [0, n) on `threads` threads; latency of each call, wall time of the whole.
Stats Run(size_t n, unsigned threads, const std::function<void(size_t)>& op) {
  std::vector<double> lat(n);
  std::atomic<size_t> next{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        auto t0 = Clock::now();
        op(i);
        lat[i] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      }
    });
  }
  for (auto& th : pool) th.join();
  Stats s;
  s.seconds = Seconds(Clock::now() - start);
  std::sort(lat.begin(), lat.end());
  s.p50_ms = lat[n / 2];
  s.p99_ms = lat[std::min(n - 1, n * 99 / 100)];
  return s;
}

std::string SizeName(size_t size) {
  return size >= (1u << 20) ? std::to_string(size >> 20) + " MiB" : std::to_string(size >> 10) + " KiB";
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", what, s.error().ToString().c_str());
    std::exit(1);
  }
}

// Distinct inputs per iteration: stores skip blocks they already have, which would flatter the figures.
void BenchAdd(ContentStore& store, const char* label, size_t size, size_t iterations, unsigned threads) {
  std::vector<std::string> inputs;
  for (size_t i = 0; i < iterations; ++i) inputs.push_back(crypto::RandomBytes(size));
  Stats s = Run(iterations, threads, [&](size_t i) {
    auto r = store.Add(inputs[i], {});
    Check(r.ok() ? OkStatus() : Status(r.error()), "add");
  });
  const double mb = static_cast<double>(size * iterations) / 1e6;
  std::printf("%-16s add %-8s x%-6zu %u thr: %8.1f MB/s %9.1f adds/s  p50 %8.2f ms  p99 %8.2f ms\n", label,
              SizeName(size).c_str(), iterations, threads, mb / s.seconds, iterations / s.seconds, s.p50_ms, s.p99_ms);
  std::fflush(stdout);
}

void BenchSeal(ContentStore& store, const char* label, size_t reports, unsigned threads) {
  MemoryKeystore keys;
  ReportVault vault(store, keys);
  const std::string doc = crypto::RandomBytes(4096);
  const std::string run = crypto::RandomHex(4);  // report ids unique across runs against a persistent node
  Stats s = Run(reports, threads, [&](size_t i) {
    auto r = vault.Put("report-" + run + "-" + std::to_string(i), "patient-" + std::to_string(i % 100), doc);
    Check(r.ok() ? OkStatus() : Status(r.error()), "seal");
  });
  std::printf("%-16s seal+add 4 KiB reports x%-6zu %u thr: %9.0f reports/s  p50 %8.3f ms  p99 %8.3f ms\n", label,
              reports, threads, reports / s.seconds, s.p50_ms, s.p99_ms);
  std::fflush(stdout);
}

void BenchCid(size_t size, unsigned threads) {
  std::string bytes = crypto::RandomBytes(size);
  ImportOptions o = ImportOptions::Ipfs(1);
  o.threads = threads;
  auto start = Clock::now();
  auto cid = ComputeCid(bytes, o);
  double s = Seconds(Clock::now() - start);
  std::printf("cid only %s, %u hashing thread(s): %8.1f MB/s (%s...)\n", SizeName(size).c_str(), threads,
              static_cast<double>(size) / 1e6 / s, cid->ToString().substr(0, 16).c_str());
}

void Usage() {
  std::fprintf(stderr,
               "usage: content_bench [--dir D] [--kubo URL] [--threads N] [--only W] [--store M] [--quick]\n"
               "  --dir D      where the embedded stores go (default: a fresh directory under /tmp, removed after)\n"
               "  --kubo URL   also run the workloads against this IPFS node's RPC API (e.g. http://127.0.0.1:5001)\n"
               "  --kubo-only  skip the embedded store\n"
               "  --threads N  concurrent callers for the small-input workloads (default 2, this machine's cores)\n"
               "  --quick      fewer iterations (a smoke run)\n"
               "  --only W     one workload: cid, small (4 KiB and 1 MiB adds), large (200 MiB adds) or seal\n"
               "  --store M    one embedded store mode: nosync or sync (fsync before each add returns)\n");
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir;
  std::string kubo;
  bool kubo_only = false;
  bool quick = false;
  unsigned threads = 2;
  std::string only;        // cid | small | large | seal: one workload (for profiling)
  std::string store_mode;  // nosync | sync: one embedded store mode (for profiling)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dir") {
      dir = next();
    } else if (a == "--kubo") {
      kubo = next();
    } else if (a == "--kubo-only") {
      kubo_only = true;
    } else if (a == "--threads") {
      threads = static_cast<unsigned>(std::max(1, std::atoi(next().c_str())));
    } else if (a == "--only") {
      only = next();
    } else if (a == "--store") {
      store_mode = next();
    } else if (a == "--quick") {
      quick = true;
    } else {
      Usage();
      return 2;
    }
  }
  const bool own = dir.empty();
  if (own) dir = fs::temp_directory_path() / ("content-bench-" + crypto::RandomHex(6));
  fs::create_directories(dir);
  const size_t small = quick ? 2000 : 20000;
  const size_t big = quick ? 1 : 3;

  if (!kubo_only) {
    auto want = [&only](const char* w) { return only.empty() || only == w; };
    if (want("cid")) {
      BenchCid(size_t{200} << 20, 1);
      BenchCid(size_t{200} << 20, 2);
    }
    for (bool sync : {false, true}) {
      if (!store_mode.empty() && store_mode != (sync ? "sync" : "nosync")) continue;
      EmbeddedStoreOptions o;
      o.sync = sync;
      auto store = EmbeddedStore::Open(dir / (sync ? "sync" : "nosync"), o).value();
      const char* label = sync ? "embedded fsync" : "embedded no-sync";
      if (want("small")) BenchAdd(*store, label, 4096, sync ? small / 20 : small, threads);
      if (want("small")) BenchAdd(*store, label, size_t{1} << 20, sync ? 50 : 200, threads);
      if (want("large")) BenchAdd(*store, label, size_t{200} << 20, big, 1);
      if (want("seal")) BenchSeal(*store, label, sync ? small / 20 : small, threads);
    }
  }
  if (!kubo.empty()) {
    KuboOptions ko;
    ko.url = kubo;
    ko.request_timeout = std::chrono::minutes(5);
    auto store = KuboStore::Create(ko);
    if (!store.ok()) {
      std::fprintf(stderr, "kubo: %s\n", store.error().ToString().c_str());
      return 1;
    }
    // Fewer small adds: a node answers hundreds, not thousands, per second.
    BenchAdd(**store, "ipfs node (RPC)", 4096, small / 10, threads);
    BenchAdd(**store, "ipfs node (RPC)", size_t{1} << 20, 50, threads);
    BenchAdd(**store, "ipfs node (RPC)", size_t{200} << 20, big, 1);
    BenchSeal(**store, "ipfs node (RPC)", small / 10, threads);
  }
  if (own) fs::remove_all(dir);
  return 0;
}
