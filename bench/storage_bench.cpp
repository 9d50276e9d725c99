// Ledger storage micro-benchmark: block append + fsync, block reads, StateDb::ApplyBlock of 500-tx blocks,
// and StateDb::Get latency. Usage: storage_bench [dir] (default: a fresh directory under /tmp, removed after).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/crc32c.h"
#include "ledger/storage/state_db.h"

namespace {

using namespace medledger;
using namespace medledger::ledger;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// CPU time of the calling thread: on a shared, loaded machine it says what an operation costs where
// wall-clock latency also measures the neighbours.
double ThreadCpuMicros() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Stats {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  if (v.empty()) return s;
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  s.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

[[noreturn]] void Die(const Error& e) {
  std::fprintf(stderr, "error: %s\n", e.ToString().c_str());
  std::exit(1);
}

void BenchCrc() {
  std::mt19937_64 rng(1);
  const std::string data = RandomBytes(rng, 1 << 20);
  uint32_t sink = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < 200; ++i) sink += storage::crc32c::Value(data);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("crc32c (%s): %.0f MB/s (sink %08x)\n", storage::crc32c::HardwareAvailable() ? "sse4.2" : "portable",
              200.0 / secs, sink);
}

void BenchBlocks(const std::string& dir, size_t block_bytes, int count) {
  auto store = storage::BlockStore::Open(dir);
  if (!store.ok()) Die(store.error());
  std::mt19937_64 rng(2);
  const std::string payload = RandomBytes(rng, block_bytes);
  std::vector<double> lat;
  double cpu = 0;
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    const double c0 = ThreadCpuMicros();
    if (Status s = (*store)->Append((*store)->Height(), payload); !s.ok()) Die(s.error());
    cpu += ThreadCpuMicros() - c0;
    lat.push_back(Micros(Clock::now() - t0));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const Stats s = Summarize(lat);
  std::printf(
      "append+fsync %zu KiB x %d: p50 %.0f us, p99 %.0f us, max %.0f us; %.0f blocks/s, %.1f MB/s; CPU %.0f us/block\n",
      block_bytes >> 10, count, s.p50, s.p99, s.max, count / secs, count * double(block_bytes) / secs / 1e6,
      cpu / count);

  std::vector<double> reads;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t n = rng() % (*store)->Height();
    const auto t0 = Clock::now();
    auto r = (*store)->Read(n);
    if (!r.ok()) Die(r.error());
    reads.push_back(Micros(Clock::now() - t0));
  }
  const Stats r = Summarize(reads);
  std::printf("read %zu KiB (page cache, crc checked): p50 %.1f us, p99 %.1f us\n", block_bytes >> 10, r.p50, r.p99);

  store->reset();
  const auto t0 = Clock::now();
  auto reopened = storage::BlockStore::Open(dir);
  if (!reopened.ok()) Die(reopened.error());
  std::printf("reopen (scan %llu blocks): %.1f ms\n", static_cast<unsigned long long>((*reopened)->Height()),
              Micros(Clock::now() - t0) / 1000);
}

// Open of a long chain: records are written straight into block files (the documented format) to build
// the chain quickly, then the store is opened twice: the first Open scans headers and writes sidecar
// indexes for the sealed files, the second uses them.
void BenchOpen(const std::string& dir, uint64_t blocks, size_t block_bytes) {
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(4);
  const std::string payload = RandomBytes(rng, block_bytes);
  std::string record;
  PutFixed32(&record, storage::kBlockRecordMagic);
  PutFixed32(&record, static_cast<uint32_t>(payload.size()));
  PutFixed32(&record, storage::crc32c::Value(payload));
  record += payload;
  const uint64_t per_file = (64ull << 20) / record.size();
  for (uint64_t written = 0, file = 0; written < blocks; ++file) {
    std::FILE* f = std::fopen((dir + "/" + storage::BlockFileName(static_cast<uint32_t>(file))).c_str(), "wb");
    if (f == nullptr) std::exit(1);
    for (uint64_t i = 0; i < per_file && written < blocks; ++i, ++written)
      std::fwrite(record.data(), 1, record.size(), f);
    std::fclose(f);
  }
  for (const char* pass : {"header scan", "sidecar indexes"}) {
    const auto t0 = Clock::now();
    auto store = storage::BlockStore::Open(dir);
    if (!store.ok()) Die(store.error());
    std::printf("open %llu blocks of %zu KiB (%s): %.1f ms\n", static_cast<unsigned long long>((*store)->Height()),
                block_bytes >> 10, pass, Micros(Clock::now() - t0) / 1000);
  }
}

// Shaped like the records contract's CreateReport: the report version and its head (the same ~600-byte
// JSON twice), the patient -> report index, and the audit event under two keys (~300 bytes each); all
// composite keys (NUL-separated), 5 writes per transaction.
storage::BlockUpdate ReportBlock(uint64_t number, uint32_t txs, std::mt19937_64& rng) {
  storage::BlockUpdate u{number, {}};
  for (uint32_t t = 0; t < txs; ++t) {
    storage::TxUpdate tx;
    tx.tx_index = t;
    const std::string id = std::to_string(number) + "." + std::to_string(t);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) tx.tx_id.push_back(kHex[rng() % 16]);  // like a SHA-256 in hex
    tx.timestamp = Timestamp{1700000000 + static_cast<int64_t>(number), 0};
    const std::string patient = "p" + std::to_string(rng() % 10000);
    const std::string record = RandomBytes(rng, 600);
    const std::string event = RandomBytes(rng, 300);
    const std::string time_key = std::to_string(1700000000 + number) + "." + std::to_string(t);
    tx.writes.push_back({"records", "report~" + id, record});
    tx.writes.push_back({"records", std::string("\0report~version\0", 16) + id + std::string("\0001\0", 3), record});
    tx.writes.push_back({"records", std::string("\0patient~report\0", 16) + patient + '\0' + id + '\0', id});
    tx.writes.push_back({"records", std::string("\0event\0", 7) + time_key + '\0' + tx.tx_id + '\0', event});
    tx.writes.push_back(
        {"records", std::string("\0patient~event\0", 15) + patient + '\0' + time_key + '\0' + tx.tx_id + '\0', event});
    u.txs.push_back(std::move(tx));
  }
  return u;
}

void BenchState(const std::string& dir, int blocks, uint32_t txs_per_block, const storage::StateDbOptions& options) {
  auto db = storage::StateDb::Open(dir, options);
  if (!db.ok()) Die(db.error());
  std::mt19937_64 rng(3);
  std::vector<storage::BlockUpdate> updates;
  for (int b = 0; b < blocks; ++b) updates.push_back(ReportBlock(static_cast<uint64_t>(b), txs_per_block, rng));
  std::vector<double> lat;
  double cpu = 0;
  const auto start = Clock::now();
  for (const auto& u : updates) {
    const auto t0 = Clock::now();
    const double c0 = ThreadCpuMicros();
    if (Status s = (*db)->ApplyBlock(u); !s.ok()) Die(s.error());
    cpu += ThreadCpuMicros() - c0;
    lat.push_back(Micros(Clock::now() - t0) / 1000);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const Stats s = Summarize(lat);
  std::printf(
      "ApplyBlock %u tx x %d blocks: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f tx/s; caller CPU %.2f ms/block "
      "(%.1f us/tx)\n",
      txs_per_block, blocks, s.p50, s.p99, s.max, blocks * double(txs_per_block) / secs, cpu / blocks / 1000,
      cpu / blocks / txs_per_block);

  for (int threads : {1, 2}) {
    for (bool hit : {true, false}) {
      constexpr int kOps = 200000;
      std::vector<std::thread> pool;
      std::vector<std::vector<double>> lats(threads);
      const auto t0 = Clock::now();
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          std::mt19937_64 r(100 + t);
          lats[t].reserve(kOps / threads);
          for (int i = 0; i < kOps / threads; ++i) {
            const uint64_t b = r() % blocks, tx = r() % txs_per_block;
            const std::string key = (hit ? "report~" : "missing~") + std::to_string(b) + "." + std::to_string(tx);
            const auto g0 = Clock::now();
            auto v = (*db)->Get("records", key);
            lats[t].push_back(Micros(Clock::now() - g0));
            if (!v.ok() || v->has_value() != hit) std::abort();
          }
        });
      }
      for (auto& th : pool) th.join();
      const double gsecs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::vector<double> all;
      for (auto& l : lats) all.insert(all.end(), l.begin(), l.end());
      const Stats g = Summarize(all);
      std::printf("Get (%s, %d thread%s): p50 %.1f us, p99 %.1f us; %.0f gets/s\n", hit ? "present" : "absent", threads,
                  threads > 1 ? "s" : "", g.p50, g.p99, kOps / gsecs);
    }
  }
  std::vector<double> hist;
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = Clock::now();
    const std::string patient = std::string("\0patient~report\0p", 17) + std::to_string(rng() % 10000);
    auto r = (*db)->Range("records", patient + '\0', patient + '\x01', 0);
    if (!r.ok()) Die(r.error());
    hist.push_back(Micros(Clock::now() - t0));
  }
  const Stats h = Summarize(hist);
  std::printf("Range over one patient's index (~%d keys): p50 %.1f us, p99 %.1f us\n",
              blocks * static_cast<int>(txs_per_block) / 10000, h.p50, h.p99);
}

}  // namespace

int main(int argc, char** argv) {
  // storage_bench [dir|-] [all|blocks|state] [memtable MiB] [state blocks of 500 tx]
  std::string dir;
  bool remove = false;
  if (argc > 1 && std::string(argv[1]) != "-") {
    dir = argv[1];
  } else {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ml_storage_bench_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return 1;
    dir = tmpl;
    remove = true;
  }
  const std::string only = argc > 2 ? argv[2] : "all";
  std::printf("ledger storage benchmark in %s (%u hardware threads)\n", dir.c_str(),
              std::thread::hardware_concurrency());
  if (only == "all" || only == "blocks") {
    BenchCrc();
    BenchBlocks(dir + "/blocks100k", 100 << 10, 300);
    BenchBlocks(dir + "/blocks4k", 4 << 10, 300);
    BenchOpen(dir + "/open", 200000, 1 << 10);
  }
  storage::StateDbOptions options;
  if (argc > 3) options.write_buffer_bytes = std::strtoull(argv[3], nullptr, 10) << 20;  // MiB, for tuning runs
  const int state_blocks = argc > 4 ? std::atoi(argv[4]) : 100;
  if (only == "all" || only == "state") BenchState(dir + "/state", state_blocks, 500, options);
  if (remove) std::filesystem::remove_all(dir);
  return 0;
}
