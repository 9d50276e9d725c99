// `medledger witness`: an independent witness for a medledger report log (C2SP tlog-witness semantics over
// this project's HTTP API). It fetches the log's checkpoint, checks the log signature and the consistency
// proof from the last checkpoint it cosigned (src/tlog/witness.h), cosigns (C2SP tlog-cosignature/v1) and
// posts the cosignature back. A fork is kept as evidence in the state directory and ends the process with
// exit code 3.
//
//   medledger witness --log URL --log-key VKEY|FILE --key FILE --state DIR [--interval-ms N] [--once]
//   medledger witness keygen --name NAME --out FILE      (prints the verifier key to publish)
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "common/encoding.h"
#include "io/env.h"
#include "net/http_client.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "tlog/proof_json.h"
#include "tlog/witness.h"

namespace medledger::app {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitFork = 3;

struct WitnessOptions {
  std::string log_url;
  std::string log_key;
  std::string key_file;
  std::string state_dir;
  int64_t interval_ms = 10000;
  bool once = false;
  std::string metrics_file;  // Prometheus text, rewritten after each round (node_exporter's textfile collector)
};

struct KeygenOptions {
  std::string name;
  std::string out;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A verifier key given inline ("<name>+<id>+<key>") or as a file holding one.
Result<tlog::NoteVerifier> LoadLogKey(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) {
    ML_ASSIGN_OR_RETURN(std::string text, io::ReadFile(*io::Env::Default(), arg, 64 * 1024));
    return tlog::NoteVerifier::Parse(Trim(text));
  }
  return tlog::NoteVerifier::Parse(arg);
}

Result<tlog::NoteSigner> LoadWitnessKey(const std::string& path) {
  ML_ASSIGN_OR_RETURN(std::string text, io::ReadFile(*io::Env::Default(), path, 64 * 1024));
  ML_ASSIGN_OR_RETURN(tlog::NoteSigner key, tlog::NoteSigner::Parse(Trim(text)));
  if (key.type() != tlog::SignatureType::kCosignatureV1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_skey", "the witness key is not a cosignature/v1 key");
  }
  return key;
}

std::string JoinUrl(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + path;
}

Result<std::string> Get(const std::string& url) {
  net::HttpCall call;
  call.url = url;
  call.max_bytes = tlog::kMaxNoteSize;
  ML_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpFetch(call));
  if (reply.status != 200) {
    return MakeError(ErrorKind::kUnavailable, "http_status",
                     "GET " + url + " answered HTTP " + std::to_string(reply.status));
  }
  return std::move(reply.body);
}

// GET /api/v1/log/proof/consistency?from=&to= -> {"from":m,"to":n,"proof":["<base64>",...]}
Result<std::vector<std::string>> FetchConsistencyProof(const std::string& base, uint64_t from, uint64_t to) {
  ML_ASSIGN_OR_RETURN(std::string body, Get(JoinUrl(base, "/api/v1/log/proof/consistency?from=" + std::to_string(from) +
                                                              "&to=" + std::to_string(to))));
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const auto bad = [](const std::string& why) {
    return MakeError(ErrorKind::kUnavailable, "bad_proof_response", "consistency proof response: " + why);
  };
  if (!doc.is_object() || !doc.contains("proof") || !doc["proof"].is_array()) return bad("no proof array");
  if (!doc.contains("from") || !doc["from"].is_number_unsigned() || doc["from"].get<uint64_t>() != from ||
      !doc.contains("to") || !doc["to"].is_number_unsigned() || doc["to"].get<uint64_t>() != to) {
    return bad("from/to do not match the request");
  }
  auto proof = tlog::ProofFromJson(doc["proof"]);
  if (!proof.ok()) return bad(proof.error().message);
  return std::move(proof).value();
}

Status PostCosignature(const std::string& base, const std::string& note, const tlog::NoteSignature& cosig) {
  std::string line = cosig.Line();
  line.pop_back();  // the JSON field carries the line without its newline
  net::HttpCall call;
  call.url = JoinUrl(base, "/api/v1/log/cosignatures");
  call.content_type = "application/json";
  call.body = json{{"checkpoint", note}, {"cosignature", line}}.dump();
  call.max_bytes = 64 * 1024;
  ML_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpFetch(call));
  if (reply.status < 200 || reply.status >= 300) {
    return MakeError(ErrorKind::kUnavailable, "cosignature_rejected",
                     "the log answered HTTP " + std::to_string(reply.status) + " to the cosignature");
  }
  return OkStatus();
}

std::string JsonLine(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One round: fetch, check, cosign, post. Returns the exit code the round implies for --once.
int Round(const WitnessOptions& o, tlog::Witness& w, const tlog::NoteVerifier& log_key) {
  auto note = Get(JoinUrl(o.log_url, "/log/checkpoint"));
  if (!note.ok()) {
    spdlog::warn(
        JsonLine({{"msg", "checkpoint fetch failed"}, {"code", note.error().code}, {"detail", note.error().message}}));
    return kExitError;
  }
  auto cp = tlog::OpenCheckpoint(*note, log_key);
  if (!cp.ok()) {
    spdlog::error(JsonLine({{"msg", "checkpoint refused"}, {"code", cp.error().code}, {"detail", cp.error().message}}));
    return kExitError;
  }
  std::vector<std::string> proof;
  const uint64_t from = w.last_size();
  const uint64_t to = cp->checkpoint.size;
  if (w.last() && from > 0 && to > from) {
    auto fetched = FetchConsistencyProof(o.log_url, from, to);
    if (!fetched.ok()) {
      // No proof is no verdict: try again next round rather than call an unreachable proof a fork.
      spdlog::warn(JsonLine(
          {{"msg", "consistency proof fetch failed"}, {"code", fetched.error().code}, {"from", from}, {"to", to}}));
      return kExitError;
    }
    proof = std::move(fetched).value();
  }
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  auto cosigned = w.Observe(*note, proof, now);
  if (!cosigned.ok()) {
    if (cosigned.error().code == "witness_fork") {
      json line{{"msg", "fork detected"},
                {"code", "witness_fork"},
                {"origin", cp->checkpoint.origin},
                {"cosignedSize", from},
                {"cosignedRoot", w.last() ? Base64Encode(w.last()->checkpoint.root_hash) : ""},
                {"conflictingSize", to},
                {"conflictingRoot", Base64Encode(cp->checkpoint.root_hash)},
                {"detail", cosigned.error().message}};
      spdlog::error(JsonLine(line));
      return kExitFork;
    }
    spdlog::error(JsonLine(
        {{"msg", "checkpoint not cosigned"}, {"code", cosigned.error().code}, {"detail", cosigned.error().message}}));
    return kExitError;
  }
  Status posted = PostCosignature(o.log_url, cosigned->note, cosigned->cosignature);
  if (!posted.ok()) {
    spdlog::warn(JsonLine({{"msg", "cosignature not delivered"},
                           {"code", posted.error().code},
                           {"detail", posted.error().message},
                           {"size", to}}));
    return kExitError;
  }
  spdlog::info(JsonLine({{"msg", "cosigned"},
                         {"origin", cp->checkpoint.origin},
                         {"size", to},
                         {"root", Base64Encode(cp->checkpoint.root_hash)},
                         {"time", now}}));
  return kExitOk;
}

// What a monitoring system alerts on: a fork above all, and a witness that stopped cosigning.
struct WitnessCounters {
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t forks = 0;
  uint64_t last_success = 0;
};

void WriteMetrics(const WitnessOptions& o, const WitnessCounters& c, uint64_t cosigned_size) {
  if (o.metrics_file.empty()) return;
  std::string text =
      "# HELP medledger_witness_rounds_total Witness rounds by result.\n"
      "# TYPE medledger_witness_rounds_total counter\n"
      "medledger_witness_rounds_total{result=\"cosigned\"} " +
      std::to_string(c.ok) + "\n" + "medledger_witness_rounds_total{result=\"error\"} " + std::to_string(c.errors) +
      "\n" + "medledger_witness_rounds_total{result=\"fork\"} " + std::to_string(c.forks) + "\n" +
      "# HELP medledger_witness_fork_detected 1 once the log showed two trees that cannot both be true.\n"
      "# TYPE medledger_witness_fork_detected gauge\n"
      "medledger_witness_fork_detected " +
      (c.forks > 0 ? "1" : "0") + "\n" +
      "# HELP medledger_witness_cosigned_size Tree size of the last cosigned checkpoint.\n"
      "# TYPE medledger_witness_cosigned_size gauge\n"
      "medledger_witness_cosigned_size " +
      std::to_string(cosigned_size) + "\n" +
      "# HELP medledger_witness_last_success_timestamp_seconds Unix time of the last cosignature delivered.\n"
      "# TYPE medledger_witness_last_success_timestamp_seconds gauge\n"
      "medledger_witness_last_success_timestamp_seconds " +
      std::to_string(c.last_success) + "\n";
  if (Status s = io::WriteFileAtomic(*io::Env::Default(), o.metrics_file, text); !s.ok()) {
    spdlog::warn(JsonLine({{"msg", "metrics file not written"}, {"code", s.error().code}}));
  }
}

void RunWitness(const WitnessOptions& o) {
  spdlog::set_pattern("%v");
  if (o.log_url.empty() || o.log_key.empty() || o.key_file.empty() || o.state_dir.empty()) {
    std::cerr << "medledger witness: --log, --log-key, --key and --state are required\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  if (o.interval_ms < 100 || o.interval_ms > 24LL * 3600 * 1000) {
    std::cerr << "medledger witness: --interval-ms is 100..86400000\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  auto usage = [](const Error& e) {
    std::cerr << "medledger witness: " << e.message << " [" << e.code << "]\n";
    throw CLI::RuntimeError(e.kind == ErrorKind::kInvalidArgument || e.kind == ErrorKind::kNotFound ? kExitUsage
                                                                                                    : kExitError);
  };
  auto log_key = LoadLogKey(o.log_key);
  if (!log_key.ok()) usage(log_key.error());
  auto key = LoadWitnessKey(o.key_file);
  if (!key.ok()) usage(key.error());
  auto w = tlog::Witness::Open(*log_key, *key, o.state_dir);
  if (!w.ok()) {
    std::cerr << "medledger witness: " << w.error().message << " [" << w.error().code << "]\n";
    throw CLI::RuntimeError(kExitError);
  }
  spdlog::info(JsonLine({{"msg", "witness started"},
                         {"log", o.log_url},
                         {"logKey", log_key->ToString()},
                         {"witnessKey", key->Verifier().ToString()},
                         {"cosignedSize", (*w)->last_size()}}));
  WitnessCounters counters;
  while (true) {
    const int code = Round(o, **w, *log_key);
    if (code == kExitOk) {
      ++counters.ok;
      counters.last_success = static_cast<uint64_t>(std::time(nullptr));
    } else if (code == kExitFork) {
      ++counters.forks;
    } else {
      ++counters.errors;
    }
    WriteMetrics(o, counters, (*w)->last_size());
    if (code == kExitFork) throw CLI::RuntimeError(kExitFork);
    if (o.once) {
      if (code != kExitOk) throw CLI::RuntimeError(code);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
  }
}

struct CompareOptions {
  std::string log_key;
  std::string log_url;  // for the consistency proof when the two sizes differ
  std::string a;
  std::string b;
};

// Two log-signed checkpoints from different places (two witnesses' state files, two receipts): exit 0 when
// they can both be true, 3 when they cannot (a split view), 1 when it cannot be decided (no proof reachable).
void RunCompare(const CompareOptions& o) {
  auto log_key = LoadLogKey(o.log_key);
  if (!log_key.ok()) Fail(log_key.error());
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in) Fail(MakeError(ErrorKind::kInvalidArgument, "unreadable_input", "cannot read " + path));
    return s.str();
  };
  std::string note_a = read(o.a);
  std::string note_b = read(o.b);
  auto a = tlog::OpenCheckpoint(note_a, *log_key);
  auto b = tlog::OpenCheckpoint(note_b, *log_key);
  if (!a.ok()) Fail(a.error());
  if (!b.ok()) Fail(b.error());
  if (a->checkpoint.size > b->checkpoint.size) {
    std::swap(a, b);
    std::swap(note_a, note_b);
  }
  std::vector<std::string> proof;
  if (a->checkpoint.size < b->checkpoint.size && a->checkpoint.size > 0) {
    if (o.log_url.empty()) {
      std::cerr << "medledger witness compare: the sizes differ; --log URL is needed for the consistency proof\n";
      throw CLI::RuntimeError(kExitError);
    }
    auto fetched = FetchConsistencyProof(o.log_url, a->checkpoint.size, b->checkpoint.size);
    if (!fetched.ok()) Fail(fetched.error());
    proof = std::move(fetched).value();
  }
  auto verdict = tlog::CheckCheckpoint(*a, note_b, *log_key, proof);
  if (!verdict.ok() && verdict.error().code == "witness_fork") {
    std::cout << JsonLine({{"msg", "fork detected"},
                           {"sizeA", a->checkpoint.size},
                           {"rootA", Base64Encode(a->checkpoint.root_hash)},
                           {"sizeB", b->checkpoint.size},
                           {"rootB", Base64Encode(b->checkpoint.root_hash)},
                           {"detail", verdict.error().message}})
              << std::endl;
    throw CLI::RuntimeError(kExitFork);
  }
  if (!verdict.ok()) Fail(verdict.error());
  std::cout << JsonLine({{"msg", "consistent"}, {"sizeA", a->checkpoint.size}, {"sizeB", b->checkpoint.size}})
            << std::endl;
}

void RunKeygen(const KeygenOptions& o) {
  auto key = tlog::NoteSigner::Generate(o.name, tlog::SignatureType::kCosignatureV1);
  if (!key.ok()) Fail(key.error());
  Status written = io::CreateFileExclusive(*io::Env::Default(), o.out, key->ToString() + "\n");
  if (!written.ok()) Fail(written.error());
  std::cout << key->Verifier().ToString() << "\n";
}

}  // namespace

void AddWitnessCommand(CLI::App& app) {
  auto opts = std::make_shared<WitnessOptions>();
  CLI::App* witness = app.add_subcommand(
      "witness", "Witness a medledger report log: check consistency, cosign checkpoints, detect forks (exit 3)");
  witness->add_option("--log", opts->log_url, "The log's base URL (GET /log/checkpoint is under it)");
  witness->add_option("--log-key", opts->log_key, "The log's verifier key, or a file holding it (GET /log/vkey)");
  witness->add_option("--key", opts->key_file, "This witness's key file (from `medledger witness keygen`)");
  witness->add_option("--state", opts->state_dir, "State directory: last cosigned checkpoint and fork evidence");
  witness->add_option("--interval-ms", opts->interval_ms, "Time between rounds (default 10000)");
  witness->add_flag("--once", opts->once, "One round, then exit (0 cosigned, 1 error, 3 fork)");
  witness->add_option("--metrics-file", opts->metrics_file,
                      "Prometheus text file rewritten after each round (rounds by result, fork detected, cosigned "
                      "size, last success), for node_exporter's textfile collector");

  auto keygen_opts = std::make_shared<KeygenOptions>();
  CLI::App* keygen = witness->add_subcommand("keygen", "Create a witness key (cosignature/v1, Ed25519)");
  keygen->add_option("--name", keygen_opts->name, "The witness's key name, e.g. witness.example.org/w1")->required();
  keygen->add_option("--out", keygen_opts->out, "The key file to create (0600; never overwritten)")->required();
  keygen->callback([keygen_opts] { RunKeygen(*keygen_opts); });
  auto compare_opts = std::make_shared<CompareOptions>();
  CLI::App* compare = witness->add_subcommand(
      "compare",
      "Compare two log-signed checkpoints from different places (two witnesses' state/checkpoint files, two "
      "receipts' checkpoints): exit 0 consistent, 3 fork (a split view), 1 undecided");
  compare->add_option("--log-key", compare_opts->log_key, "The log's verifier key, or a file holding it")->required();
  compare->add_option("--log", compare_opts->log_url, "The log's base URL, for a consistency proof when sizes differ");
  compare->add_option("A", compare_opts->a, "A signed checkpoint (note file)")->required();
  compare->add_option("B", compare_opts->b, "Another signed checkpoint (note file)")->required();
  compare->callback([compare_opts] { RunCompare(*compare_opts); });

  witness->callback([opts, keygen, compare] {
    if (keygen->parsed() || compare->parsed()) return;
    RunWitness(*opts);
  });
}

}  // namespace medledger::app
