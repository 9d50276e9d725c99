// `medledger verify` and `medledger ledger submit|query|info|proof`: the embedded ledger from the shell.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "app/progress.h"
#include "common/encoding.h"
#include "contract/records_contract.h"
#include "identity/organization.h"
#include "ledger/embedded/data_dir.h"
#include "ledger/embedded/embedded_ledger.h"
#include "ledger/storage/block_store.h"
#include "reportlog/log_audit.h"
#include "reportlog/log_files.h"

namespace medledger::app {
namespace {

using nlohmann::json;

// The contract's payload as JSON when it is JSON, else as a string.
json PayloadJson(const std::string& payload) {
  if (payload.empty()) return nullptr;
  json parsed = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) return parsed;
  if (IsValidUtf8(payload)) return payload;
  return json{{"base64", Base64Encode(payload)}};
}

// --args is a JSON array (strings pass as they are, anything else as its compact JSON text) or one JSON
// object, passed as the single argument the records contract takes.
std::vector<std::string> ParseArgs(const std::string& text) {
  if (text.empty()) return {};
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object()) return {parsed.dump()};
  if (parsed.is_discarded() || !parsed.is_array()) {
    Fail(MakeError(ErrorKind::kInvalidArgument, "bad_args",
                   "--args must be a JSON object or array, e.g. '{\"reportId\":\"r1\"}' or '[\"a\", {\"k\":1}]'"));
  }
  std::vector<std::string> out;
  for (const auto& a : parsed) out.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  return out;
}

struct LedgerSession {
  std::unique_ptr<identity::Organization> org;
  std::unique_ptr<ledger::embedded::EmbeddedLedger> ledger;
};

LedgerSession OpenSession(const std::string& data_dir) {
  LedgerSession s;
  s.org = OrFail(identity::Organization::Open(data_dir));
  std::shared_ptr<contract::Contract> records = contract::NewRecordsContract();
  auto options = ledger::embedded::OptionsForOrganization(*s.org, std::move(records));
  options.chaincode = std::string(contract::kRecordsNamespace);
  options.genesis_block = true;
  options.batch.timeout_ms = 1;  // one transaction: cut at once
  s.ledger = OrFail(ledger::embedded::EmbeddedLedger::Open(std::move(options)));
  return s;
}

struct CallOptions {
  std::string data_dir;
  std::string user;
  std::string function;
  std::string args = "[]";
};

void RunSubmit(const CallOptions& o) {
  auto session = OpenSession(o.data_dir);
  auto caller = OrFail(session.org->LoadIdentity(o.user));
  auto receipt = OrFail(session.ledger->Submit(caller, {o.function, ParseArgs(o.args)}));
  json out = {{"txId", receipt.tx_id},
              {"blockNumber", receipt.block_number},
              {"blockHash", receipt.block_hash},
              {"timestamp", receipt.timestamp.ToRfc3339()},
              {"payload", PayloadJson(receipt.payload)}};
  std::cout << out.dump(2) << "\n";
}

void RunQuery(const CallOptions& o) {
  auto session = OpenSession(o.data_dir);
  auto caller = OrFail(session.org->LoadIdentity(o.user));
  auto payload = OrFail(session.ledger->Evaluate(caller, {o.function, ParseArgs(o.args)}));
  std::cout << PayloadJson(payload).dump(2) << "\n";
}

void RunInfo(const std::string& data_dir) {
  auto session = OpenSession(data_dir);
  auto info = OrFail(session.ledger->GetChainInfo());
  std::cout
      << json{{"height", info.height}, {"currentHash", info.current_hash}, {"previousHash", info.previous_hash}}.dump(2)
      << "\n";
}

void RunProof(const std::string& data_dir, const std::string& tx_id) {
  auto session = OpenSession(data_dir);
  auto p = OrFail(session.ledger->GetTransactionProof(tx_id));
  std::cout << json{{"txId", p.tx_id},
                    {"blockNumber", p.block_number},
                    {"txIndex", p.tx_index},
                    {"validationCode", p.validation_code},
                    {"blockHash", p.block_hash},
                    {"previousHash", p.previous_hash},
                    {"dataHash", p.data_hash},
                    {"blockHeader", Base64Encode(p.block_header)},
                    {"ordererSignature", Base64Encode(p.orderer_signature)},
                    {"envelope", Base64Encode(p.envelope)}}
                   .dump(2)
            << "\n";
}

struct VerifyCliOptions {
  std::string data_dir;
  // Blocks between updates of the progress display (0: no progress); the display itself redraws at most
  // every 100 ms on a terminal and prints a line every `progress_seconds` elsewhere.
  uint64_t progress_every = 1;
  unsigned progress_seconds = 5;
  size_t threads = 0;  // 0: one per core
  bool full = false;   // ignore the verify checkpoint
  bool json_output = false;
};

// Starts the progress display on stderr for one phase of verify, unless progress is off.
void StartProgress(std::optional<Progress>& p, const VerifyCliOptions& o, const std::string& label) {
  if (o.progress_every == 0) return;
  p.emplace(label, 0, "blocks", std::cerr);
  p->line_interval = std::chrono::seconds(o.progress_seconds);
}

// The report log (DATA/log) against the blocks it was derived from: leaves, anchors, saved checkpoints.
reportlog::LogAuditReport AuditReportLog(const VerifyCliOptions& o) {
  auto blocks = OrFail(ledger::storage::BlockStore::Open(ledger::embedded::LedgerDirFor(o.data_dir) + "/blocks",
                                                         nullptr, {.verify_tail_bytes = 0, .read_only = true}));
  auto opened = OrFail(reportlog::OpenStoredLog(std::filesystem::path(o.data_dir) / reportlog::files::kLogDir));
  reportlog::LogAuditOptions lo;
  lo.chaincode = std::string(contract::kRecordsNamespace);
  std::optional<Progress> progress;
  StartProgress(progress, o, "report log: re-deriving");
  lo.progress_every = o.progress_every;
  if (progress) {
    lo.progress = [&progress](uint64_t done, uint64_t height) {
      progress->SetTotal(height);
      progress->Update(done);
    };
  }
  const ledger::storage::BlockStore& store = *blocks;
  if (progress) progress->SetTotal(store.Height());
  auto report =
      OrFail(reportlog::AuditLog([&store](uint64_t n) { return store.Read(n); }, store.Height(), opened.stored, lo));
  if (progress) {
    progress->Update(report.blocks);
    progress->Finish();
  }
  return report;
}

json LogAuditJson(const reportlog::LogAuditReport& r) {
  json out = {{"ok", r.ok},
              {"blocks", r.blocks},
              {"leaves", r.leaves},
              {"stored", r.stored},
              {"storedSize", r.stored_size},
              {"storedCursor", r.stored_cursor},
              {"anchors", r.anchors},
              {"checkpoints", r.checkpoints},
              {"cosignatures", r.cosignatures},
              {"unknownCosignatures", r.unknown_cosignatures}};
  if (!r.ok) {
    out["problem"] = r.problem;
    out["at"] = r.at ? json(*r.at) : json(nullptr);
    out["detail"] = r.detail;
  }
  return out;
}

void PrintLogAudit(const reportlog::LogAuditReport& r) {
  if (!r.ok) {
    std::cerr << "report log verification FAILED: " << r.problem;
    if (r.at) std::cerr << " at " << *r.at;
    std::cerr << ": " << r.detail << "\n";
    return;
  }
  std::cout << "report log OK: " << r.leaves << " leaves re-derived from " << r.blocks << " blocks";
  if (r.stored) {
    std::cout << ", the stored tree's " << r.stored_size << " leaves (" << r.stored_cursor
              << " blocks folded in) match";
  } else {
    std::cout << ", no stored log";
  }
  std::cout << ", " << r.anchors << " anchors and " << r.checkpoints
            << " saved checkpoints match the re-derived roots, " << r.cosignatures << " cosignatures verify";
  if (r.unknown_cosignatures != 0) std::cout << " (" << r.unknown_cosignatures << " from unlisted witnesses)";
  std::cout << "\n";
}

void RunVerify(const VerifyCliOptions& o) {
  ledger::embedded::VerifyOptions vo;
  vo.chaincode = std::string(contract::kRecordsNamespace);
  vo.progress_every = o.progress_every;
  vo.threads = ledger::embedded::VerifyThreads(o.threads);
  vo.use_checkpoint = !o.full;
  vo.write_checkpoint = true;
  std::optional<Progress> progress;
  StartProgress(progress, o, "ledger: verifying");
  if (progress) {
    vo.progress = [&progress](uint64_t done, uint64_t height) {
      progress->SetTotal(height);
      progress->Update(done);
    };
  }
  auto report = OrFail(ledger::embedded::VerifyDataDir(o.data_dir, vo));
  if (progress) {
    progress->SetTotal(report.blocks);
    progress->Update(report.blocks);
    progress->Finish();
  }
  if (!report.checkpoint_error.empty()) {
    std::cerr << "note: the verify checkpoint was not written (the next run re-verifies every block): "
              << report.checkpoint_error << "\n";
  }
  // The log is derived from the blocks, so it is only worth checking against a chain that verified.
  std::optional<reportlog::LogAuditReport> log;
  if (report.ok) log = AuditReportLog(o);
  if (o.json_output) {
    json out = {{"ok", report.ok && log && log->ok},     {"blocks", report.blocks},
                {"txsValid", report.txs_valid},          {"txsInvalid", report.txs_invalid},
                {"configBlocks", report.config_blocks},  {"stateKeys", report.state_keys},
                {"stateLag", report.state_lag},          {"tornTailBytes", report.torn_tail_bytes},
                {"lastHash", report.last_hash},          {"log", log ? LogAuditJson(*log) : json(nullptr)},
                {"resumedBlocks", report.resumed_blocks}};
    if (!report.ok) {
      out["problem"] = report.problem;
      out["badBlock"] = report.bad_block ? json(*report.bad_block) : json(nullptr);
      out["badTx"] = report.bad_tx ? json(*report.bad_tx) : json(nullptr);
    } else if (!log->ok) {
      out["problem"] = log->problem;
    }
    std::cout << out.dump(2) << "\n";
  } else if (report.ok) {
    std::cout << "ledger OK: " << report.blocks << " blocks, " << report.txs_valid + report.txs_invalid
              << " transactions (" << report.txs_valid << " valid, " << report.txs_invalid << " invalid)"
              << (report.config_blocks != 0 ? " after the genesis configuration block" : "") << ", height "
              << report.blocks << ", last hash " << (report.last_hash.empty() ? "-" : report.last_hash) << ", "
              << report.state_keys << " state keys match";
    if (report.state_lag != 0) std::cout << " (as of " << report.state_lag << " blocks ago; replayed on next open)";
    if (report.resumed_blocks != 0) {
      std::cout << "; blocks 0.." << report.resumed_blocks - 1 << " are byte for byte those the verify run of "
                << report.resumed_from << " checked (signatures not re-verified; --full re-verifies them), ";
      if (report.resumed_blocks == report.blocks) {
        std::cout << "no block since";
      } else {
        std::cout << "blocks " << report.resumed_blocks << ".." << report.blocks - 1 << " fully verified";
      }
    }
    if (report.torn_tail_bytes != 0) {
      std::cout << "; " << report.torn_tail_bytes << " bytes of an unacknowledged partial block (crash) follow";
    }
    std::cout << "\n";
    PrintLogAudit(*log);
  } else {
    std::cerr << "ledger verification FAILED";
    if (report.bad_block) std::cerr << " at block " << *report.bad_block;
    if (report.bad_tx) std::cerr << ", transaction " << *report.bad_tx;
    std::cerr << ": " << report.problem << "\n";
  }
  if (!report.ok || !log->ok) throw CLI::RuntimeError(1);
}

}  // namespace

void AddLedgerCommands(CLI::App& app) {
  auto verify_opts = std::make_shared<VerifyCliOptions>();
  auto* verify = app.add_subcommand(
      "verify", "Re-check every block, signature and the state database, and the report log against the blocks");
  verify->add_option("--data", verify_opts->data_dir, "Data directory (from medledger init)")->required();
  verify->add_option("--threads", verify_opts->threads,
                     "Threads for signature and hash checks (default: one per core); the report is the same");
  verify->add_option("--progress-every", verify_opts->progress_every,
                     "Blocks between progress updates on stderr (default 1; 0: no progress)");
  verify->add_option("--progress-seconds", verify_opts->progress_seconds,
                     "Seconds between progress lines when stderr is not a terminal (default 5)");
  verify->add_flag("--full", verify_opts->full,
                   "Re-verify every block, ignoring DIR/ledger/verify-checkpoint.json from the last run");
  verify->add_flag("--json", verify_opts->json_output, "Print the report as JSON");
  verify->callback([verify_opts] { RunVerify(*verify_opts); });

  auto* ledger = app.add_subcommand("ledger", "Call the records contract on the embedded ledger");
  ledger->require_subcommand(1);
  for (const char* name : {"submit", "query"}) {
    auto opts = std::make_shared<CallOptions>();
    bool submit = std::string(name) == "submit";
    auto* cmd = ledger->add_subcommand(name, submit ? "Endorse, order and commit a transaction; prints the receipt"
                                                    : "Evaluate a read-only function; prints its payload");
    cmd->add_option("--data", opts->data_dir, "Data directory")->required();
    cmd->add_option("--as", opts->user, "User whose wallet identity signs the call")->required();
    cmd->add_option("--fn", opts->function, "Contract function, e.g. CreateReport")->required();
    cmd->add_option("--args", opts->args, "Arguments: a JSON object (one argument) or a JSON array");
    cmd->callback([opts, submit] { submit ? RunSubmit(*opts) : RunQuery(*opts); });
  }
  auto info_dir = std::make_shared<std::string>();
  auto* info = ledger->add_subcommand("info", "Chain height and hashes");
  info->add_option("--data", *info_dir, "Data directory")->required();
  info->callback([info_dir] { RunInfo(*info_dir); });
  auto proof_dir = std::make_shared<std::string>();
  auto proof_tx = std::make_shared<std::string>();
  auto* proof = ledger->add_subcommand("proof", "The block header, orderer signature and envelope of a transaction");
  proof->add_option("--data", *proof_dir, "Data directory")->required();
  proof->add_option("--tx", *proof_tx, "Transaction ID")->required();
  proof->callback([proof_dir, proof_tx] { RunProof(*proof_dir, *proof_tx); });
}

}  // namespace medledger::app
