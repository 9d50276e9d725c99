// Faults at every I/O step of the whole server stack (issue 20, "Faults, through the seam"): the stores
// `medledger serve` composes (embedded ledger, embedded content store, keystore, patient directory,
// idempotency, auth, erasure journal) over one io::FaultInjectionEnv, driven through the App's HTTP handler.
//
// Each operation (submission, amendment, consent, erasure, key rotation) is first run once with no fault to
// count its I/O steps; then for every fault kind and every step N of that kind's class it is run again with
// the fault at step N. After each run: the answer is a clean problem+json (507 for a full disk, 503 for any
// other disk fault) or a success whose effect is fully there; every report acknowledged before reads back
// byte for byte; the listing and reads agree (nothing half-written is visible); the same stack (after a
// crash: the stack reopened over what a power cut leaves) serves the operation again; and the ledger
// verifies (the verifier of `medledger verify`, on the data directory after a crash).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "app/recovering_ledger.h"
#include "app/report_keys.h"
#include "auth/auth_service.h"
#include "common/shared_flush.h"
#include "content/embedded_store.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "identity/organization.h"
#include "io/fault_env.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "ledger/embedded/verifier.h"
#include "service/bookmarks.h"
#include "service/erasure.h"
#include "service/idempotency_store.h"
#include "service/patient_directory.h"
#include "service/records_service.h"
#include "service/user_admin.h"
#include "temp_dir.h"

namespace medledger {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kPassword = "fault-suite-password";

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    ADD_FAILURE() << what << ": " << r.error().ToString();
    std::abort();
  }
  return std::move(r).value();
}

// The composition of `medledger serve --ledger embedded --content embedded` (src/app/cmd_serve.cpp), every
// store on `env`. Left out: the report log (a background thread that signs checkpoints on a timer, so its
// I/O would make the step counts depend on timing), the user-event outbox drain, TLS and the listener.
class Stack {
 public:
  static std::unique_ptr<Stack> Open(const fs::path& data, io::Env* env) {
    auto s = std::unique_ptr<Stack>(new Stack());
    identity::OrganizationOptions org_options;
    org_options.password_cost = identity::PasswordCost::Minimal();
    org_options.env = env;
    s->org = Must(identity::Organization::Open(data, org_options), "open organisation");
    content::EmbeddedStoreOptions store_options;
    store_options.sync = false;  // flushed by the durability barrier, as in the program
    store_options.env = env;
    s->store = Must(content::EmbeddedStore::Open(data / "content", store_options), "open content store");
    auto ledger_options = ledger::embedded::OptionsForOrganization(*s->org, contract::NewRecordsContract());
    ledger_options.genesis_block = true;
    ledger_options.env = env;
    ledger_options.execute_threads = 1;
    ledger_options.verify_threads = 1;
    s->ledger = Must(app::RecoveringLedger::Open(
                         [ledger_options] { return ledger::embedded::EmbeddedLedger::Open(ledger_options); }),
                     "open ledger");
    s->patients = Must(service::PatientDirectory::Open(data / "server" / "patients", s->org->master_key(), env),
                       "open patient directory");
    s->keystore = Must(app::OpenReportKeystore(data, s->org->master_key(), /*sync_stores=*/false, env), "keystore");
    s->vault = std::make_unique<content::ReportVault>(*s->store, *s->keystore);
    auto reader = Must(s->org->LoadIdentity("admin"), "admin identity");
    Must(service::ReapplyLedgerErasures(*s->ledger, reader, *s->keystore), "reapply erasures");
    s->idempotency = Must(service::IdempotencyStore::Open(data / "server" / "idempotency", env), "idempotency");
    auth::AuthConfig auth_config;
    auth_config.issuer = "https://medledger.test";
    s->auth =
        Must(auth::AuthService::Open(data / "server", s->org->master_key(), s->org->users(), auth_config, env), "auth");
    service::PatientDirectory* patients = s->patients.get();
    s->auth->SetPatientResolver([patients](std::string_view u) { return patients->ForUsername(u); });
    s->bookmarks = std::make_unique<service::BookmarkSealer>(
        Must(service::BookmarkSealer::Create(s->org->master_key()), "bookmarks"));
    service::ServiceParts parts;
    parts.ledger = s->ledger.get();
    parts.content = s->store.get();
    parts.org = s->org.get();
    parts.patients = patients;
    parts.vault = s->vault.get();
    parts.keystore = s->keystore.get();
    parts.erasure_journal = service::ErasureJournalPath(data);
    parts.env = env;
    auto barrier = std::make_shared<SharedFlush>([env, dir = data] { return env->SyncFilesystem(dir.string()); });
    parts.durability_barrier = [barrier] { return barrier->Run(); };
    parts.idempotency = s->idempotency.get();
    parts.bookmarks = s->bookmarks.get();
    s->records = std::make_unique<service::RecordsService>(std::move(parts));
    http::AppDeps deps;
    deps.auth = s->auth.get();
    deps.records = s->records.get();
    s->users = std::make_unique<service::UserAdminService>(s->org.get(), s->records.get());
    deps.users = s->users.get();
    deps.msp_id = s->org->msp_id();
    deps.ready = [l = s->ledger.get()] { return l->GetChainInfo().ok(); };
    // As cmd_serve wires POST /api/v1/ledger/verify.
    deps.verify_ledger = [l = s->ledger.get()] {
      ledger::embedded::VerifyOptions vo;
      vo.chaincode = std::string(contract::kRecordsNamespace);
      auto report = l->Verify(vo);
      json j = report.ok() ? json{{"ok", report->ok}, {"error", report->problem}}
                           : json{{"ok", false}, {"error", report.error().code}};
      return j.dump();
    };
    s->app = std::make_unique<http::App>(std::move(deps), http::AppOptions{});
    return s;
  }

  ~Stack() {
    app.reset();
    records.reset();
    if (ledger) ledger->Close();
  }

  http::Response Call(const std::string& user, const std::string& method, const std::string& target,
                      const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.SetTarget(target);
    req.remote_address = "127.0.0.1";
    req.headers["authorization"] = "Bearer " + Token(user);
    if (!body.empty()) req.headers["content-type"] = "application/json";
    req.body = body;
    return app->Handle(req);
  }

  std::string Token(const std::string& user) {
    auto it = tokens_.find(user);
    if (it != tokens_.end()) return it->second;
    int64_t retry = 0;
    auto pair = Must(auth->Login(user, kPassword, "127.0.0.1", &retry), "login");
    return tokens_[user] = pair.access_token;
  }

  std::unique_ptr<identity::Organization> org;
  std::unique_ptr<content::EmbeddedStore> store;
  std::unique_ptr<app::RecoveringLedger> ledger;
  std::unique_ptr<service::PatientDirectory> patients;
  std::unique_ptr<content::FileKeystore> keystore;
  std::unique_ptr<content::ReportVault> vault;
  std::unique_ptr<service::IdempotencyStore> idempotency;
  std::unique_ptr<auth::AuthService> auth;
  std::unique_ptr<service::BookmarkSealer> bookmarks;
  std::unique_ptr<service::RecordsService> records;
  std::unique_ptr<service::UserAdminService> users;
  std::unique_ptr<http::App> app;

 private:
  Stack() = default;
  std::map<std::string, std::string> tokens_;
};

std::string ExpiresTomorrow() {
  const auto t = std::chrono::system_clock::now() + std::chrono::hours(24);
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
  return buf;
}

// A data directory with an organisation (admin, two doctors, a patient), the patient registered, a consent
// target published, and one report: copied fresh for each group of fault runs.
struct Baseline {
  fs::path dir;
  std::string patient_id;
  std::string report_id;  // dr.house's report on the patient
};

Baseline MakeBaseline(const fs::path& dir) {
  Baseline b;
  b.dir = dir;
  identity::CreateOrganizationOptions create;
  create.password_cost = identity::PasswordCost::Minimal();
  create.admin_password = kPassword;
  {
    auto org = Must(identity::Organization::Create(dir, "Fault Hospital", create), "create organisation");
    EXPECT_TRUE(org->AddUser(identity::NewUser{"dr.house", identity::Role::kDoctor, "Dr House", kPassword}).ok());
    EXPECT_TRUE(org->AddUser(identity::NewUser{"dr.grey", identity::Role::kDoctor, "Dr Grey", kPassword}).ok());
    EXPECT_TRUE(org->AddUser(identity::NewUser{"alice", identity::Role::kPatient, "Alice", kPassword}).ok());
  }
  auto s = Stack::Open(dir, io::Env::Default());
  auto p = s->Call(
      "admin", "POST", "/api/v1/patients",
      json{{"mrn", "MRN-1"}, {"name", "Alice Example"}, {"birthDate", "1984-03-12"}, {"username", "alice"}}.dump());
  EXPECT_EQ(p.status, 201) << p.body;
  b.patient_id = json::parse(p.body)["patientId"];
  auth::Principal admin;
  admin.username = "admin";
  admin.role = identity::Role::kAdmin;
  EXPECT_TRUE(s->records->PublishClinician(admin, "dr.grey", "Dr Grey", true).ok());
  auto r = s->Call(
      "dr.house", "POST", "/api/v1/reports",
      json{{"patientId", b.patient_id}, {"title", "Baseline"}, {"diagnosis", "J11.1"}, {"content", "baseline"}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  b.report_id = json::parse(r.body)["reportId"];
  return b;
}

// One operation under test: `prepare` runs with no fault (it may set up a target), `run` is the faulted call.
struct Operation {
  std::string name;
  std::function<std::string(Stack&, int)> prepare;                            // returns the target, if any
  std::function<http::Response(Stack&, const std::string& target, int)> run;  // the faulted request
};

std::string Submit(Stack& s, const std::string& patient, const std::string& content) {
  auto r =
      s.Call("dr.house", "POST", "/api/v1/reports",
             json{{"patientId", patient}, {"title", "Report"}, {"diagnosis", "J11.1"}, {"content", content}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? json::parse(r.body)["reportId"].get<std::string>() : std::string();
}

std::vector<Operation> Operations(const Baseline& b) {
  std::vector<Operation> ops;
  ops.push_back({"submission", [](Stack&, int) { return std::string(); },
                 [b](Stack& s, const std::string&, int i) {
                   return s.Call("dr.house", "POST", "/api/v1/reports",
                                 json{{"patientId", b.patient_id},
                                      {"title", "Faulted"},
                                      {"diagnosis", "J11.1"},
                                      {"content", "submission " + std::to_string(i)}}
                                     .dump());
                 }});
  ops.push_back({"amendment", [b](Stack& s, int i) { return Submit(s, b.patient_id, "to amend " + std::to_string(i)); },
                 [](Stack& s, const std::string& target, int i) {
                   return s.Call("dr.house", "POST", "/api/v1/reports/" + target + "/amendments",
                                 json{{"content", "amended " + std::to_string(i)}, {"reason", "correction"}}.dump());
                 }});
  ops.push_back({"consent grant", [](Stack&, int) { return std::string(); },
                 [b](Stack& s, const std::string&, int i) {
                   return s.Call("alice", "POST", "/api/v1/patients/" + b.patient_id + "/consents",
                                 json{{"doctor", "dr.grey"},
                                      {"purpose", "second opinion " + std::to_string(i)},
                                      {"expiresAt", ExpiresTomorrow()}}
                                     .dump());
                 }});
  ops.push_back({"erasure", [b](Stack& s, int i) { return Submit(s, b.patient_id, "to erase " + std::to_string(i)); },
                 [](Stack& s, const std::string& target, int) {
                   return s.Call("admin", "POST", "/api/v1/reports/" + target + "/erasure",
                                 json{{"reason", "patient_request"}}.dump());
                 }});
  // No route rotates the KEK: the keystore's own call, its error mapped as a handler would map it.
  ops.push_back({"key rotation", [](Stack&, int) { return std::string(); },
                 [](Stack& s, const std::string&, int) {
                   Status rotated = s.keystore->RotateKek();
                   return rotated.ok() ? http::JsonResponse(200, "{}") : http::FromError(rotated.error());
                 }});
  return ops;
}

// What the clients were told, to be found again after every fault.
struct Acknowledged {
  std::map<std::string, std::string> documents;  // report id -> its document as last read ("" not read yet)
  std::set<std::string> erased;
  std::string amending;  // the report the faulted operation targets (an amendment may leave the new version)
};

// Compares the listing with what the reports read; returns a description of the first disagreement. Each read
// is a ledger transaction, so besides new reports, the one under test and the baseline, reports checked
// before are read again only when `all` (after a power cut, when something acknowledged could be lost).
std::string CheckVisibleState(Stack& s, const Baseline& b, Acknowledged& acked, bool all = false) {
  auto list = s.Call("alice", "GET", "/api/v1/patients/" + b.patient_id + "/reports?pageSize=100");
  if (list.status != 200) return "listing answered " + std::to_string(list.status) + " " + list.body;
  std::set<std::string> listed;
  const json page = json::parse(list.body);
  for (const auto& item : page["items"]) listed.insert(item["reportId"].get<std::string>());
  for (const auto& [id, doc] : acked.documents) {
    if (!listed.count(id)) return "acknowledged report " + id + " is not listed";
  }
  for (const auto& id : listed) {
    auto known = acked.documents.find(id);
    const bool settled = (known != acked.documents.end() && !known->second.empty()) || acked.erased.count(id);
    if (!all && settled && id != b.report_id && id != acked.amending) continue;
    auto read = s.Call("alice", "GET", "/api/v1/reports/" + id + "/document");
    if (acked.erased.count(id)) {
      if (read.status != 410) return "erased report " + id + " answered " + std::to_string(read.status);
      continue;
    }
    if (read.status == 410) {
      acked.erased.insert(id);  // an erasure the ledger holds, acknowledged or not: now it must stay
      acked.documents.erase(id);
      continue;
    }
    if (read.status != 200) return "listed report " + id + " reads " + std::to_string(read.status) + " " + read.body;
    auto it = acked.documents.find(id);
    if (json::parse(read.body, nullptr, false).is_discarded()) return "report " + id + " reads a broken document";
    if (it == acked.documents.end() || it->second.empty()) {
      acked.documents[id] = read.body;  // a faulted write that completed, or one acknowledged: now it must stay
    } else if (it->second != read.body) {
      // Only the amendment under test may replace a document (it completed); anything else is a loss.
      if (id != acked.amending) return "report " + id + " changed: " + it->second + " -> " + read.body;
      it->second = read.body;
    }
  }
  return "";
}

struct Tally {
  uint64_t points = 0;    // steps of the fault's class in the operation
  uint64_t fired = 0;     // runs in which the armed fault failed a step
  uint64_t failed = 0;    // runs answered with the expected problem (507/503)
  uint64_t absorbed = 0;  // runs that succeeded anyway (a step after the point of no return), effect verified
};

class FaultStack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spdlog::set_level(spdlog::level::warn);  // one access-log line per request would drown the table
    root_ = std::make_unique<testing::TempDir>("fault-stack");
    baseline_ = MakeBaseline(root_->path() / "baseline");
  }
  static void TearDownTestSuite() { root_.reset(); }

  static std::unique_ptr<testing::TempDir> root_;
  static Baseline baseline_;
};
std::unique_ptr<testing::TempDir> FaultStack::root_;
Baseline FaultStack::baseline_;

uint64_t PointsFor(io::Fault fault, const io::StepCounts& c) {
  switch (fault) {
    case io::Fault::kNoSpace:
    case io::Fault::kWriteError:
    case io::Fault::kTornWrite: return c.appends;
    case io::Fault::kSyncError: return c.syncs;
    case io::Fault::kCrash: return c.mutations;
  }
  return 0;
}

int ExpectedStatus(io::Fault fault) {
  return fault == io::Fault::kNoSpace || fault == io::Fault::kTornWrite ? 507 : 503;
}

TEST_F(FaultStack, EveryOperationSurvivesAFaultAtEveryIoStep) {
  const Baseline& b = baseline_;
  const io::Fault kFaults[] = {io::Fault::kNoSpace, io::Fault::kWriteError, io::Fault::kTornWrite,
                               io::Fault::kSyncError, io::Fault::kCrash};
  std::vector<std::string> table;
  std::vector<std::string> step_lists;
  int serial = 0;
  for (const Operation& op : Operations(b)) {
    for (io::Fault fault : kFaults) {
      SCOPED_TRACE(op.name + " / " + io::FaultName(fault));
      const fs::path dir = root_->path() / ("run-" + std::to_string(serial++));
      fs::copy(b.dir, dir, fs::copy_options::recursive);
      io::FaultInjectionEnv env;
      auto stack = Stack::Open(dir, &env);
      Acknowledged acked;
      ASSERT_EQ(CheckVisibleState(*stack, b, acked), "");

      // Counting run: the operation's I/O steps with no fault, after a first run that creates what only the
      // first one creates (a new block file, a first line).
      std::string target = op.prepare(*stack, ++serial);
      ASSERT_LT(op.run(*stack, target, ++serial).status, 300);
      target = op.prepare(*stack, ++serial);
      env.ResetSteps();
      env.LogSteps(true);
      auto counted = op.run(*stack, target, ++serial);
      env.LogSteps(false);
      ASSERT_LT(counted.status, 300) << counted.body;
      Tally t;
      t.points = PointsFor(fault, env.steps());
      ASSERT_GT(t.points, 0u);
      if (fault == io::Fault::kCrash) {
        std::string steps;
        for (std::string step : env.step_log()) {
          if (auto at = step.find(dir.string()); at != std::string::npos) step.erase(at, dir.string().size() + 1);
          steps += "  " + step + "\n";
        }
        step_lists.push_back(op.name + " (" + std::to_string(t.points) + " steps):\n" + steps);
      }

      for (uint64_t n = 1; n <= t.points; ++n) {
        SCOPED_TRACE("step " + std::to_string(n) + " of " + std::to_string(t.points));
        // Background work (the content store sealing a pack, the orderer's timer) can shift a step: a run
        // the fault did not reach is an ordinary success and is repeated, up to three times.
        http::Response r;
        bool fired = false;
        for (int attempt = 0; attempt < 3 && !fired; ++attempt) {
          target = op.prepare(*stack, ++serial);
          acked.amending = target;
          ASSERT_EQ(CheckVisibleState(*stack, b, acked), "");
          env.ResetSteps();
          env.ArmFault(fault, n);
          r = op.run(*stack, target, ++serial);
          fired = env.fault_fired();
          env.ClearFaults();
          if (!fired) {
            ASSERT_LT(r.status, 300) << r.body;
          }
        }
        t.fired += fired ? 1 : 0;
        EXPECT_TRUE(fired) << "three runs took fewer steps than when counted";
        if (r.status < 300) {
          ++t.absorbed;
          // Acknowledged: it must be there from now on, crash or not.
          if (op.name == "submission") acked.documents[json::parse(r.body)["reportId"].get<std::string>()] = "";
          if (op.name == "amendment") acked.documents[target] = "";
          if (op.name == "erasure") {
            acked.erased.insert(target);
            acked.documents.erase(target);
          }
        } else {
          EXPECT_EQ(r.status, ExpectedStatus(fault)) << r.body;
          EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << r.body;
          if (r.status == ExpectedStatus(fault)) ++t.failed;
        }
        if (fault == io::Fault::kCrash) {
          stack.reset();
          ASSERT_TRUE(env.DropUnsyncedData().ok());
          ledger::embedded::VerifyOptions vo;
          vo.chaincode = std::string(contract::kRecordsNamespace);
          auto verified = ledger::embedded::VerifyDataDir(dir.string(), vo);
          ASSERT_TRUE(verified.ok()) << verified.error().ToString();
          EXPECT_TRUE(verified->ok) << verified->problem;
          stack = Stack::Open(dir, &env);
        }
        EXPECT_EQ(CheckVisibleState(*stack, b, acked, fault == io::Fault::kCrash), "");
        // The same stack (after a crash, the reopened one) serves the operation again, with no one's help.
        acked.amending.clear();
        target = op.prepare(*stack, ++serial);
        auto again = op.run(*stack, target, ++serial);
        EXPECT_LT(again.status, 300) << "not recovered: " << again.body;
        if (again.status >= 300) {
          // Carry on from a restart, so one stuck case does not hide the others.
          stack.reset();
          stack = Stack::Open(dir, &env);
        }
      }
      auto verified = stack->Call("admin", "POST", "/api/v1/ledger/verify");
      EXPECT_EQ(verified.status, 200) << verified.body;
      EXPECT_EQ(json::parse(verified.body)["ok"], true) << verified.body;
      stack.reset();
      fs::remove_all(dir);
      char line[160];
      std::snprintf(line, sizeof line, "%-14s %-11s %6llu %6llu %6llu %8llu", op.name.c_str(), io::FaultName(fault),
                    static_cast<unsigned long long>(t.points), static_cast<unsigned long long>(t.fired),
                    static_cast<unsigned long long>(t.failed), static_cast<unsigned long long>(t.absorbed));
      table.push_back(line);
      EXPECT_EQ(t.fired, t.points);
    }
  }
  std::printf("%-14s %-11s %6s %6s %6s %8s\n", "operation", "fault", "points", "fired", "failed", "absorbed");
  for (const auto& l : table) std::printf("%s\n", l.c_str());
  for (const auto& l : step_lists) std::printf("%s", l.c_str());
}

}  // namespace
}  // namespace medledger
