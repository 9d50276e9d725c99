// `medledger serve`: the HTTP API and web app over the embedded ledger and content store.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/commands.h"
#include "app/consortium_setup.h"
#include "app/erasure_journal.h"
#include "app/recovering_ledger.h"
#include "app/report_keys.h"
#include "app/report_log_setup.h"
#include "auth/auth_service.h"
#include "auth/backend_services.h"
#include "auth/oidc.h"
#include "auth/smart_auth.h"
#include "common/encoding.h"
#include "common/shared_flush.h"
#include "content/embedded_store.h"
#include "content/keystore.h"
#include "content/kubo_store.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "fhir/bulk_export.h"
#include "http/app.h"
#include "http/server.h"
#include "identity/organization.h"
#include "io/env.h"
#include "io/posix_util.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "ledger/fabric/gateway_ledger.h"
#include "net/http_client.h"
#include "reportlog/log_files.h"
#include "service/bulk_groups.h"
#include "service/erasure.h"
#include "service/idempotency_store.h"
#include "service/patient_directory.h"
#include "service/records_service.h"
#include "service/report_log.h"
#include "service/user_admin.h"
#include "service/user_event_outbox.h"
#include "tsa/timestamp_token.h"
#include "tsa/tsa_client.h"

namespace medledger::app {
namespace {

namespace fs = std::filesystem;

struct ServeOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;
  std::string tls_key;
  std::string web_dir;
  std::string issuer;
  std::string log_level = "info";
  bool demo = false;
  int read_timeout_ms = 10000;
  int idle_timeout_ms = 30000;
  size_t max_connections = 1024;
  size_t max_connections_per_address = 0;  // 0: max_connections / 8
  size_t max_body_bytes = 8 * 1024 * 1024;
  size_t max_public_body_bytes = 64 * 1024;
  size_t max_body_bytes_in_flight = 256u * 1024 * 1024;
  std::string metrics_listen;  // HOST:PORT of the unauthenticated metrics listener; empty: none
  // A submission holds its worker until its block commits, so workers bound the transactions in flight and
  // with them the ledger's blocks: 48 measured best at 64 connections on 2 cores (docs/BENCHMARKS.md).
  size_t worker_threads = 48;
  bool fast_passwords = false;
  std::string ledger_kind = "embedded";   // or "fabric"
  std::string fabric_config;              // with --ledger fabric
  std::string content_kind = "embedded";  // or "kubo"
  std::string ipfs_url = "http://127.0.0.1:5001";
  std::string oidc_issuer;  // external OpenID Connect provider (optional)
  std::string oidc_client_id;
  std::string oidc_username_claim = "preferred_username";
  std::string oidc_role_claim = "role";
  std::string oidc_role_map;
  bool two_person_enrollment = false;
  int recent_enrollment_days = 30;
  // The report log (docs/RECEIPTS.md).
  std::string log_origin;  // default medledger/<mspId>/reports
  std::vector<std::string> witnesses;
  int min_witnesses = 0;
  int checkpoint_interval_ms = 1000;
  std::string tsa_url;     // RFC 3161 time-stamping authority for checkpoints
  std::string tsa_root;    // its root certificate(s), PEM, published in the trust bundle
  std::string consortium;  // consortium.json: other hospitals on the same channel (docs/CONSORTIUM.md)
};

struct DemoUser {
  const char* username;
  identity::Role role;
  const char* display;
};

constexpr DemoUser kDemoUsers[] = {
    {"admin", identity::Role::kAdmin, "Ada Admin"},
    {"dr.house", identity::Role::kDoctor, "Dr. Gregory House"},
    {"dr.grey", identity::Role::kDoctor, "Dr. Meredith Grey"},
    {"alice", identity::Role::kPatient, "Alice Patient"},
    {"bob", identity::Role::kPatient, "Bob Patient"},
    {"audrey", identity::Role::kAuditor, "Audrey Auditor"},
};

int Fail(const Error& e) {
  std::cerr << "medledger serve: " << e.ToString() << "\n";
  return 1;
}

bool DirEmptyOrAbsent(const fs::path& dir) {
  std::error_code ec;
  return !fs::exists(dir, ec) || fs::is_empty(dir, ec);
}

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return MakeError(ErrorKind::kInvalidArgument, "bad_listen", "--listen HOST:PORT");
  std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return MakeError(ErrorKind::kInvalidArgument, "bad_listen", "bad port in --listen");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// Creates the demo organisation and users; the passwords go to DIR/demo-credentials.txt (0600) and to the
// terminal once, never to the log.
Result<std::unique_ptr<identity::Organization>> CreateDemo(const ServeOptions& o,
                                                           const identity::OrganizationOptions& org_options) {
  identity::CreateOrganizationOptions create;
  create.password_cost = org_options.password_cost;
  std::string creds = "# medledger demo credentials (username role password)\n";
  std::string admin_pw = "demo-" + crypto::RandomHex(6);
  create.admin_password = admin_pw;
  ML_ASSIGN_OR_RETURN(auto org, identity::Organization::Create(o.data_dir, "Demo Hospital", create));
  creds += std::string("admin admin ") + admin_pw + "\n";
  for (const auto& u : kDemoUsers) {
    if (std::string(u.username) == "admin") continue;
    std::string pw = "demo-" + crypto::RandomHex(6);
    ML_RETURN_IF_ERROR(org->AddUser(identity::NewUser{u.username, u.role, u.display, pw}));
    creds += std::string(u.username) + " " + identity::RoleName(u.role) + " " + pw + "\n";
  }
  fs::path file = fs::path(o.data_dir) / "demo-credentials.txt";
  // Created 0600 with O_EXCL (never readable by others, not even empty and briefly: a reader who opened it
  // then could read the passwords later through that descriptor), fsynced, and never through a planted link.
  ML_RETURN_IF_ERROR(io::CreateFileExclusive(*io::Env::Default(), file, creds));
  std::cout << "Demo organisation created. Sign in with (also in " << file.string() << "):\n" << creds << std::flush;
  return org;
}

auth::Principal PrincipalOf(identity::Organization& org, const std::string& username,
                            service::PatientDirectory& patients) {
  auto user = org.users().GetUser(username);
  auth::Principal p;
  p.username = username;
  p.role = user.ok() ? user->role : identity::Role::kPatient;
  p.display_name = user.ok() ? user->display_name : username;
  p.patient_id = patients.ForUsername(username);
  return p;
}

Status SeedDemo(identity::Organization& org, service::RecordsService& records, service::PatientDirectory& patients) {
  auto admin = PrincipalOf(org, "admin", patients);
  struct P {
    const char* mrn;
    const char* name;
    const char* birth;
    const char* username;
  };
  const P people[] = {{"MRN-1001", "Alice Example", "1984-03-12", "alice"},
                      {"MRN-1002", "Bob Example", "1979-11-02", "bob"},
                      {"MRN-1003", "Carol Example", "1992-07-21", ""}};
  std::vector<std::string> ids;
  for (const auto& p : people) {
    ML_ASSIGN_OR_RETURN(auto v, records.RegisterPatient(admin, {p.mrn, p.name, p.birth, p.username}, nullptr));
    ids.push_back(v.patient_id);
  }
  auto house = PrincipalOf(org, "dr.house", patients);
  auto grey = PrincipalOf(org, "dr.grey", patients);
  const char* titles[] = {"Initial consultation", "Follow-up: lab results", "Discharge summary"};
  for (size_t i = 0; i < ids.size(); ++i) {
    service::ReportInput in;
    in.patient_id = ids[i];
    in.title = titles[i];
    in.diagnosis = "Seasonal influenza (J11.1)";
    in.content = "Patient presented with fever and cough for three days. Rest, fluids and review in one week.";
    ML_RETURN_IF_ERROR(records.SubmitReport(i == 1 ? grey : house, in, "", "", nullptr));
  }
  // The demo's doctors are in the consortium directory, so the consent screen can offer them.
  for (const auto& u : kDemoUsers) {
    if (u.role == identity::Role::kDoctor)
      ML_RETURN_IF_ERROR(records.PublishClinician(admin, u.username, u.display, true));
  }
  return OkStatus();
}

int RunServe(const ServeOptions& o) {
  spdlog::set_pattern("%v");
  spdlog::set_level(spdlog::level::from_str(o.log_level));

  // Signals are taken synchronously by this thread; block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto listen = ParseListen(o.listen);
  if (!listen.ok()) return Fail(listen.error());
  // The one disk every store below reaches through (tests build the same stack over a fault-injecting Env).
  io::Env* env = io::Env::Default();
  identity::OrganizationOptions org_options;
  org_options.env = env;
  if (o.fast_passwords) org_options.password_cost = identity::PasswordCost::Minimal();

  bool fresh_demo = o.demo && DirEmptyOrAbsent(o.data_dir);
  std::unique_ptr<identity::Organization> org;
  if (fresh_demo) {
    auto created = CreateDemo(o, org_options);
    if (!created.ok()) return Fail(created.error());
    org = std::move(*created);
  } else {
    auto opened = identity::Organization::Open(o.data_dir, org_options);
    if (!opened.ok()) return Fail(opened.error());
    org = std::move(*opened);
  }
  fs::path data(o.data_dir);
  fs::path server_dir = data / "server";

  // Only this block knows which ledger and content store run; everything after works on the interfaces.
  std::unique_ptr<content::ContentStore> store;
  if (o.content_kind == "kubo") {
    content::KuboOptions kubo;
    kubo.url = o.ipfs_url;
    auto created = content::KuboStore::Create(kubo);
    if (!created.ok()) return Fail(created.error());
    store = std::move(*created);
  } else {
    // Blocks and pins are flushed by the per-report durability barrier below, not one by one.
    content::EmbeddedStoreOptions store_options;
    store_options.sync = false;
    store_options.env = env;
    auto opened = content::EmbeddedStore::Open(data / "content", store_options);
    if (!opened.ok()) return Fail(opened.error());
    store = std::move(*opened);
  }
  std::unique_ptr<RecoveringLedger> embedded;
  std::unique_ptr<ledger::fabric::GatewayLedger> gateway;
  ledger::Ledger* ledger_ptr = nullptr;
  if (o.ledger_kind == "fabric") {
    auto config = ledger::fabric::LoadFabricConfig(o.fabric_config);
    if (!config.ok()) return Fail(config.error());
    if (config->msp_id != org->msp_id()) {
      return Fail(MakeError(ErrorKind::kInvalidArgument, "msp_mismatch",
                            "the Fabric config's mspId differs from the organisation's (" + org->msp_id() + ")"));
    }
    auto connected = ledger::fabric::GatewayLedger::Connect(*config);
    if (!connected.ok()) return Fail(connected.error());
    gateway = std::move(*connected);
    // Chain information and proofs (qscc) are read with the organisation admin's identity.
    auto admin = org->LoadIdentity("admin");
    if (!admin.ok()) return Fail(admin.error());
    gateway->SetQueryIdentity(std::make_shared<identity::SigningIdentity>(std::move(*admin)));
    ledger_ptr = gateway.get();
  } else {
    auto ledger_options = ledger::embedded::OptionsForOrganization(*org, contract::NewRecordsContract());
    ledger_options.genesis_block = true;  // a --demo organisation's chain starts here
    ledger_options.env = env;
    // Reopened after a block it could not store (a passing disk fault), so the server recovers by itself.
    auto opened =
        RecoveringLedger::Open([ledger_options] { return ledger::embedded::EmbeddedLedger::Open(ledger_options); });
    if (!opened.ok()) return Fail(opened.error());
    embedded = std::move(*opened);
    ledger_ptr = embedded.get();
  }
  // The report log follows the chain on either ledger and anchors its checkpoints with the organisation's
  // service identity.
  const std::string origin = o.log_origin.empty() ? "medledger/" + org->msp_id() + "/reports" : o.log_origin;
  auto log_key = LoadOrCreateLogKey(data, org->master_key(), origin);
  if (!log_key.ok()) return Fail(log_key.error());
  auto witness_keys = ParseWitnessKeys(o.witnesses);
  if (!witness_keys.ok()) return Fail(witness_keys.error());
  auto anchor_identity = org->ServiceIdentity();
  if (!anchor_identity.ok()) return Fail(anchor_identity.error());
  service::ReportLogOptions log_options;
  log_options.dir = data / reportlog::files::kLogDir;
  log_options.origin = origin;
  log_options.witnesses = *witness_keys;
  log_options.checkpoint_interval = std::chrono::milliseconds(o.checkpoint_interval_ms);
  log_options.env = env;
  std::string tsa_roots_pem;
  if (!o.tsa_url.empty()) {
    if (o.tsa_root.empty()) {
      return Fail(MakeError(ErrorKind::kInvalidArgument, "tsa_root_required",
                            "--tsa-url needs --tsa-root: verifiers must know which TSA to trust"));
    }
    auto roots = io::ReadFile(*io::Env::Default(), o.tsa_root);
    if (!roots.ok()) return Fail(roots.error());
    tsa_roots_pem = *roots;
    log_options.timestamper = [client = tsa::TsaClient(net::MakePostTransport(o.tsa_url, tsa::kQueryContentType,
                                                                              tsa::kReplyContentType, 5000)),
                               roots = tsa_roots_pem](std::string_view note) -> Result<std::string> {
      ML_ASSIGN_OR_RETURN(std::string token, client.Timestamp(crypto::Sha256(note)));
      // A token that our own verifiers would refuse (wrong TSA, bad chain) is not worth publishing.
      if (auto checked = tsa::VerifyToken(token, note, roots); !checked.ok()) return checked.error();
      return token;
    };
  }
  log_options.anchor = [ledger_ptr, who = std::make_shared<identity::SigningIdentity>(std::move(*anchor_identity)),
                        origin](const tlog::Checkpoint& c) -> Result<std::string> {
    nlohmann::json arg = {{"origin", origin}, {"treeSize", c.size}, {"rootHash", HexEncode(c.root_hash)}};
    ML_ASSIGN_OR_RETURN(auto receipt, ledger_ptr->Submit(*who, {"AnchorCheckpoint", {arg.dump()}}));
    return receipt.tx_id;
  };
  auto report_log = service::ReportLog::Open(*ledger_ptr, std::move(*log_key), std::move(log_options));
  if (!report_log.ok()) return Fail(report_log.error());
  TrustBundle trust;
  trust.org_roots_pem = {org->ca_certificate().ToPem()};
  trust.log_vkey = (*report_log)->verifier().ToString();
  trust.witness_vkeys = o.witnesses;
  trust.min_witnesses = o.min_witnesses;
  if (!tsa_roots_pem.empty()) trust.tsa_roots_pem = {tsa_roots_pem};
  const std::string trust_json = TrustBundleJson(trust);
  // Public information, kept next to the log for `medledger log export-trust`.
  if (Status s = io::WriteFileAtomic(*env, data / reportlog::files::kLogDir / reportlog::files::kTrust, trust_json);
      !s.ok())
    return Fail(s.error());
  (*report_log)->Start();

  auto patients = service::PatientDirectory::Open(server_dir / "patients", org->master_key(), env);
  if (!patients.ok()) return Fail(patients.error());
  auto keystore = OpenReportKeystore(data, org->master_key(), /*sync_stores=*/false, env);
  if (!keystore.ok()) return Fail(keystore.error());
  content::ReportVault vault(*store, **keystore);
  // Every erasure on the ledger whose keys are still here (a crash between the ledger and the keys, a keystore
  // restored from a backup) is completed before the listener starts: no request can read such a report.
  {
    auto reader_name = OrganizationAdministrator(*org, "");
    if (!reader_name.ok()) return Fail(reader_name.error());
    auto reader = org->LoadIdentity(*reader_name);
    if (!reader.ok()) return Fail(reader.error());
    auto reapplied = service::ReapplyLedgerErasures(*ledger_ptr, *reader, **keystore);
    if (!reapplied.ok()) return Fail(reapplied.error());
    spdlog::info(
        R"({{"msg":"erasures on the ledger re-applied","erasures":{},"reportsShredded":{},"keysDestroyed":{}}})",
        reapplied->erasures, reapplied->reports_shredded, reapplied->keys_destroyed);
  }
  auto idempotency = service::IdempotencyStore::Open(server_dir / "idempotency", env);
  if (!idempotency.ok()) return Fail(idempotency.error());

  bool tls = !o.tls_cert.empty();
  http::ServerOptions so;
  so.address = listen->first;
  so.port = listen->second;
  so.tls_cert_file = o.tls_cert;
  so.tls_key_file = o.tls_key;
  so.read_timeout = std::chrono::milliseconds(o.read_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
  so.max_connections = o.max_connections;
  so.max_connections_per_address = o.max_connections_per_address;
  so.max_body_bytes = o.max_body_bytes;
  so.public_body_bytes = o.max_public_body_bytes;
  so.max_body_bytes_in_flight = o.max_body_bytes_in_flight;
  so.worker_threads = o.worker_threads;
  // Bound first so that the token issuer can name the real port (--listen HOST:0); requests that arrive
  // before the application is ready get 503.
  std::atomic<http::App*> app_ptr{nullptr};
  so.admit_large_body = [&app_ptr](const http::Request& head) {
    http::App* a = app_ptr.load(std::memory_order_acquire);
    return a != nullptr ? a->AdmitLargeBody(head) : http::BodyAdmission{};
  };
  auto server = http::Server::Start(so, [&app_ptr](http::Request& req) {
    http::App* a = app_ptr.load(std::memory_order_acquire);
    if (a == nullptr) return http::JsonResponse(503, R"({"code":"starting","status":503})");
    return a->Handle(req);
  });
  if (!server.ok()) return Fail(server.error());
  auth::AuthConfig auth_config;
  const std::string base_url =
      std::string(tls ? "https://" : "http://") + listen->first + ":" + std::to_string((*server)->port());
  auth_config.issuer = o.issuer.empty() ? base_url : o.issuer;
  auto auth = auth::AuthService::Open(server_dir, org->master_key(), org->users(), auth_config, env);
  if (!auth.ok()) return Fail(auth.error());
  service::PatientDirectory* patients_ptr = patients->get();
  (*auth)->SetPatientResolver([patients_ptr](std::string_view u) { return patients_ptr->ForUsername(u); });
  auto smart_apps = auth::SmartAppRegistry::Open(server_dir / "smart-apps.sealed", org->master_key(), env);
  if (!smart_apps.ok()) return Fail(smart_apps.error());
  auth::SmartConfig smart_config;
  smart_config.issuer = (*auth)->config().issuer;
  smart_config.audience = (*auth)->config().audience;
  smart_config.fhir_base = smart_config.issuer + "/fhir/r4";
  smart_config.access_ttl_seconds = (*auth)->config().access_ttl_seconds;
  auth::SmartAuthorizer smart(**smart_apps, org->users(), (*auth)->signer(), smart_config);
  auto refresh_sealer = identity::SealedFiles::Create(org->master_key(), "smart-refresh-tokens", env);
  if (!refresh_sealer.ok()) return Fail(refresh_sealer.error());
  if (Status s = smart.PersistRefreshTokens(std::move(*refresh_sealer), server_dir / "smart-refresh.sealed"); !s.ok()) {
    return Fail(s.error());
  }
  // FHIR $export jobs: sealed NDJSON under DATA/server/bulk, one worker thread (docs/FHIR.md, Bulk Data).
  fhir::BulkExportOptions bulk_options;
  bulk_options.dir = server_dir / "bulk";
  auto bulk = fhir::BulkExports::Open(bulk_options, org->master_key(), env);
  if (!bulk.ok()) return Fail(bulk.error());
  // SMART Backend Services and the Groups system clients export (docs/FHIR.md, Backend services).
  auth::BackendConfig backend_config;
  backend_config.issuer = smart_config.issuer;
  backend_config.audience = smart_config.audience;
  backend_config.token_endpoint = smart_config.issuer + "/oauth2/token";
  auth::BackendServices backend(**smart_apps, org->users(), (*auth)->signer(), backend_config);
  auto bulk_groups = service::BulkGroupRegistry::Open(server_dir / "bulk-groups.sealed", org->master_key(), env);
  if (!bulk_groups.ok()) return Fail(bulk_groups.error());

  auto bookmarks = service::BookmarkSealer::Create(org->master_key());
  if (!bookmarks.ok()) return Fail(bookmarks.error());

  service::ServiceParts parts;
  parts.ledger = ledger_ptr;
  parts.content = store.get();
  parts.org = org.get();
  parts.patients = patients_ptr;
  parts.vault = &vault;
  parts.keystore = keystore->get();
  parts.erasure_journal = service::ErasureJournalPath(data);
  parts.env = env;
  // One syncfs covers a report's content block, pin and key file (several fsyncs each otherwise), and
  // concurrent reports share runs of it (SharedFlush): group commit for the stores.
  auto barrier = std::make_shared<SharedFlush>([env, dir = data] { return env->SyncFilesystem(dir.string()); });
  parts.durability_barrier = [barrier] { return barrier->Run(); };
  parts.idempotency = idempotency->get();
  parts.bookmarks = &*bookmarks;
  parts.log = report_log->get();
  std::unique_ptr<ConsortiumRuntime> consortium;
  if (!o.consortium.empty()) {
    service::ConsortiumParts cp;
    cp.ledger = ledger_ptr;
    cp.service_identity = [o = org.get()] { return o->ServiceIdentity(); };
    cp.content = store.get();
    cp.vault = &vault;
    auto started = StartConsortium(o.consortium, org->msp_id(), data, std::move(cp));
    if (!started.ok()) return Fail(started.error());
    consortium = std::move(*started);
    parts.consortium = consortium->service.get();
    for (const auto& m : consortium->config.members) parts.organizations.push_back({m.msp_id, m.display_name});
  }
  service::RecordsService records(parts);
  records.set_recent_enrollment_days(o.recent_enrollment_days);
  // User changes made with the CLI reach the ledger through the outbox, signed by the administrator it names.
  service::UserEventOutbox outbox(data, service::UserEventOutbox::kDefaultMaxBytes, env);
  auto drain_outbox = [&] {
    auto drained = outbox.Drain([&](const service::PendingUserEvent& e) -> Status {
      auth::Principal admin;
      admin.username = e.admin;
      admin.role = identity::Role::kAdmin;
      // Under the two-person rule a doctor enrolled with the CLI is held, exactly as over the API.
      bool pending = false;
      if (o.two_person_enrollment && e.action == "enrolled") {
        auto user = org->users().GetUser(e.username);
        pending = user.ok() && user->role == identity::Role::kDoctor;
        if (pending) ML_RETURN_IF_ERROR(org->users().SetDisabled(e.username, true));
      }
      Status s = records.RecordUserEvent(admin, e.action, e.username, "cli", pending);
      if (!s.ok()) {
        spdlog::warn(R"({{"msg":"user change not recorded on the ledger","action":"{}","code":"{}"}})", e.action,
                     s.error().code);
      }
      return s;
    });
    if (!drained.ok()) {
      spdlog::warn(R"({{"msg":"user change outbox unreadable","code":"{}"}})", drained.error().code);
    }
  };
  drain_outbox();

  if (fresh_demo) {
    auto seeded = SeedDemo(*org, records, *patients_ptr);
    if (!seeded.ok()) return Fail(seeded.error());
  }

  http::AppDeps deps;
  deps.auth = auth->get();
  deps.smart = &smart;
  deps.bulk = bulk->get();
  deps.backend = &backend;
  deps.groups = bulk_groups->get();
  deps.records = &records;
  service::UserAdminService user_admin(org.get(), &records, {.two_person_enrollment = o.two_person_enrollment});
  deps.users = &user_admin;
  deps.msp_id = org->msp_id();
  deps.ready = [ledger_ptr] { return ledger_ptr->GetChainInfo().ok(); };
  // On Fabric every peer validates each block as it commits; the full re-walk is an embedded-ledger tool, and
  // without a verifier the route answers 501.
  if (embedded) {
    deps.verify_ledger = [embedded_ptr = embedded.get()] {
      nlohmann::json j;
      auto report = embedded_ptr->Verify(ledger::embedded::VerifyOptions{});
      if (!report.ok()) {
        j = {{"ok", false}, {"error", report.error().code}};
      } else {
        j = {{"ok", report->ok}, {"blocks", report->blocks}, {"transactions", report->txs_valid + report->txs_invalid}};
        if (!report->ok) j["error"] = report->problem;
      }
      return j.dump();
    };
  }
  deps.log = report_log->get();
  deps.trust_bundle = trust_json;
  deps.gauges = [ledger_ptr, log = report_log->get(), members = consortium ? consortium->service.get() : nullptr] {
    std::map<std::string, double> g;
    if (members != nullptr) {
      g["medledger_consortium_key_releases"] = static_cast<double>(members->releases());
      g["medledger_consortium_key_refusals"] = static_cast<double>(members->refusals());
      g["medledger_consortium_replications_dropped"] = static_cast<double>(members->replications_dropped());
    }
    auto info = ledger_ptr->GetChainInfo();
    if (info.ok()) g["medledger_ledger_height"] = static_cast<double>(info->height);
    g["medledger_log_size"] = static_cast<double>(log->Size());
    if (auto latest = log->Latest()) {
      g["medledger_log_checkpoint_size"] = static_cast<double>(latest->checkpoint.size);
      g["medledger_log_checkpoint_cosignatures"] = static_cast<double>(latest->cosignatures.size());
    }
    return g;
  };
  http::AppOptions app_options;
  if (!o.web_dir.empty()) app_options.web_dir = o.web_dir;
  std::unique_ptr<auth::OidcProvider> oidc;
  if (!o.oidc_issuer.empty()) {
    auth::OidcConfig oc;
    oc.issuer = o.oidc_issuer;
    oc.client_id = o.oidc_client_id;
    oc.username_claim = o.oidc_username_claim;
    oc.role_claim = o.oidc_role_claim;
    auto role_map = auth::ParseRoleMap(o.oidc_role_map);
    if (!role_map.ok()) return Fail(role_map.error());
    oc.role_map = std::move(*role_map);
    if (oc.client_id.empty()) {
      return Fail(
          MakeError(ErrorKind::kInvalidArgument, "oidc_client_id_required", "--oidc-issuer needs --oidc-client-id"));
    }
    oidc = std::make_unique<auth::OidcProvider>(std::move(oc));
    app_options.oidc = oidc.get();
  }
  http::App app(std::move(deps), app_options);
  app_ptr.store(&app, std::memory_order_release);

  // Metrics without authentication, for a private operations network only (docs/SERVER.md).
  std::unique_ptr<http::Server> metrics_server;
  if (!o.metrics_listen.empty()) {
    auto metrics_listen = ParseListen(o.metrics_listen);
    if (!metrics_listen.ok()) return Fail(metrics_listen.error());
    http::ServerOptions mo;
    mo.address = metrics_listen->first;
    mo.port = metrics_listen->second;
    mo.max_connections = 16;
    mo.max_connections_per_address = 16;
    mo.max_body_bytes = 0;
    mo.public_body_bytes = 0;
    mo.max_body_bytes_in_flight = 0;
    mo.worker_threads = 1;
    auto started = http::Server::Start(mo, [&app](http::Request& req) { return app.HandleOps(req); });
    if (!started.ok()) return Fail(started.error());
    metrics_server = std::move(*started);
    std::cout << "medledger metrics on http://" << metrics_listen->first << ":" << metrics_server->port() << "/metrics"
              << std::endl;
  }

  // Tests and scripts read this line to learn the port when --listen asks for port 0.
  std::cout << "medledger serving on " << base_url << std::endl;

  // Between signals, every two seconds, record what the CLI queued meanwhile.
  int sig = -1;
  const timespec tick{2, 0};
  while ((sig = sigtimedwait(&signals, nullptr, &tick)) < 0) drain_outbox();
  spdlog::info(R"({{"msg":"shutting down","signal":{}}})", sig);
  if (metrics_server) metrics_server->Stop();
  (*server)->Stop();
  consortium.reset();
  (*report_log)->Stop();
  if (embedded) embedded->Close();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP API and web app");
  cmd->add_option("--data", o->data_dir, "Data directory (medledger init, or empty with --demo)")->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT (port 0: any free port)");
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate chain (enables TLS)");
  cmd->add_option("--tls-key", o->tls_key, "PEM private key");
  cmd->add_option("--web", o->web_dir, "Directory of the built web app");
  cmd->add_option("--oidc-issuer", o->oidc_issuer,
                  "External OpenID Connect provider (issuer URL); adds \"Sign in with your organisation\"");
  cmd->add_option("--oidc-client-id", o->oidc_client_id, "This app's client id at the provider (public client, PKCE)");
  cmd->add_option("--oidc-username-claim", o->oidc_username_claim,
                  "ID-token claim naming the enrolled medledger user (default preferred_username)");
  cmd->add_option("--oidc-role-claim", o->oidc_role_claim, "ID-token claim carrying the role (default role)");
  cmd->add_option("--oidc-role-map", o->oidc_role_map,
                  "provider_value=role,... (roles: admin, doctor, patient, auditor); default: the claim is the role");
  cmd->add_option("--issuer", o->issuer, "Token issuer URL (default: the listen URL)");
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error, off");
  cmd->add_option("--read-timeout-ms", o->read_timeout_ms, "Time a client has to send one request");
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms, "Keep-alive idle time");
  cmd->add_option("--max-connections", o->max_connections, "Connection cap");
  cmd->add_option("--max-body-bytes", o->max_body_bytes,
                  "Request body limit for authenticated routes with a bearer token that verifies");
  cmd->add_option("--max-public-body-bytes", o->max_public_body_bytes,
                  "Request body limit for everyone else (public routes, no or bad token)");
  cmd->add_option("--max-body-bytes-in-flight", o->max_body_bytes_in_flight,
                  "Bytes all request bodies being read or handled may hold together (over it: 503 server_busy)");
  cmd->add_option("--max-connections-per-address", o->max_connections_per_address,
                  "Connection cap per client address (IPv6: per /64); 0: --max-connections / 8");
  cmd->add_option("--metrics-listen", o->metrics_listen,
                  "HOST:PORT for GET /metrics without authentication (a private ops network); on the API "
                  "listener /metrics needs an admin or auditor token");
  cmd->add_option("--workers", o->worker_threads,
                  "Worker threads for request handling (each blocking request, e.g. a submission waiting for its "
                  "block, holds one)");
  cmd->add_option("--ledger", o->ledger_kind, "embedded (default) or fabric")
      ->check(CLI::IsMember({"embedded", "fabric"}));
  cmd->add_option("--fabric-config", o->fabric_config,
                  "With --ledger fabric: the peer/channel config file (docs/FABRIC.md)");
  cmd->add_option("--content", o->content_kind, "embedded (default) or kubo")
      ->check(CLI::IsMember({"embedded", "kubo"}));
  cmd->add_option("--ipfs-url", o->ipfs_url, "With --content kubo: the IPFS node's RPC API URL");
  cmd->add_option("--consortium", o->consortium,
                  "consortium.json: the other hospitals on this channel; opens the mutual-TLS listener for their "
                  "servers and reads their reports with released keys (docs/CONSORTIUM.md)");
  cmd->add_flag("--demo", o->demo, "On first run, create a demo organisation, users, patients and reports");
  cmd->add_flag("--two-person-enrollment", o->two_person_enrollment,
                "A doctor account works only after a second, different administrator approves it "
                "(POST /api/v1/users/{username}/approve)");
  cmd->add_option("--recent-enrollment-days", o->recent_enrollment_days,
                  "Break-glass within this many days of the actor's enrolment is flagged for the auditor")
      ->check(CLI::Range(0, 3650));
  cmd->add_option("--log-origin", o->log_origin,
                  "The report log's name in its checkpoints (default medledger/<mspId>/reports); fixed for life");
  cmd->add_option("--witness", o->witnesses,
                  "A witness whose cosignatures the log accepts: its verifier key <name>+<hex id>+<base64> "
                  "(medledger witness keygen); repeatable");
  cmd->add_option("--min-witnesses", o->min_witnesses,
                  "Cosignatures a receipt needs to verify (published in the trust bundle)")
      ->check(CLI::Range(0, 32));
  cmd->add_option("--tsa-url", o->tsa_url,
                  "RFC 3161 time-stamping authority (HTTP POST application/timestamp-query) for each checkpoint");
  cmd->add_option("--tsa-root", o->tsa_root, "With --tsa-url: the TSA's root certificate(s), PEM");
  cmd->add_option("--checkpoint-interval-ms", o->checkpoint_interval_ms,
                  "How often the report log signs a checkpoint while it grows")
      ->check(CLI::Range(100, 60000));
  cmd->add_flag("--insecure-fast-passwords", o->fast_passwords, "Minimal Argon2id cost (tests and benchmarks only)");
  cmd->callback([o] { std::exit(RunServe(*o)); });
}

}  // namespace medledger::app
