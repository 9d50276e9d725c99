// Fabric benchmark (issue 6): CreateReport submissions per second through medledger's C++ Gateway client
// (GatewayLedger) against a real Fabric network brought up by tests/fabric/network.sh, with 1, 16 and 64
// transactions in flight (an async window of that size). Each submission is a full endorse -> sign -> submit
// -> wait-for-commit round trip; reports committed tx/s and p50/p99 latency.
//
//   FABRIC_BIN=... MEDLEDGER_BIN_DIR=build/x tests/fabric/network.sh up /tmp/net
//   fabric_bench --net /tmp/net [--tx N] [--levels 1,16,64]
//   tests/fabric/network.sh down /tmp/net
// --net may also be one hospital's directory of a consortium (tests/fabric/consortium.sh WORKDIR/HospitalA: the same
// org/ and fabric.json), which bench/run_consortium_bench.sh uses to compare the two networks with this program.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "crypto/random.h"
#include "identity/organization.h"
#include "ledger/fabric/fabric_config.h"
#include "ledger/fabric/gateway_ledger.h"

namespace {

using namespace medledger;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string net;
  int tx = 200;
  std::vector<int> levels = {1, 16, 64};
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--net") {
      o->net = v;
    } else if (a == "--tx") {
      o->tx = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--levels") {
      o->levels.clear();
      for (size_t p = 0; p < v.size();) {
        size_t q = v.find(',', p);
        if (q == std::string::npos) q = v.size();
        o->levels.push_back(std::max(1, std::atoi(v.substr(p, q - p).c_str())));
        p = q + 1;
      }
    } else {
      return false;
    }
  }
  return !o->net.empty();
}

std::string RandomHex(size_t bytes) {
  return HexEncode(crypto::RandomBytes(bytes));
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    std::fprintf(stderr, "usage: fabric_bench --net DIR [--tx N] [--levels 1,16,64]\n");
    return 2;
  }
  const std::filesystem::path net(opt.net);
  auto org = identity::Organization::Open(net / "org");
  if (!org.ok()) return std::fprintf(stderr, "%s\n", org.error().ToString().c_str()), 1;
  auto admin = (*org)->LoadIdentity("admin");
  auto doctor = (*org)->LoadIdentity("doctor1");
  if (!admin.ok() || !doctor.ok()) return std::fprintf(stderr, "identities missing\n"), 1;
  auto config = ledger::fabric::LoadFabricConfig((net / "fabric.json").string());
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.error().ToString().c_str()), 1;
  auto gw = ledger::fabric::GatewayLedger::Connect(*config);
  if (!gw.ok()) return std::fprintf(stderr, "%s\n", gw.error().ToString().c_str()), 1;
  auto& ledger = **gw;

  // A fresh patient per run, so the benchmark can run repeatedly on one network.
  const std::string patient_ref = RandomHex(32);
  auto reg = ledger.Submit(*admin, {"RegisterPatient", {"{\"patientRef\":\"" + patient_ref + "\"}"}});
  if (!reg.ok()) return std::fprintf(stderr, "RegisterPatient: %s\n", reg.error().ToString().c_str()), 1;
  const std::string run = RandomHex(4);

  std::printf("%-10s %8s %10s %10s %10s %8s\n", "in-flight", "tx", "tx/s", "p50 ms", "p99 ms", "errors");
  for (int level : opt.levels) {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0, done = 0, errors = 0;
    std::vector<double> latencies;
    latencies.reserve(opt.tx);
    std::string first_error;
    const auto start = Clock::now();
    for (int i = 0; i < opt.tx; ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < level; });
        ++in_flight;
      }
      const std::string id = "bench-" + run + "-" + std::to_string(level) + "-" + std::to_string(i);
      const std::string arg = "{\"reportId\":\"" + id + "\",\"patientRef\":\"" + patient_ref +
                              "\",\"cid\":\"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy\","
                              "\"contentHash\":\"" +
                              RandomHex(32) + "\"}";
      const auto t0 = Clock::now();
      ledger.SubmitAsync(*doctor, {"CreateReport", {arg}}, [&, t0](Result<ledger::TxReceipt> r) {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        std::lock_guard lock(mu);
        if (r.ok()) {
          latencies.push_back(ms);
        } else {
          ++errors;
          if (first_error.empty()) first_error = r.error().ToString();
        }
        --in_flight;
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == opt.tx; });
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
      return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, size_t(p * latencies.size()))];
    };
    std::printf("%-10d %8d %10.1f %10.1f %10.1f %8d\n", level, opt.tx, double(opt.tx - errors) / secs, pct(0.5),
                pct(0.99), errors);
    if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
  }
  return 0;
}
