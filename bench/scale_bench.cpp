// Scale benchmark (issue 18, "Scale: 10 million reports", the measurement half): builds an archive of N reports
// through the real pipeline in-process (the service stack `medledger serve` builds: embedded ledger, content
// store, keystore + ReportVault, report log, patient directory, RecordsService), submitted by many concurrent
// doctors as the HTTP workers do, then measures what grows with the archive:
//   - listing one heavy patient's reports (first page; a deep page reached through the API's bookmarks);
//   - reading a report as its author (which records the access on the ledger), young and grown;
//   - resident memory after building, after a clean close, and per component on re-open;
//   - start time: a clean re-open, and an open after kill -9 of a process that was submitting;
//   - disk bytes per report by store.
//
//   scale_bench [--reports N] [--data DIR] [--heavy-patients P] [--heavy-reports R] [--concurrency C]
//               [--reads N] [--json FILE] [--keep]
//
// The data directory must be absent or empty (created as `medledger init` does); it is removed at the end
// unless --keep. Prints a human table and a JSON summary (also to --json FILE). Exit status 1 when a figure is
// not sane (a submission failed, a page came back short): the CTest smoke run relies on that, never on timings.
#include <fcntl.h>
#include <malloc.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "app/report_keys.h"
#include "app/report_log_setup.h"
#include "common/encoding.h"
#include "common/shared_flush.h"
#include "content/embedded_store.h"
#include "content/keystore.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "identity/organization.h"
#include "io/env.h"
#include "io/posix_util.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "reportlog/log_files.h"
#include "service/bookmarks.h"
#include "service/idempotency_store.h"
#include "service/patient_directory.h"
#include "service/records_service.h"
#include "service/report_log.h"

namespace {

using namespace medledger;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// kB from /proc/self/status ("VmRSS", "VmHWM").
long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  }
  return -1;
}

// Resets VmHWM to the current RSS, so a later peak is the re-opened stack's own.
void ResetPeak() {
  int fd = ::open("/proc/self/clear_refs", O_WRONLY);
  if (fd < 0) return;
  ssize_t w = ::write(fd, "5", 1);
  (void)w;
  ::close(fd);
}

// Heap that freed objects leave behind would otherwise count against the next component's RSS.
long TrimmedRssKb() {
  malloc_trim(0);
  return StatusKb("VmRSS");
}

struct Options {
  uint64_t reports = 100000;
  std::string data;
  uint32_t heavy_patients = 5;
  uint32_t heavy_reports = 1000;
  uint32_t concurrency = 256;
  uint32_t doctors = 16;
  uint32_t reads = 1000;
  std::string json_file;
  bool keep = false;
  bool child_writer = false;  // internal: the process that is killed -9 mid-run
};

auth::Principal Admin() {
  auth::Principal p;
  p.username = "admin";
  p.role = identity::Role::kAdmin;
  p.display_name = "Admin";
  return p;
}

auth::Principal Doctor(uint32_t i) {
  auth::Principal p;
  p.username = "dr" + std::to_string(i);
  p.role = identity::Role::kDoctor;
  p.display_name = "Doctor " + std::to_string(i);
  return p;
}

// The stack `serve` runs (src/app/cmd_serve.cpp, embedded ledger and content store, no HTTP listener), opened
// component by component so that each one's open time and resident memory can be told apart.
class Stack {
 public:
  struct Part {
    std::string name;
    double seconds = 0;
    long rss_delta_kb = 0;
  };

  static Result<std::unique_ptr<Stack>> Open(const fs::path& data) {
    auto s = std::unique_ptr<Stack>(new Stack());
    s->data_ = data;
    auto t0 = Clock::now();
    identity::OrganizationOptions org_options;
    org_options.password_cost = identity::PasswordCost::Minimal();
    ML_ASSIGN_OR_RETURN(
        s->org_, s->Timed("organisation", [&] { return identity::Organization::Open(data.string(), org_options); }));
    content::EmbeddedStoreOptions store_options;
    store_options.sync = false;  // flushed by the durability barrier, as in serve
    ML_ASSIGN_OR_RETURN(s->store_, s->Timed("content store", [&] {
      return content::EmbeddedStore::Open(data / "content", store_options);
    }));
    ML_ASSIGN_OR_RETURN(s->ledger_, s->Timed("ledger", [&] {
      auto options = ledger::embedded::OptionsForOrganization(*s->org_, contract::NewRecordsContract());
      options.genesis_block = true;
      return ledger::embedded::EmbeddedLedger::Open(std::move(options));
    }));
    ML_ASSIGN_OR_RETURN(s->log_, s->Timed("report log", [&]() -> Result<std::unique_ptr<service::ReportLog>> {
      const std::string origin = "medledger/" + s->org_->msp_id() + "/reports";
      ML_ASSIGN_OR_RETURN(auto key, app::LoadOrCreateLogKey(data, s->org_->master_key(), origin));
      ML_ASSIGN_OR_RETURN(auto anchor_identity, s->org_->ServiceIdentity());
      service::ReportLogOptions log_options;
      log_options.dir = data / reportlog::files::kLogDir;
      log_options.origin = origin;
      ledger::Ledger* ledger = s->ledger_.get();
      log_options.anchor = [ledger, who = std::make_shared<identity::SigningIdentity>(std::move(anchor_identity)),
                            origin](const tlog::Checkpoint& c) -> Result<std::string> {
        json arg = {{"origin", origin}, {"treeSize", c.size}, {"rootHash", HexEncode(c.root_hash)}};
        ML_ASSIGN_OR_RETURN(auto receipt, ledger->Submit(*who, {"AnchorCheckpoint", {arg.dump()}}));
        return receipt.tx_id;
      };
      ML_ASSIGN_OR_RETURN(auto log, service::ReportLog::Open(*ledger, std::move(key), std::move(log_options)));
      log->Start();  // catches up with the chain in the background, as in serve
      return log;
    }));
    ML_ASSIGN_OR_RETURN(s->patients_, s->Timed("patient directory", [&] {
      return service::PatientDirectory::Open(data / "server" / "patients", s->org_->master_key());
    }));
    ML_ASSIGN_OR_RETURN(s->keystore_, s->Timed("keystore", [&] {
      return app::OpenReportKeystore(data, s->org_->master_key(), /*sync_stores=*/false);
    }));
    ML_ASSIGN_OR_RETURN(s->idempotency_, s->Timed("idempotency store", [&] {
      return service::IdempotencyStore::Open(data / "server" / "idempotency");
    }));
    ML_ASSIGN_OR_RETURN(auto sealer, service::BookmarkSealer::Create(s->org_->master_key()));
    s->bookmarks_.emplace(std::move(sealer));
    s->vault_ = std::make_unique<content::ReportVault>(*s->store_, *s->keystore_);
    service::ServiceParts parts;
    parts.ledger = s->ledger_.get();
    parts.content = s->store_.get();
    parts.org = s->org_.get();
    parts.patients = s->patients_.get();
    parts.vault = s->vault_.get();
    auto barrier = std::make_shared<SharedFlush>([dir = data] { return io::SyncFilesystem(dir); });
    parts.durability_barrier = [barrier] { return barrier->Run(); };
    parts.idempotency = s->idempotency_.get();
    parts.bookmarks = &*s->bookmarks_;
    parts.log = s->log_.get();
    s->records_ = std::make_unique<service::RecordsService>(std::move(parts));
    s->open_seconds_ = Seconds(t0);
    return s;
  }

  ~Stack() { Close(); }

  // serve's shutdown order: the log stops (flushing what it folded), then the ledger closes.
  void Close() {
    if (closed_) return;
    closed_ = true;
    records_.reset();
    if (log_) log_->Stop();
    if (ledger_) ledger_->Close();
    log_.reset();
    ledger_.reset();
    vault_.reset();
    keystore_.reset();
    idempotency_.reset();
    patients_.reset();
    store_.reset();
    org_.reset();
  }

  service::RecordsService& records() { return *records_; }
  ledger::embedded::EmbeddedLedger& ledger() { return *ledger_; }
  const std::vector<Part>& parts() const { return parts_; }
  double open_seconds() const { return open_seconds_; }

 private:
  Stack() = default;

  template <typename F>
  std::invoke_result_t<F> Timed(const std::string& name, F&& f) {
    long before = TrimmedRssKb();
    auto t = Clock::now();
    auto r = f();
    Part p{name, Seconds(t), 0};
    p.rss_delta_kb = TrimmedRssKb() - before;
    parts_.push_back(p);
    return r;
  }

  fs::path data_;
  std::unique_ptr<identity::Organization> org_;
  std::unique_ptr<content::EmbeddedStore> store_;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger_;
  std::unique_ptr<service::ReportLog> log_;
  std::unique_ptr<service::PatientDirectory> patients_;
  std::unique_ptr<content::FileKeystore> keystore_;
  std::unique_ptr<service::IdempotencyStore> idempotency_;
  std::optional<service::BookmarkSealer> bookmarks_;
  std::unique_ptr<content::ReportVault> vault_;
  std::unique_ptr<service::RecordsService> records_;
  std::vector<Part> parts_;
  double open_seconds_ = 0;
  bool closed_ = false;
};

// What `medledger init` creates, plus the doctors (enrolled with the cheapest password cost: logins are not
// measured here).
Status InitDataDir(const fs::path& data, uint32_t doctors) {
  identity::CreateOrganizationOptions create;
  create.password_cost = identity::PasswordCost::Minimal();
  create.admin_password = "scale-bench-admin";
  ML_ASSIGN_OR_RETURN(auto org, identity::Organization::Create(data.string(), "Scale Hospital", create));
  ML_RETURN_IF_ERROR(ledger::embedded::CreateLedgerFor(*org));
  for (uint32_t i = 0; i < doctors; ++i) {
    auto d = Doctor(i);
    auto added = org->AddUser(identity::NewUser{d.username, d.role, d.display_name, std::nullopt});
    if (!added.ok()) return added.error();
  }
  return OkStatus();
}

// ~1 KiB of clinical-looking text, different per report.
std::string ReportBody(uint64_t i) {
  static const char* kLines[] = {
      "Patient seen in clinic for review of ongoing symptoms. ",
      "Blood pressure within normal limits; heart sounds regular, no murmurs. ",
      "Chest clear on auscultation, oxygen saturation 98 percent on room air. ",
      "Medication reviewed and continued at the current dose. ",
      "Advised on diet, exercise and follow-up in six weeks. ",
      "Laboratory results discussed with the patient, who agrees with the plan. ",
  };
  std::string s = "Visit " + std::to_string(i) + ". ";
  for (size_t k = 0; s.size() < 1000; ++k) s += kLines[(i + k) % std::size(kLines)];
  return s;
}

// Runs `count` calls of `op(index)` on `threads` threads, each waiting for its call as an HTTP worker does.
// Latencies in ms; failures counted (the first few printed). `tick` runs on the calling thread about once a second.
struct RunStats {
  uint64_t ok = 0, failed = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  json Summary() {
    return {{"ops", ok},
            {"failed", failed},
            {"seconds", seconds},
            {"opsPerSecond", seconds > 0 ? static_cast<double>(ok) / seconds : 0},
            {"p50Ms", Percentile(latencies_ms, 0.50)},
            {"p99Ms", Percentile(latencies_ms, 0.99)}};
  }
};

RunStats RunConcurrent(uint64_t count, uint32_t threads, const std::function<Status(uint64_t)>& op,
                       const std::function<void(uint64_t done)>& tick = {}) {
  RunStats stats;
  std::mutex mu;
  std::atomic<uint64_t> next{0}, done{0};
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  threads = static_cast<uint32_t>(std::min<uint64_t>(threads, std::max<uint64_t>(count, 1)));
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (uint64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
        auto start = Clock::now();
        Status s = op(i);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        std::lock_guard lock(mu);
        if (s.ok()) {
          ++stats.ok;
          stats.latencies_ms.push_back(ms);
        } else if (++stats.failed <= 3) {
          std::fprintf(stderr, "  failed: %s\n", s.error().ToString().c_str());
        }
        done.fetch_add(1);
      }
    });
  }
  while (done.load() < count) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (tick) tick(done.load());
  }
  for (auto& t : pool) t.join();
  stats.seconds = Seconds(t0);
  return stats;
}

struct Archive {
  std::vector<std::string> patient_ids;  // heavy patients first
  std::vector<uint32_t> doctor_of;       // per patient: the doctor who writes their reports
  std::vector<uint32_t> report_patient;  // per report to submit: the patient index (shuffled)
  std::vector<std::string> report_ids;   // filled as reports commit
  std::vector<uint32_t> report_author;   // per committed report
  std::mutex mu;
};

// Heavy patients get `heavy_reports` each, the rest 1-5 each, until N; the submission order is shuffled so that a
// heavy patient's reports are spread over the whole chain, as years of visits would be.
void PlanArchive(const Options& o, Archive& a) {
  std::mt19937_64 rng(18);
  uint64_t planned = 0;
  std::vector<uint32_t> counts;
  for (uint32_t h = 0; h < o.heavy_patients && planned < o.reports; ++h) {
    uint32_t c = static_cast<uint32_t>(std::min<uint64_t>(o.heavy_reports, o.reports - planned));
    counts.push_back(c);
    planned += c;
  }
  std::uniform_int_distribution<uint32_t> few(1, 5);
  while (planned < o.reports) {
    uint32_t c = static_cast<uint32_t>(std::min<uint64_t>(few(rng), o.reports - planned));
    counts.push_back(c);
    planned += c;
  }
  for (uint32_t p = 0; p < counts.size(); ++p) {
    a.doctor_of.push_back(p % o.doctors);
    for (uint32_t k = 0; k < counts[p]; ++k) a.report_patient.push_back(p);
  }
  std::shuffle(a.report_patient.begin(), a.report_patient.end(), rng);
}

class ProgressLine {
 public:
  ProgressLine(std::string what, uint64_t total) : what_(std::move(what)), total_(total), t0_(Clock::now()) {}
  void operator()(uint64_t done) {
    if (Seconds(last_) < 10) return;
    last_ = Clock::now();
    double s = Seconds(t0_);
    std::fprintf(stderr, "  %s: %llu/%llu (%.0f/s, RSS %ld MiB, %.0f s)\n", what_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 static_cast<double>(done) / s, StatusKb("VmRSS") / 1024, s);
  }

 private:
  std::string what_;
  uint64_t total_;
  Clock::time_point t0_, last_ = Clock::now();
};

Status RegisterPatients(service::RecordsService& records, Archive& a, uint64_t count, uint32_t concurrency,
                        RunStats* stats) {
  a.patient_ids.assign(count, "");
  ProgressLine progress("patients", count);
  *stats = RunConcurrent(
      count, concurrency,
      [&](uint64_t i) -> Status {
        service::NewPatient p{"MRN-" + std::to_string(100000 + i), "Patient " + std::to_string(i), "1980-01-01", ""};
        ML_ASSIGN_OR_RETURN(auto v, records.RegisterPatient(Admin(), p, nullptr));
        std::lock_guard lock(a.mu);
        a.patient_ids[i] = v.patient_id;
        return OkStatus();
      },
      std::ref(progress));
  if (stats->failed != 0) return MakeError(ErrorKind::kInternal, "bench_failed", "a patient registration failed");
  return OkStatus();
}

// Submits reports [from, to) of the plan.
Status SubmitReports(service::RecordsService& records, Archive& a, uint64_t from, uint64_t to, uint32_t concurrency,
                     RunStats* stats) {
  ProgressLine progress("reports", to);
  *stats = RunConcurrent(
      to - from, concurrency,
      [&](uint64_t k) -> Status {
        uint64_t i = from + k;
        uint32_t p = a.report_patient[i];
        service::ReportInput in;
        in.patient_id = a.patient_ids[p];
        in.title = "Clinic visit";
        in.diagnosis = "Hypertension (I10)";
        in.content = ReportBody(i);
        ML_ASSIGN_OR_RETURN(auto receipt, records.SubmitReport(Doctor(a.doctor_of[p]), in, "", "", nullptr));
        std::lock_guard lock(a.mu);
        a.report_ids.push_back(receipt.report_id);
        a.report_author.push_back(a.doctor_of[p]);
        return OkStatus();
      },
      [&](uint64_t done) { progress(from + done); });
  if (stats->failed != 0) return MakeError(ErrorKind::kInternal, "bench_failed", "a report submission failed");
  return OkStatus();
}

// Reads of random committed reports by their authors, 16 at a time (each records an access: a ledger commit).
RunStats MeasureReads(service::RecordsService& records, Archive& a, uint32_t reads) {
  std::vector<std::pair<std::string, uint32_t>> picks;
  {
    std::lock_guard lock(a.mu);
    std::mt19937_64 rng(reads + a.report_ids.size());
    std::uniform_int_distribution<size_t> any(0, a.report_ids.size() - 1);
    for (uint32_t i = 0; i < reads; ++i) {
      size_t k = any(rng);
      picks.emplace_back(a.report_ids[k], a.report_author[k]);
    }
  }
  return RunConcurrent(reads, 16, [&](uint64_t i) -> Status {
    ML_ASSIGN_OR_RETURN(auto view, records.ReadReport(Doctor(picks[i].second), picks[i].first, "treatment"));
    if (view.document.empty()) return MakeError(ErrorKind::kInternal, "bench_failed", "empty report document");
    return OkStatus();
  });
}

struct ListingResult {
  RunStats first, deep;
  uint32_t deep_page = 0;
  size_t first_items = 0, deep_items = 0;
};

Result<size_t> PageItems(const std::string& page_json, std::string* bookmark) {
  json j = json::parse(page_json, nullptr, false);
  if (j.is_discarded() || !j.contains("items"))
    return MakeError(ErrorKind::kInternal, "bench_failed", "listing without items");
  if (bookmark != nullptr) *bookmark = j.value("bookmark", "");
  return j["items"].size();
}

// One heavy patient's reports as their doctor, 25 a page: the first page, and page `deep_page` (40, or the
// last full one for a smaller patient) reached by following bookmarks as a client of the API would.
Result<ListingResult> MeasureListing(service::RecordsService& records, const Archive& a, uint32_t heavy_reports,
                                     uint32_t calls) {
  ListingResult r;
  const auto doctor = Doctor(a.doctor_of[0]);
  const std::string& patient = a.patient_ids[0];
  constexpr uint32_t kPage = 25;
  r.deep_page = std::max<uint32_t>(1, std::min<uint32_t>(40, heavy_reports / kPage));
  std::string bookmark;
  for (uint32_t page = 1; page < r.deep_page; ++page) {
    ML_ASSIGN_OR_RETURN(auto text, records.ListPatientReports(doctor, patient, kPage, bookmark));
    std::string next;
    ML_ASSIGN_OR_RETURN(size_t n, PageItems(text, &next));
    if (n != kPage || next.empty())
      return MakeError(ErrorKind::kInternal, "bench_failed", "short page " + std::to_string(page));
    bookmark = next;
  }
  auto measure = [&](const std::string& mark, size_t* items) {
    return RunConcurrent(calls, 1, [&](uint64_t) -> Status {
      ML_ASSIGN_OR_RETURN(auto text, records.ListPatientReports(doctor, patient, kPage, mark));
      ML_ASSIGN_OR_RETURN(*items, PageItems(text, nullptr));
      return OkStatus();
    });
  };
  r.first = measure("", &r.first_items);
  r.deep = measure(bookmark, &r.deep_items);
  return r;
}

// The ledger state's bytes by column family (state, history, txid, default), read from a closed database (the
// ledger writes no WAL: after a clean close everything is in SST files). Empty when it cannot be read.
json StateColumnFamilies(const fs::path& dir) {
  std::vector<std::string> names;
  rocksdb::DBOptions db_options;
  if (!rocksdb::DB::ListColumnFamilies(db_options, dir.string(), &names).ok()) return json::object();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(db_options, dir.string(), cfs, &handles, &raw).ok()) return json::object();
  std::unique_ptr<rocksdb::DB> db(raw);
  json out = json::object();
  for (auto* h : handles) {
    rocksdb::ColumnFamilyMetaData meta;
    db->GetColumnFamilyMetaData(h, &meta);
    out[h->GetName()] = meta.size;
    db->DestroyColumnFamilyHandle(h);
  }
  return out;
}

// Bytes under the data directory by store (paths as serve lays them out), plus the raw per-directory sizes.
json DiskUsage(const fs::path& data, uint64_t reports) {
  std::map<std::string, uint64_t> by_dir;
  std::map<std::string, uint64_t> by_store;
  auto store_of = [](const std::string& rel) -> std::string {
    auto starts = [&](const char* p) { return rel.rfind(p, 0) == 0; };
    if (starts("ledger/blocks")) return "ledger blocks";
    if (starts("ledger/")) return "ledger state (RocksDB)";
    if (starts("content/")) return "content packs";
    if (starts("server/keystore/")) return "keystore";
    if (starts("log/")) return "report log";
    if (starts("server/patients/")) return "patient directory";
    return "other";
  };
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(data, ec); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), data, ec).string();
    uint64_t size = it->file_size(ec);
    by_store[store_of(rel)] += size;
    fs::path parent = fs::path(rel).parent_path();
    by_dir[parent.empty() ? "." : parent.string()] += size;
  }
  uint64_t total = 0;
  json stores = json::object();
  for (const auto& [k, v] : by_store) {
    total += v;
    stores[k] = {{"bytes", v}, {"bytesPerReport", reports ? static_cast<double>(v) / static_cast<double>(reports) : 0}};
  }
  json dirs = json::object();
  for (const auto& [k, v] : by_dir) dirs[k] = v;
  return {{"totalBytes", total},
          {"bytesPerReport", reports ? static_cast<double>(total) / static_cast<double>(reports) : 0},
          {"stores", stores},
          {"stateColumnFamilies", StateColumnFamilies(data / "ledger" / "state")},
          {"directories", dirs}};
}

// The process killed -9: opens the stack, registers one patient and submits reports for it until killed.
int RunChildWriter(const Options& o) {
  auto stack = Stack::Open(o.data);
  if (!stack.ok()) {
    std::fprintf(stderr, "child: %s\n", stack.error().ToString().c_str());
    return 1;
  }
  auto& records = (*stack)->records();
  service::NewPatient np{"MRN-CRASH-" + std::to_string(::getpid()), "Crash Patient", "1970-01-01", ""};
  auto patient = records.RegisterPatient(Admin(), np, nullptr);
  if (!patient.ok()) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  std::atomic<uint64_t> i{0};
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < o.concurrency; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        service::ReportInput in;
        in.patient_id = patient->patient_id;
        in.title = "Clinic visit";
        in.diagnosis = "Hypertension (I10)";
        in.content = ReportBody(i.fetch_add(1));
        (void)records.SubmitReport(Doctor(0), in, "", "", nullptr);
      }
    });
  }
  for (auto& t : pool) t.join();  // never: the parent kills this process
  return 0;
}

// Starts this program as the child writer, waits for it to submit for `run_ms`, kills it with SIGKILL.
Status KillWriterMidRun(const Options& o, const char* self, int run_ms) {
  int out[2];
  if (::pipe(out) != 0) return MakeError(ErrorKind::kInternal, "pipe_failed", std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) return MakeError(ErrorKind::kInternal, "fork_failed", std::strerror(errno));
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::string conc = std::to_string(std::min<uint32_t>(o.concurrency, 64));
    ::execl(self, self, "--child-writer", "--data", o.data.c_str(), "--concurrency", conc.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char buf[64] = {};
  ssize_t n = ::read(out[0], buf, sizeof buf - 1);
  ::close(out[0]);
  if (n <= 0 || std::string(buf).find("ready") == std::string::npos) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return MakeError(ErrorKind::kInternal, "child_failed", "the writer did not start");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    return MakeError(ErrorKind::kInternal, "child_failed", "the writer exited before it was killed");
  return OkStatus();
}

json PartsJson(const Stack& s) {
  json parts = json::array();
  for (const auto& p : s.parts())
    parts.push_back({{"component", p.name}, {"seconds", p.seconds}, {"rssDeltaKb", p.rss_delta_kb}});
  return parts;
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    try {
      if (a == "--reports") {
        o.reports = std::stoull(next());
      } else if (a == "--data") {
        o.data = next();
      } else if (a == "--heavy-patients") {
        o.heavy_patients = static_cast<uint32_t>(std::stoul(next()));
      } else if (a == "--heavy-reports") {
        o.heavy_reports = static_cast<uint32_t>(std::stoul(next()));
      } else if (a == "--concurrency") {
        o.concurrency = static_cast<uint32_t>(std::stoul(next()));
      } else if (a == "--reads") {
        o.reads = static_cast<uint32_t>(std::stoul(next()));
      } else if (a == "--json") {
        o.json_file = next();
      } else if (a == "--keep") {
        o.keep = true;
      } else if (a == "--child-writer") {
        o.child_writer = true;
      } else {
        std::fprintf(stderr, "unknown argument %s\n", a.c_str());
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bad value for %s\n", a.c_str());
      return false;
    }
  }
  if (o.reports == 0 || o.concurrency == 0 || o.reads == 0 || o.heavy_patients == 0 || o.heavy_reports == 0) {
    std::fprintf(stderr, "--reports, --concurrency, --reads, --heavy-patients and --heavy-reports must be > 0\n");
    return false;
  }
  return true;
}

int Fail(const Error& e) {
  std::fprintf(stderr, "scale_bench: %s\n", e.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) return 2;
  if (o.data.empty()) o.data = (fs::temp_directory_path() / ("scale-bench-" + std::to_string(::getpid()))).string();
  if (o.child_writer) return RunChildWriter(o);
  std::error_code ec;
  if (fs::exists(o.data, ec) && !fs::is_empty(o.data, ec)) {
    std::fprintf(stderr, "scale_bench: %s must be absent or empty\n", o.data.c_str());
    return 2;
  }
  const fs::path data = o.data;
  json out;
  out["reports"] = o.reports;
  out["concurrency"] = o.concurrency;
  {
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) == 3) out["loadAverageAtStart"] = {load[0], load[1], load[2]};
    out["cpus"] = std::thread::hardware_concurrency();
  }
  auto t_all = Clock::now();
  if (Status s = InitDataDir(data, o.doctors); !s.ok()) return Fail(s.error());
  auto opened = Stack::Open(data);
  if (!opened.ok()) return Fail(opened.error());
  std::unique_ptr<Stack> stack = std::move(*opened);

  Archive a;
  PlanArchive(o, a);
  const uint64_t patients = a.doctor_of.size();
  std::fprintf(stderr, "scale_bench: %llu reports for %llu patients (%u heavy x %u) in %s\n",
               static_cast<unsigned long long>(o.reports), static_cast<unsigned long long>(patients), o.heavy_patients,
               o.heavy_reports, o.data.c_str());
  out["patients"] = patients;
  RunStats st;
  if (Status s = RegisterPatients(stack->records(), a, patients, o.concurrency, &st); !s.ok()) return Fail(s.error());
  out["registerPatients"] = st.Summary();

  // Reads of a young ledger (first 100 reports) and at ~1k reports, to compare with the grown archive's.
  json reads = json::object();
  json build = json::array();
  const uint32_t young_reads = std::min<uint32_t>(o.reads, 300);
  uint64_t done = 0;
  for (uint64_t mark : {uint64_t{100}, uint64_t{1000}, o.reports}) {
    mark = std::min(mark, o.reports);
    if (mark <= done) continue;
    if (Status s = SubmitReports(stack->records(), a, done, mark, o.concurrency, &st); !s.ok()) return Fail(s.error());
    json seg = st.Summary();
    seg["from"] = done;
    seg["to"] = mark;
    build.push_back(seg);
    done = mark;
    auto r = MeasureReads(stack->records(), a, mark == o.reports ? o.reads : young_reads);
    if (r.failed != 0) return Fail(MakeError(ErrorKind::kInternal, "bench_failed", "a read failed"));
    reads["at" + std::to_string(mark)] = r.Summary();
  }
  out["submit"] = build;
  out["reads"] = reads;
  auto info = stack->ledger().GetChainInfo();
  if (info.ok()) out["blocks"] = info->height;
  out["buildSeconds"] = Seconds(t_all);

  auto listing = MeasureListing(stack->records(), a, o.heavy_reports, 200);
  if (!listing.ok()) return Fail(listing.error());
  out["listing"] = {{"firstPage", listing->first.Summary()},
                    {"deepPage", listing->deep.Summary()},
                    {"deepPageNumber", listing->deep_page},
                    {"pageSize", 25}};
  bool sane = listing->first_items == 25 && listing->deep_items == 25 && listing->first.failed == 0 &&
              listing->deep.failed == 0;

  json memory;
  memory["afterBuild"] = {{"rssKb", StatusKb("VmRSS")}, {"hwmKb", StatusKb("VmHWM")}};
  stack->Close();
  stack.reset();
  memory["afterClose"] = {{"rssKb", TrimmedRssKb()}};
  // Before the kill -9 run below adds its own reports.
  out["disk"] = DiskUsage(data, o.reports);
  ResetPeak();
  long before_open = StatusKb("VmRSS");
  opened = Stack::Open(data);
  if (!opened.ok()) return Fail(opened.error());
  stack = std::move(*opened);
  memory["afterReopen"] = {{"rssKb", StatusKb("VmRSS")},
                           {"hwmKb", StatusKb("VmHWM")},
                           {"rssGrowthKb", StatusKb("VmRSS") - before_open},
                           {"components", PartsJson(*stack)}};
  out["memory"] = memory;
  json start;
  start["cleanOpenSeconds"] = stack->open_seconds();
  // The re-opened stack serves: one read to prove it.
  if (MeasureReads(stack->records(), a, 5).failed != 0) sane = false;
  stack->Close();
  stack.reset();

  if (Status s = KillWriterMidRun(o, "/proc/self/exe", 3000); !s.ok()) return Fail(s.error());
  opened = Stack::Open(data);
  if (!opened.ok()) return Fail(opened.error());
  stack = std::move(*opened);
  start["afterKillOpenSeconds"] = stack->open_seconds();
  start["afterKillComponents"] = PartsJson(*stack);
  if (MeasureReads(stack->records(), a, 5).failed != 0) sane = false;
  out["start"] = start;
  stack->Close();
  stack.reset();

  out["totalSeconds"] = Seconds(t_all);
  {
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) == 3) out["loadAverageAtEnd"] = {load[0], load[1], load[2]};
  }

  // The human table.
  auto row = [](const char* what, json& s) {
    std::printf("  %-34s %10.1f/s  p50 %8.2f ms  p99 %8.2f ms\n", what, s["opsPerSecond"].get<double>(),
                s["p50Ms"].get<double>(), s["p99Ms"].get<double>());
  };
  std::printf("scale_bench: %llu reports, %llu patients, %s blocks, built in %.0f s\n",
              static_cast<unsigned long long>(o.reports), static_cast<unsigned long long>(patients),
              out.contains("blocks") ? out["blocks"].dump().c_str() : "?", out["buildSeconds"].get<double>());
  row("register patient", out["registerPatients"]);
  for (auto& seg : out["submit"]) {
    std::string what = "submit " + seg["from"].dump() + ".." + seg["to"].dump();
    row(what.c_str(), seg);
  }
  for (auto& [k, v] : out["reads"].items()) row(("read as author, " + k).c_str(), v);
  row("list first page (25)", out["listing"]["firstPage"]);
  row(("list page " + std::to_string(listing->deep_page) + " (bookmarks)").c_str(), out["listing"]["deepPage"]);
  std::printf(
      "  memory: after build RSS %ld MiB (peak %ld MiB); after close %ld MiB; re-opened RSS %ld MiB (+%ld MiB)\n",
      memory["afterBuild"]["rssKb"].get<long>() / 1024, memory["afterBuild"]["hwmKb"].get<long>() / 1024,
      memory["afterClose"]["rssKb"].get<long>() / 1024, memory["afterReopen"]["rssKb"].get<long>() / 1024,
      memory["afterReopen"]["rssGrowthKb"].get<long>() / 1024);
  for (auto& c : memory["afterReopen"]["components"]) {
    std::printf("    open %-20s %8.3f s  RSS %+8ld KiB (%.1f B/report)\n", c["component"].get<std::string>().c_str(),
                c["seconds"].get<double>(), c["rssDeltaKb"].get<long>(),
                static_cast<double>(c["rssDeltaKb"].get<long>()) * 1024.0 / static_cast<double>(o.reports));
  }
  std::printf("  start: clean open %.3f s; open after kill -9 %.3f s\n", start["cleanOpenSeconds"].get<double>(),
              start["afterKillOpenSeconds"].get<double>());
  std::printf("  disk: %.0f B/report in all\n", out["disk"]["bytesPerReport"].get<double>());
  for (auto& [k, v] : out["disk"]["stores"].items()) {
    std::printf("    %-24s %14llu B  %9.1f B/report\n", k.c_str(), v["bytes"].get<unsigned long long>(),
                v["bytesPerReport"].get<double>());
  }
  for (auto& [k, v] : out["disk"]["stateColumnFamilies"].items()) {
    std::printf("      state column family %-10s %14llu B  %9.1f B/report\n", k.c_str(), v.get<unsigned long long>(),
                static_cast<double>(v.get<unsigned long long>()) / static_cast<double>(o.reports));
  }
  std::printf("%s\n", out.dump().c_str());
  if (!o.json_file.empty()) std::ofstream(o.json_file) << out.dump(2) << "\n";
  if (!o.keep) fs::remove_all(data, ec);

  sane = sane && out["disk"]["totalBytes"].get<uint64_t>() > 0 && memory["afterBuild"]["rssKb"].get<long>() > 0;
  if (!sane) {
    std::fprintf(stderr, "scale_bench: a figure is not sane (short page, failed read)\n");
    return 1;
  }
  return 0;
}
