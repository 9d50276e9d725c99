// Ledger benchmark (issue 2): CreateReport-shaped transactions through the whole embedded pipeline
// (endorse, order, validate, fsync, commit) with 1, 16, 64 and 256 submitters, each keeping one
// transaction in flight (an async window of that size). Reports committed tx/s and p50/p99 latency from
// SubmitAsync to the commit callback.
//
//   ledger_bench [--tx N] [--levels 1,16,64,256] [--trust none|endorsement|all] [--dir DIR] [--batch-ms MS]
//                [--contract records|synthetic] [--report-log off|on|ab] [--rounds R]
//                [--log-poll-ms MS]
//
// `--report-log on` runs the server's report log beside the ledger (following the blocks, a signed and
// anchored checkpoint every second, as `serve` does); `ab` alternates R rounds without and with it at each
// level on the same ledger (the log caught up, untimed, before each "on" run; off-on, then on-off), so the two
// figures share the machine's load of the moment, and prints their means, medians and the difference.
//
// By default it runs the real records contract's CreateReport. `--contract synthetic` runs
// BenchReportsContract below instead, which does the same ledger work (creator role, patient read,
// uniqueness read, record + index writes, event) without the records contract's JSON validation.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "contract/records_contract.h"
#include "contract/stub.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "identity/organization.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "reportlog/log_audit.h"
#include "service/report_log.h"
#include "tlog/note.h"

namespace {

using namespace medledger;
using Clock = std::chrono::steady_clock;

class BenchReportsContract final : public contract::Contract {
 public:
  contract::Response Invoke(contract::ChaincodeStub& stub, std::string_view fn,
                            const std::vector<std::string>& args) override {
    auto creator = Parse(stub.GetCreator().cert_pem);
    if (!creator.ok()) return {403, "bad_creator: " + creator.error().message, ""};
    const std::string& role = creator->role;
    if (fn == "RegisterPatient" && args.size() == 1) {
      if (role != "admin") return {403, "forbidden: admin only", ""};
      auto st = stub.PutState("patient\x1f" + args[0], R"({"registered":true})");
      return st.ok() ? contract::Response{200, "", ""} : contract::Response{500, "internal: put failed", ""};
    }
    if (fn == "CreateReport" && args.size() == 5) {
      if (role != "doctor") return {403, "forbidden: doctors only", ""};
      auto patient = stub.GetState("patient\x1f" + args[1]);
      if (!patient.ok() || !*patient) return {404, "patient_not_found: " + args[1], ""};
      auto existing = stub.GetState("report\x1f" + args[0]);
      if (!existing.ok()) return {500, "internal: read failed", ""};
      if (*existing) return {409, "report_exists: " + args[0], ""};
      std::string record = R"({"reportId":")" + args[0] + R"(","patientRef":")" + args[1] + R"(","cid":")" + args[2] +
                           R"(","contentHash":")" + args[3] + R"(","metadata":)" + args[4] + R"(,"author":")" +
                           creator->common_name + R"(","txId":")" + stub.GetTxID() + R"(","version":1})";
      // Fabric's composite-key encoding, written out (the contract module's helper has not landed yet).
      std::string index = std::string("\0report~patient\0", 16) + args[1] + '\0' + args[0] + '\0';
      if (!stub.PutState("report\x1f" + args[0], record).ok() || !stub.PutState(index, std::string(1, '\0')).ok() ||
          !stub.SetEvent("ReportCreated", args[0]).ok()) {
        return {500, "internal: write failed", ""};
      }
      return {200, "", record};
    }
    return {400, "unknown_function: " + std::string(fn), ""};
  }

 private:
  struct ParsedCreator {
    std::string role;
    std::string common_name;
  };
  // OpenSSL 3 needs ~150 us to decode a PEM certificate, more than the whole per-transaction crypto
  // budget, so the parsed role is cached by certificate (deterministic: same bytes, same answer).
  Result<ParsedCreator> Parse(const std::string& pem) {
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(pem);
      if (it != cache_.end()) return it->second;
    }
    ML_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(pem));
    ML_ASSIGN_OR_RETURN(auto attrs, cert.FabricAttributes());
    ParsedCreator parsed{attrs.count("role") ? attrs.at("role") : "", cert.SubjectCommonName()};
    std::lock_guard lock(mu_);
    cache_.emplace(pem, parsed);
    return parsed;
  }
  std::mutex mu_;
  std::map<std::string, ParsedCreator> cache_;
};

struct LevelResult {
  int concurrency = 0;
  uint64_t committed = 0;
  uint64_t failed = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double cpu_seconds = 0;  // user + system CPU of the whole process during the level
  uint64_t blocks = 0;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

LevelResult RunLevel(ledger::Ledger& ledger, const std::vector<identity::SigningIdentity>& doctors, int concurrency,
                     uint64_t total, const std::string& patient, int level_tag, bool records) {
  std::mutex mu;
  std::condition_variable cv;
  double res_cpu = 0;
  std::vector<double> latencies;
  latencies.reserve(total);
  std::atomic<uint64_t> issued{0};
  uint64_t done = 0, failed = 0;
  const std::string metadata = R"({"type":"pathology","title":"Biopsy report","language":"en","pages":3})";

  std::function<void()> submit_one = [&] {
    uint64_t i = issued.fetch_add(1);
    if (i >= total) return;
    std::string report_id = "r-" + std::to_string(level_tag) + "-" + std::to_string(i);
    const std::string cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    ledger::Invocation call{"CreateReport", {report_id, patient, cid, crypto::RandomHex(32), metadata}};
    if (records) {
      call.args = {R"({"reportId":")" + report_id + R"(","patientRef":")" + patient + R"(","cid":")" + cid +
                   R"(","contentHash":")" + crypto::RandomHex(32) + R"(","metadata":)" + metadata + "}"};
    }
    auto start = Clock::now();
    ledger.SubmitAsync(doctors[i % doctors.size()], std::move(call), [&, start](Result<ledger::TxReceipt> r) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      submit_one();  // keep the window full
      // Last touch of this frame's locals: done/notify under the lock, so RunLevel cannot return first.
      std::lock_guard lock(mu);
      if (r.ok()) {
        latencies.push_back(ms);
      } else {
        ++failed;
        if (failed <= 3) std::fprintf(stderr, "  tx failed: %s\n", r.error().ToString().c_str());
      }
      ++done;
      cv.notify_one();
    });
  };

  auto before = ledger.GetChainInfo();
  double cpu0 = CpuSeconds();
  auto t0 = Clock::now();
  for (int c = 0; c < concurrency; ++c) submit_one();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done >= total; });
  }
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res_cpu = CpuSeconds() - cpu0;
  auto after = ledger.GetChainInfo();
  LevelResult res;
  res.cpu_seconds = res_cpu;
  res.concurrency = concurrency;
  res.committed = latencies.size();
  res.failed = failed;
  res.seconds = seconds;
  res.p50_ms = Percentile(latencies, 0.50);
  res.p99_ms = Percentile(latencies, 0.99);
  res.max_ms = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  if (before.ok() && after.ok()) res.blocks = after->height - before->height;
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t tx_per_level = 20000;
  std::vector<int> levels = {1, 16, 64, 256};
  auto trust = ledger::embedded::EmbeddedLedgerOptions::LocalTrust::kEndorsement;
  std::string trust_name = "endorsement";
  uint32_t batch_ms = 2;
  std::string dir;
  bool records = true;
  bool verify = true;
  std::string log_mode = "off";
  int rounds = 2;
  int log_poll_ms = 100;  // ReportLogOptions' default, as `serve` runs it
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--tx") {
      tx_per_level = std::stoull(next());
    } else if (a == "--levels") {
      levels.clear();
      std::string s = next();
      for (size_t p = 0; p < s.size();) {
        size_t q = s.find(',', p);
        levels.push_back(std::stoi(s.substr(p, q - p)));
        p = q == std::string::npos ? s.size() : q + 1;
      }
    } else if (a == "--trust") {
      trust_name = next();
      using LT = ledger::embedded::EmbeddedLedgerOptions::LocalTrust;
      if (trust_name == "none") {
        trust = LT::kNone;
      } else if (trust_name == "endorsement") {
        trust = LT::kEndorsement;
      } else if (trust_name == "all") {
        trust = LT::kAll;
      } else {
        std::fprintf(stderr, "--trust none|endorsement|all\n");
        return 2;
      }
    } else if (a == "--batch-ms") {
      batch_ms = static_cast<uint32_t>(std::stoul(next()));
    } else if (a == "--contract") {
      std::string c = next();
      if (c != "records" && c != "synthetic") {
        std::fprintf(stderr, "--contract records|synthetic\n");
        return 2;
      }
      records = c == "records";
    } else if (a == "--report-log") {
      log_mode = next();
      if (log_mode != "off" && log_mode != "on" && log_mode != "ab") {
        std::fprintf(stderr, "--report-log off|on|ab\n");
        return 2;
      }
    } else if (a == "--log-poll-ms") {
      log_poll_ms = std::max(1, std::stoi(next()));
    } else if (a == "--rounds") {
      rounds = std::max(1, std::stoi(next()));
    } else if (a == "--no-verify") {
      verify = false;
    } else if (a == "--dir") {
      dir = next();
    } else {
      std::fprintf(
          stderr,
          "usage: ledger_bench [--tx N] [--levels 1,16,64,256] [--trust none|endorsement|all] [--batch-ms MS] "
          "[--dir D] [--contract records|synthetic] [--report-log off|on|ab] [--rounds R] [--log-poll-ms MS]\n");
      return 2;
    }
  }
  bool temp = dir.empty();
  if (temp) dir = (std::filesystem::temp_directory_path() / ("medledger_bench_" + crypto::RandomHex(4))).string();

  auto org = identity::Organization::Create(dir, "BenchHospital");
  if (!org.ok()) {
    std::fprintf(stderr, "init: %s\n", org.error().ToString().c_str());
    return 1;
  }
  std::vector<identity::SigningIdentity> doctors;
  for (int d = 0; d < 4; ++d) {
    std::string name = "doctor" + std::to_string(d);
    if (!(*org)->AddUser({name, identity::Role::kDoctor, "", std::nullopt}).ok()) return 1;
    doctors.push_back((*org)->LoadIdentity(name).value());
  }
  std::shared_ptr<contract::Contract> contract;
  if (records) {
    contract = contract::NewRecordsContract();
  } else {
    contract = std::make_shared<BenchReportsContract>();
  }
  auto options = ledger::embedded::OptionsForOrganization(**org, std::move(contract));
  options.chaincode = "records";
  options.local_trust = trust;
  options.batch.timeout_ms = batch_ms;
  auto ledger = ledger::embedded::EmbeddedLedger::Open(std::move(options));
  if (!ledger.ok()) {
    std::fprintf(stderr, "open: %s\n", ledger.error().ToString().c_str());
    return 1;
  }
  auto admin = (*org)->LoadIdentity("admin").value();
  const std::string patient = records ? std::string(64, 'a') : "p-000001";
  ledger::Invocation reg{"RegisterPatient", {patient}};
  if (records) reg.args = {R"({"patientRef":")" + patient + R"("})"};
  if (auto r = (*ledger)->Submit(admin, reg); !r.ok()) {
    std::fprintf(stderr, "register: %s\n", r.error().ToString().c_str());
    return 1;
  }
  std::unique_ptr<service::ReportLog> report_log;
  std::optional<tlog::NoteVerifier> log_vkey;
  if (log_mode != "off") {
    const std::string origin = "medledger/" + (*org)->msp_id() + "/reports";
    auto anchor_identity = (*org)->ServiceIdentity();
    if (!anchor_identity.ok()) {
      std::fprintf(stderr, "log identity: %s\n", anchor_identity.error().ToString().c_str());
      return 1;
    }
    service::ReportLogOptions lo;
    lo.dir = std::filesystem::path(dir) / "log";
    lo.origin = origin;
    lo.checkpoint_interval = std::chrono::milliseconds(1000);
    lo.poll_interval = std::chrono::milliseconds(log_poll_ms);
    ledger::Ledger* lp = ledger->get();
    lo.anchor = [lp, who = std::make_shared<identity::SigningIdentity>(std::move(*anchor_identity)),
                 origin](const tlog::Checkpoint& c) -> Result<std::string> {
      nlohmann::json arg = {{"origin", origin}, {"treeSize", c.size}, {"rootHash", HexEncode(c.root_hash)}};
      ML_ASSIGN_OR_RETURN(auto receipt, lp->Submit(*who, {"AnchorCheckpoint", {arg.dump()}}));
      return receipt.tx_id;
    };
    auto opened = service::ReportLog::Open(
        **ledger, tlog::NoteSigner::Generate(origin, tlog::SignatureType::kEd25519).value(), std::move(lo));
    if (!opened.ok()) {
      std::fprintf(stderr, "report log: %s\n", opened.error().ToString().c_str());
      return 1;
    }
    report_log = std::move(*opened);
    log_vkey = report_log->verifier();
  }
  std::printf("contract: %s, local trust: %s, batch timeout %u ms, report log: %s (poll %d ms), %u cores\n",
              records ? "records (CreateReport)" : "synthetic (BenchReportsContract)", trust_name.c_str(), batch_ms,
              log_mode.c_str(), log_poll_ms, std::thread::hardware_concurrency());
  std::printf("%-11s %-4s %7s %8s %8s %8s %8s %7s %6s %10s\n", "submitters", "log", "tx", "tx/s", "p50 ms", "p99 ms",
              "max ms", "blocks", "failed", "CPU us/tx");
  auto print = [](const LevelResult& r, const char* log) {
    std::printf("%-11d %-4s %7llu %8.0f %8.2f %8.2f %8.2f %7llu %6llu %10.1f\n", r.concurrency, log,
                static_cast<unsigned long long>(r.committed), static_cast<double>(r.committed) / r.seconds, r.p50_ms,
                r.p99_ms, r.max_ms, static_cast<unsigned long long>(r.blocks),
                static_cast<unsigned long long>(r.failed), r.cpu_seconds * 1e6 / static_cast<double>(r.committed));
    std::fflush(stdout);
  };
  auto set_log = [&](bool on) {
    if (!report_log) return;
    if (on) {
      // Whatever the "off" run committed is folded in first, untimed: the "on" run pays only for its own blocks.
      if (auto caught = report_log->CatchUp(); !caught.ok()) {
        std::fprintf(stderr, "catch up: %s\n", caught.error().ToString().c_str());
      }
      report_log->Start();
    } else {
      report_log->Stop();
    }
  };
  int tag = 0;
  for (int c : levels) {
    // A warm-up slice so caches and the identity cache are hot, not counted.
    set_log(log_mode != "off");
    RunLevel(**ledger, doctors, c, std::min<uint64_t>(tx_per_level / 10, 2000), patient, 1000 + tag, records);
    if (log_mode != "ab") {
      print(RunLevel(**ledger, doctors, c, tx_per_level, patient, tag++, records), log_mode.c_str());
      continue;
    }
    // Means, and medians (robust to the load spikes of a shared machine), of tx/s, p99 and CPU per transaction.
    std::vector<double> tps[2], p99[2], cpu[2];
    for (int round = 0; round < rounds; ++round) {
      // The order alternates too, so neither side always runs right after the untimed catch-up.
      for (int k : {0, 1}) {
        const int on = (k + round) % 2;
        set_log(on != 0);
        auto r = RunLevel(**ledger, doctors, c, tx_per_level, patient, tag++, records);
        print(r, on != 0 ? "on" : "off");
        tps[on].push_back(static_cast<double>(r.committed) / r.seconds);
        p99[on].push_back(r.p99_ms);
        cpu[on].push_back(r.cpu_seconds * 1e6 / static_cast<double>(r.committed));
      }
    }
    auto mean = [](const std::vector<double>& v) {
      double sum = 0;
      for (double x : v) sum += x;
      return sum / static_cast<double>(v.size());
    };
    auto median = [](std::vector<double> v) { return Percentile(v, 0.5); };
    for (const char* stat : {"mean", "median"}) {
      auto f = std::string(stat) == "mean" ? std::function<double(const std::vector<double>&)>(mean)
                                           : std::function<double(const std::vector<double>&)>(median);
      std::printf(
          "%-11d %-6s of %d rounds: off %.0f tx/s (p99 %.2f ms, %.0f CPU us/tx), on %.0f tx/s (p99 %.2f ms, "
          "%.0f CPU us/tx): %+.1f%% tx/s\n",
          c, stat, rounds, f(tps[0]), f(p99[0]), f(cpu[0]), f(tps[1]), f(p99[1]), f(cpu[1]),
          (f(tps[1]) / f(tps[0]) - 1) * 100);
    }
    std::fflush(stdout);
  }
  if (report_log) {
    set_log(false);
    auto latest = report_log->Latest();
    std::printf("report log: %llu leaves, last checkpoint at %llu\n",
                static_cast<unsigned long long>(report_log->Size()),
                static_cast<unsigned long long>(latest ? latest->checkpoint.size : 0));
    report_log.reset();
  }
  (*ledger)->Close();
  if (!verify) {
    ledger->reset();
    if (temp) std::filesystem::remove_all(dir);
    return 0;
  }
  ledger::embedded::VerifyOptions vo;
  vo.chaincode = "records";
  auto t0 = Clock::now();
  auto report = (*ledger)->Verify(vo);
  double vs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (report.ok()) {
    std::printf("verify: %s, %llu blocks, %llu valid / %llu invalid txs in %.1f s (%.0f tx/s)\n",
                report->ok ? "ok" : report->problem.c_str(), static_cast<unsigned long long>(report->blocks),
                static_cast<unsigned long long>(report->txs_valid),
                static_cast<unsigned long long>(report->txs_invalid), vs,
                static_cast<double>(report->txs_valid + report->txs_invalid) / vs);
  }
  if (log_mode != "off") {
    // What `medledger verify` adds: the log re-derived from every block and compared with the stored tree.
    auto audit_t0 = Clock::now();
    auto opened = reportlog::OpenStoredLog(std::filesystem::path(dir) / "log");
    auto height = (*ledger)->GetChainInfo();
    if (opened.ok() && height.ok()) {
      opened->stored.log_key = log_vkey;  // `serve` publishes it in DATA/log/trust.json
      ledger::Ledger* lp = ledger->get();
      auto audit =
          reportlog::AuditLog([lp](uint64_t n) { return lp->GetBlock(n); }, height->height, opened->stored, {});
      const double as = std::chrono::duration<double>(Clock::now() - audit_t0).count();
      if (audit.ok()) {
        std::printf("log audit: %s, %llu leaves (%llu stored), %llu anchors in %.1f s (%.0f leaves/s)\n",
                    audit->ok ? "ok" : audit->problem.c_str(), static_cast<unsigned long long>(audit->leaves),
                    static_cast<unsigned long long>(audit->stored_size),
                    static_cast<unsigned long long>(audit->anchors), as, static_cast<double>(audit->leaves) / as);
      }
    }
  }
  ledger->reset();
  if (temp) std::filesystem::remove_all(dir);
  return 0;
}
