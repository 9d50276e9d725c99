// `medledger receipt verify` (the offline verifier, docs/RECEIPTS.md), `medledger receipt verify-provenance` (a
// FHIR Provenance's signature, docs/FHIR.md) and `medledger log export-trust` (what a verifier needs from the
// organisation, once).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "identity/data_format.h"
#include "io/env.h"
#include "reportlog/log_files.h"
#include "verifier/provenance_verifier.h"
#include "verifier/receipt_verifier.h"

namespace medledger::app {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxInputBytes = 512u << 20;

struct VerifyOptions {
  std::string receipt;
  std::string document;
  std::string ciphertext;
  std::string trust;
  int min_witnesses = -1;
  bool json_output = false;
};

Result<std::string> ReadInput(const std::string& path, const char* what) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec)
    return MakeError(ErrorKind::kInvalidArgument, "unreadable_input",
                     std::string("cannot read the ") + what + " " + path);
  if (size > kMaxInputBytes)
    return MakeError(ErrorKind::kTooLarge, "input_too_large", std::string("the ") + what + " is over 512 MiB");
  auto bytes = io::ReadFile(*io::Env::Default(), path);
  if (!bytes.ok())
    return MakeError(ErrorKind::kInvalidArgument, "unreadable_input",
                     std::string("cannot read the ") + what + " " + path);
  return bytes;
}

const char* StateWord(verifier::CheckState s) {
  switch (s) {
    case verifier::CheckState::kPass: return "PASS";
    case verifier::CheckState::kFail: return "FAIL";
    case verifier::CheckState::kSkip: return "SKIP";
  }
  return "FAIL";
}

void RunVerify(const VerifyOptions& o) {
  auto trust = OrFail(verifier::LoadTrust(o.trust));
  if (o.min_witnesses >= 0) trust.min_witnesses = o.min_witnesses;
  std::string receipt = OrFail(ReadInput(o.receipt, "receipt"));
  verifier::VerifyInputs inputs;
  if (!o.document.empty()) inputs.document = OrFail(ReadInput(o.document, "document"));
  if (!o.ciphertext.empty()) inputs.ciphertext = OrFail(ReadInput(o.ciphertext, "ciphertext"));
  auto report = OrFail(verifier::VerifyReceipt(receipt, trust, inputs));
  if (o.json_output) {
    nlohmann::json j = {{"ok", report.ok()}, {"checks", nlohmann::json::array()}};
    for (const auto& c : report.checks) {
      j["checks"].push_back({{"id", c.id}, {"label", c.label}, {"state", StateWord(c.state)}, {"detail", c.detail}});
    }
    if (!report.ok()) j["failed"] = report.first_failure();
    std::cout << j.dump(2) << std::endl;
  } else {
    for (const auto& c : report.checks) {
      std::cout << StateWord(c.state) << "  " << c.id << ": " << c.label << "\n      " << c.detail << "\n";
    }
    std::cout << (report.ok() ? "Receipt verified: every check passed.\n"
                              : "Receipt NOT verified: " + report.first_failure() + " failed.\n");
  }
  std::cout.flush();
  if (!report.ok()) throw CLI::RuntimeError(1);
}

struct ProvenanceOptions {
  std::string provenance;
  std::string trust;
  std::string org_root;
};

void RunVerifyProvenance(const ProvenanceOptions& o) {
  verifier::TrustSet trust;
  if (!o.trust.empty()) {
    trust = OrFail(verifier::LoadTrust(o.trust));
  } else {
    trust.org_roots_pem = OrFail(ReadInput(o.org_root, "organisation root"));
  }
  std::string provenance = OrFail(ReadInput(o.provenance, "Provenance"));
  auto verified = verifier::VerifyProvenanceSignature(provenance, trust);
  if (!verified.ok()) {
    std::cout << "Provenance signature NOT verified: " << verified.error().code << ": " << verified.error().message
              << "\n";
    std::cout.flush();
    throw CLI::RuntimeError(verified.error().code == "provenance_malformed" ? 2 : 1);
  }
  std::cout << "Provenance signature verified: transaction " << verified->tx_id << " of "
            << verified->timestamp.ToRfc3339() << ", signed by " << verified->creator.common_name << " ("
            << verified->creator.msp_id << "), endorsed by";
  for (const auto& e : verified->endorsers) std::cout << " " << e.common_name << " (" << e.msp_id << ")";
  std::cout << ".\n";
  std::cout.flush();
}

struct ExportOptions {
  std::string data_dir;
  std::string out_dir;
};

void RunExportTrust(const ExportOptions& o) {
  // Reads the log's files without opening the organisation: the format check of every open, made here.
  OrFail(identity::CheckDataFormat(o.data_dir));
  const fs::path source = fs::path(o.data_dir) / reportlog::files::kLogDir / reportlog::files::kTrust;
  auto text = io::ReadFile(*io::Env::Default(), source);
  if (!text.ok()) {
    Fail(MakeError(ErrorKind::kNotFound, "no_trust_bundle",
                   source.string() + " is missing: run `medledger serve` once on this data directory"));
  }
  auto bundle = nlohmann::json::parse(*text, nullptr, false);
  if (!bundle.is_object())
    Fail(MakeError(ErrorKind::kCorruption, "trust_bundle_corrupt", source.string() + " is not JSON"));
  auto join = [](const nlohmann::json& arr, const char* sep) {
    std::string out;
    for (const auto& v : arr) {
      if (v.is_string()) out += v.get<std::string>() + sep;
    }
    return out;
  };
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) Fail(MakeError(ErrorKind::kIoError, "io_error", "cannot create " + o.out_dir));
  const fs::path out(o.out_dir);
  struct File {
    const char* name;
    std::string body;
  };
  const File files[] = {
      {"org-root.pem", join(bundle.value("orgRoots", nlohmann::json::array()), "")},
      {"log.vkey", bundle.value("logVkey", "") + "\n"},
      {"witnesses.vkeys", join(bundle.value("witnessVkeys", nlohmann::json::array()), "\n")},
      {"tsa-roots.pem", join(bundle.value("tsaRoots", nlohmann::json::array()), "")},
      {"trust.json", *text},
  };
  for (const auto& f : files) {
    // Public keys and certificates only: world-readable is right, unlike everything else the CLI writes.
    std::ofstream file(out / f.name, std::ios::binary | std::ios::trunc);
    file << f.body;
    if (!file) Fail(MakeError(ErrorKind::kIoError, "io_error", "cannot write " + (out / f.name).string()));
    fs::permissions(out / f.name,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
                    ec);
  }
  std::cout << "Wrote the trust directory " << o.out_dir
            << " (org-root.pem, log.vkey, witnesses.vkeys, tsa-roots.pem, trust.json).\n"
               "Publish it where verifiers can get it out of band; `medledger receipt verify --trust "
            << o.out_dir << "` uses it.\n";
}

}  // namespace

void AddReceiptCommands(CLI::App& app) {
  auto* receipt = app.add_subcommand("receipt", "Receipts: offline verification");
  receipt->require_subcommand(1);
  auto v = std::make_shared<VerifyOptions>();
  auto* verify = receipt->add_subcommand(
      "verify",
      "Check a receipt offline: signatures, certificate chains, the log inclusion proof, the checkpoint and its "
      "cosignatures, the time-stamp, and optionally the document. Exit 0: all pass; 1: a check failed (named); "
      "2: unusable input");
  verify->add_option("FILE", v->receipt, "The receipt (application/vnd.medledger.receipt+json)")->required();
  auto* doc = verify->add_option("--document", v->document, "The document: its SHA-256 must equal contentHash");
  verify->add_option("--ciphertext", v->ciphertext, "The stored envelope: its IPFS CID must equal cid")->excludes(doc);
  verify->add_option("--trust", v->trust, "Trust directory (medledger log export-trust) or trust.json")->required();
  verify->add_option("--min-witnesses", v->min_witnesses, "Cosignatures required (default: the trust set's)")
      ->check(CLI::Range(0, 32));
  verify->add_flag("--json", v->json_output, "Print the checks as JSON");
  verify->callback([v] { RunVerify(*v); });

  auto p = std::make_shared<ProvenanceOptions>();
  auto* prov = receipt->add_subcommand(
      "verify-provenance",
      "Check a FHIR Provenance's signature offline (docs/FHIR.md): the transaction envelope it carries, its "
      "creator's and endorsers' signatures and certificate chains, and that it is the target version's. Exit 0: "
      "verified; 1: a check failed (named); 2: unusable input");
  prov->add_option("FILE", p->provenance, "The Provenance (application/fhir+json)")->required();
  auto* trust_opt = prov->add_option("--trust", p->trust, "Trust directory (medledger log export-trust) or trust.json");
  auto* root_opt = prov->add_option("--org-root", p->org_root, "The organisation's root certificate(s), PEM");
  trust_opt->excludes(root_opt);
  prov->callback([p] {
    if (p->trust.empty() && p->org_root.empty()) {
      Fail(MakeError(ErrorKind::kInvalidArgument, "missing_trust", "--trust or --org-root is required"));
    }
    RunVerifyProvenance(*p);
  });

  auto* log = app.add_subcommand("log", "The report log (transparency log of report events)");
  log->require_subcommand(1);
  auto e = std::make_shared<ExportOptions>();
  auto* exp = log->add_subcommand("export-trust", "Write the trust directory verifiers need (public keys only)");
  exp->add_option("--data", e->data_dir, "Data directory of a server that has run")->required();
  exp->add_option("--out", e->out_dir, "Directory to write")->required();
  exp->callback([e] { RunExportTrust(*e); });
}

}  // namespace medledger::app
