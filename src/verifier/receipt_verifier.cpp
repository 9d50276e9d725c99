#include "verifier/receipt_verifier.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "content/cid.h"
#include "content/importer.h"
#include "crypto/hash.h"
#include "receipt/ledger_evidence.h"
#include "reportlog/block_leaves.h"
#include "reportlog/leaf.h"
#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"
#include "tlog/proof_json.h"
#include "tsa/timestamp_token.h"

namespace medledger::verifier {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kMaxReceiptBytes = 4 << 20;
constexpr size_t kMaxTrustFileBytes = 1 << 20;

Error TrustUnusable(std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, "trust_unusable", std::move(why));
}

Result<std::optional<std::string>> ReadOptional(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<std::string>();
  if (fs::file_size(file, ec) > kMaxTrustFileBytes || ec) return TrustUnusable(file.string() + " is too large");
  std::ifstream in(file, std::ios::binary);
  if (!in) return TrustUnusable("cannot read " + file.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = s.find_first_not_of(" \n\r");
  return start == std::string::npos ? std::string() : s.substr(start);
}

Result<TrustSet> TrustFromJson(const json& j) {
  TrustSet t;
  if (!j.is_object() || j.value("format", "") != "medledger-trust/1")
    return TrustUnusable("not a medledger-trust/1 file");
  for (const auto& pem : j.value("orgRoots", json::array())) {
    if (pem.is_string()) t.org_roots_pem += pem.get<std::string>();
  }
  auto log_key = tlog::NoteVerifier::Parse(j.value("logVkey", ""));
  if (!log_key.ok()) return TrustUnusable("logVkey is not a verifier key");
  t.log_key = std::move(*log_key);
  for (const auto& v : j.value("witnessVkeys", json::array())) {
    auto w = v.is_string() ? tlog::NoteVerifier::Parse(v.get<std::string>())
                           : Result<tlog::NoteVerifier>(TrustUnusable("not a string"));
    if (!w.ok() || w->type() != tlog::SignatureType::kCosignatureV1) return TrustUnusable("a witness key is invalid");
    t.witnesses.push_back(std::move(*w));
  }
  for (const auto& pem : j.value("tsaRoots", json::array())) {
    if (pem.is_string()) t.tsa_roots_pem += pem.get<std::string>();
  }
  auto min = j.find("minWitnesses");
  if (min != j.end() && min->is_number_integer()) t.min_witnesses = min->get<int>();
  if (t.org_roots_pem.empty()) return TrustUnusable("no organisation root");
  return t;
}

struct Verification {
  ReceiptReport report;
  void Add(std::string id, std::string label, CheckState state, std::string detail) {
    report.checks.push_back({std::move(id), std::move(label), state, std::move(detail)});
  }
  void Pass(std::string id, std::string label, std::string detail) {
    Add(std::move(id), std::move(label), CheckState::kPass, std::move(detail));
  }
  void Fail(std::string id, std::string label, std::string detail) {
    Add(std::move(id), std::move(label), CheckState::kFail, std::move(detail));
  }
  void FailError(std::string id, std::string label, const Error& e) {
    Fail(std::move(id), std::move(label), e.code + ": " + e.message);
  }
};

Result<std::string> B64Field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return MakeError(ErrorKind::kInvalidArgument, "receipt_field_missing", std::string(key) + " is missing");
  }
  return Base64Decode(it->get<std::string>());
}

}  // namespace

bool ReceiptReport::ok() const {
  if (checks.empty()) return false;
  for (const auto& c : checks) {
    if (c.state == CheckState::kFail) return false;
  }
  return true;
}

std::string ReceiptReport::first_failure() const {
  for (const auto& c : checks) {
    if (c.state == CheckState::kFail) return c.id;
  }
  return "";
}

Result<TrustSet> LoadTrust(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    ML_ASSIGN_OR_RETURN(auto text, ReadOptional(path));
    auto doc = ParseStrictJson(text.value_or(""));
    if (!doc.ok()) return TrustUnusable(path.string() + " is not JSON");
    return TrustFromJson(*doc);
  }
  if (!fs::is_directory(path, ec)) return TrustUnusable(path.string() + " is neither a trust directory nor a file");
  TrustSet t;
  ML_ASSIGN_OR_RETURN(auto org, ReadOptional(path / "org-root.pem"));
  if (!org) return TrustUnusable("the trust directory has no org-root.pem");
  t.org_roots_pem = *org;
  ML_ASSIGN_OR_RETURN(auto vkey, ReadOptional(path / "log.vkey"));
  if (!vkey) return TrustUnusable("the trust directory has no log.vkey");
  auto log_key = tlog::NoteVerifier::Parse(Trimmed(*vkey));
  if (!log_key.ok()) return TrustUnusable("log.vkey is not a verifier key");
  t.log_key = std::move(*log_key);
  ML_ASSIGN_OR_RETURN(auto witnesses, ReadOptional(path / "witnesses.vkeys"));
  if (witnesses) {
    std::istringstream lines(*witnesses);
    std::string line;
    while (std::getline(lines, line)) {
      line = Trimmed(line);
      if (line.empty() || line[0] == '#') continue;
      auto w = tlog::NoteVerifier::Parse(line);
      if (!w.ok() || w->type() != tlog::SignatureType::kCosignatureV1) {
        return TrustUnusable("witnesses.vkeys has a line that is no witness key");
      }
      t.witnesses.push_back(std::move(*w));
    }
  }
  ML_ASSIGN_OR_RETURN(auto tsa, ReadOptional(path / "tsa-roots.pem"));
  if (tsa) t.tsa_roots_pem = *tsa;
  ML_ASSIGN_OR_RETURN(auto trust_json, ReadOptional(path / "trust.json"));
  if (trust_json) {
    auto doc = ParseStrictJson(*trust_json);
    if (doc.ok() && doc->is_object()) {
      auto min = doc->find("minWitnesses");
      if (min != doc->end() && min->is_number_integer()) t.min_witnesses = min->get<int>();
    }
  }
  return t;
}

namespace {
Result<ReceiptReport> VerifyParsedFields(std::string_view text, const TrustSet& trust, const VerifyInputs& inputs);
}  // namespace

// The checks read the receipt's fields with nlohmann's typed accessors, which throw when a field has another
// type than expected ({"format": 1}). A verifier must answer every input with a verdict, so such a receipt is
// refused here as unusable, whichever field it was (receipt_fuzzer found the first: a non-string "format").
Result<ReceiptReport> VerifyReceipt(std::string_view text, const TrustSet& trust, const VerifyInputs& inputs) {
  try {
    return VerifyParsedFields(text, trust, inputs);
  } catch (const json::exception& e) {
    return MakeError(ErrorKind::kInvalidArgument, "receipt_unusable",
                     std::string("a field of the receipt has the wrong type (") + e.what() + ")");
  }
}

namespace {
Result<ReceiptReport> VerifyParsedFields(std::string_view text, const TrustSet& trust, const VerifyInputs& inputs) {
  auto unusable = [](std::string why) {
    return MakeError(ErrorKind::kInvalidArgument, "receipt_unusable", std::move(why));
  };
  if (text.size() > kMaxReceiptBytes) return unusable("a receipt is at most 4 MiB");
  if (!trust.log_key) return unusable("the trust set has no log key");
  auto parsed = ParseStrictJson(text);
  if (!parsed.ok() || !parsed->is_object()) return unusable("the file is not a JSON object");
  const json& r = *parsed;
  if (r.value("format", "") != "medledger-receipt/1") return unusable("not a medledger-receipt/1 file");
  const json leaf_obj = r.value("leaf", json::object());
  const json log_obj = r.value("log", json::object());
  const json ledger_obj = r.value("ledger", json::object());
  const json content_obj = r.value("content", json::object());
  if (!leaf_obj.is_object() || !log_obj.is_object() || !ledger_obj.is_object() || !content_obj.is_object()) {
    return unusable("leaf, log, ledger and content must be objects");
  }
  Verification v;

  // 1. The leaf: canonical bytes, equal to the fields shown and to the content claims.
  std::optional<reportlog::Leaf> leaf;
  std::string leaf_bytes;
  {
    const char* id = "leaf";
    const char* label = "The log entry is well-formed and names this content";
    auto bytes = B64Field(leaf_obj, "data");
    auto decoded = bytes.ok() ? reportlog::ParseLeaf(*bytes) : Result<reportlog::Leaf>(bytes.error());
    if (!decoded.ok()) {
      v.FailError(id, label, decoded.error());
    } else {
      leaf_bytes = *bytes;
      auto fields = leaf_obj.find("fields");
      auto from_data = ParseStrictJson(leaf_bytes);
      if (fields == leaf_obj.end() || !from_data.ok() || *fields != *from_data) {
        v.Fail(id, label, "the fields shown differ from the signed leaf bytes");
      } else if (content_obj.value("cid", "") != decoded->cid ||
                 content_obj.value("contentHash", "") != decoded->content_hash) {
        v.Fail(id, label, "content.cid or content.contentHash differ from the leaf's");
      } else {
        leaf = *decoded;
        v.Pass(id, label,
               std::string(reportlog::LeafKindName(leaf->kind)) + " report " + leaf->report_id + " version " +
                   std::to_string(leaf->version) + ", block " + std::to_string(leaf->block_number));
      }
    }
  }

  // 2-3. The ledger evidence: signatures and chains, then the leaf re-derived from the signed transaction.
  {
    const char* id = "ledger_evidence";
    const char* label = "The transaction and its block are signed by the organisation's members";
    auto evidence = receipt::LedgerEvidenceFromJson(ledger_obj);
    auto ledger_trust = receipt::LedgerTrust::FromPem(trust.org_roots_pem);
    Result<receipt::VerifiedLedgerEvidence> verified =
        !evidence.ok()       ? Result<receipt::VerifiedLedgerEvidence>(evidence.error())
        : !ledger_trust.ok() ? Result<receipt::VerifiedLedgerEvidence>(ledger_trust.error())
                             : receipt::VerifyLedgerEvidence(*evidence, *ledger_trust);
    if (!verified.ok()) {
      v.FailError(id, label, verified.error());
    } else {
      v.Pass(id, label,
             "created by " + verified->creator.msp_id + "/" + verified->creator.common_name + ", endorsed by " +
                 std::to_string(verified->endorsers.size()) + " peer(s), block " +
                 std::to_string(verified->block_number) + " signed by " + verified->orderer.common_name);
      const char* bid = "leaf_matches_transaction";
      const char* blabel = "The log entry is exactly what the signed transaction recorded";
      auto derived = reportlog::EventsFromEnvelope(evidence->envelope, verified->block_number, verified->chaincode);
      if (!leaf) {
        v.Fail(bid, blabel, "no usable leaf to compare");
      } else if (!derived.ok() || !derived->leaf) {
        v.Fail(bid, blabel, "the transaction carries no report event");
      } else if (auto enc = reportlog::EncodeLeaf(*derived->leaf); !enc.ok() || *enc != leaf_bytes) {
        v.Fail(bid, blabel, "the leaf differs from the event the transaction's endorsers signed");
      } else {
        v.Pass(bid, blabel, "transaction " + verified->tx_id + " at " + leaf->ledger_time);
      }
    }
  }

  // 4. The log: inclusion in a checkpoint signed by the log key and cosigned by witnesses.
  std::string checkpoint_note;
  {
    const char* id = "checkpoint";
    const char* label = "The log checkpoint is signed by the organisation's log key";
    checkpoint_note = log_obj.value("checkpoint", "");
    auto opened = tlog::OpenCheckpoint(checkpoint_note, *trust.log_key);
    std::optional<tlog::Checkpoint> cp;
    if (!opened.ok()) {
      v.FailError(id, label, opened.error());
    } else if (log_obj.value("treeSize", uint64_t{0}) != opened->checkpoint.size ||
               log_obj.value("origin", "") != opened->checkpoint.origin) {
      v.Fail(id, label, "log.treeSize or log.origin differ from the signed checkpoint");
    } else {
      cp = opened->checkpoint;
      v.Pass(id, label, opened->checkpoint.origin + " at size " + std::to_string(opened->checkpoint.size));
    }

    const char* iid = "inclusion";
    const char* ilabel = "The entry is included in that checkpoint's tree";
    auto parsed_proof = tlog::ProofFromJson(log_obj.value("inclusionProof", json::array()));
    const bool proof_ok = parsed_proof.ok();
    const std::vector<std::string> proof = proof_ok ? std::move(parsed_proof).value() : std::vector<std::string>();
    auto index = leaf_obj.find("index");
    if (!cp || leaf_bytes.empty()) {
      v.Fail(iid, ilabel, "needs a valid leaf and checkpoint");
    } else if (!proof_ok || index == leaf_obj.end() || !index->is_number_unsigned()) {
      v.Fail(iid, ilabel, "the inclusion proof or leaf index is malformed");
    } else if (Status s = tlog::VerifyInclusion(tlog::LeafHash(leaf_bytes), index->get<uint64_t>(), cp->size, proof,
                                                cp->root_hash);
               !s.ok()) {
      v.FailError(iid, ilabel, s.error());
    } else {
      v.Pass(iid, ilabel, "leaf " + std::to_string(index->get<uint64_t>()) + " of " + std::to_string(cp->size));
    }

    const char* wid = "cosignatures";
    const char* wlabel = "Independent witnesses saw the same checkpoint";
    int valid = 0;
    std::string names;
    std::string problems;
    const json cosigs = log_obj.value("cosignatures", json::array());
    const std::string body = opened.ok() ? opened->note.text : std::string();
    for (const auto& c : cosigs.is_array() ? cosigs : json::array()) {
      if (!c.is_string()) continue;
      auto line = tlog::ParseSignatureLine(c.get<std::string>());
      if (!line.ok()) {
        problems += " a malformed line;";
        continue;
      }
      const tlog::NoteVerifier* key = nullptr;
      for (const auto& w : trust.witnesses) {
        if (w.name() == line->name && w.key_id() == line->key_id) key = &w;
      }
      if (!key) {
        problems += " " + line->name + " is not a trusted witness;";
        continue;
      }
      auto time = tlog::VerifyCosignature(*key, body, c.get<std::string>());
      if (!time.ok()) {
        problems += " " + line->name + "'s cosignature is invalid;";
        continue;
      }
      ++valid;
      names += (names.empty() ? "" : ", ") + line->name;
    }
    const bool bad_line = problems.find("invalid") != std::string::npos;
    if (valid < trust.min_witnesses || bad_line || !opened.ok()) {
      v.Fail(wid, wlabel,
             std::to_string(valid) + " valid cosignature(s), " + std::to_string(trust.min_witnesses) + " required;" +
                 problems);
    } else if (valid == 0) {
      v.Add(wid, wlabel, CheckState::kSkip, "no cosignature, and the trust set requires none;" + problems);
    } else {
      v.Pass(wid, wlabel, names + (problems.empty() ? "" : " (ignored:" + problems + ")"));
    }
  }

  // 5. Trusted time.
  {
    const char* id = "timestamp";
    const char* label = "A time-stamping authority dated the checkpoint";
    auto token = B64Field(log_obj, "timestampToken");
    if (trust.tsa_roots_pem.empty()) {
      // The web verifier and this one agree: a receipt without trusted time is not a full receipt.
      v.Fail(id, label, "the trust set names no time-stamping authority, so the time cannot be checked");
    } else if (!token.ok() || token->empty()) {
      v.Fail(id, label, "the receipt has no time-stamp token");
    } else if (auto t = tsa::VerifyToken(*token, checkpoint_note, trust.tsa_roots_pem); !t.ok()) {
      v.FailError(id, label, t.error());
    } else {
      v.Pass(id, label, t->gen_time.ToRfc3339() + " by " + (t->tsa_name.empty() ? t->signer_subject : t->tsa_name));
    }
  }

  // 6. The bytes the reader holds.
  if (inputs.document) {
    const char* id = "document";
    const char* label = "The document is the one recorded (SHA-256)";
    std::string hash = HexEncode(crypto::Sha256(*inputs.document));
    if (hash == content_obj.value("contentHash", "")) {
      v.Pass(id, label, hash);
    } else {
      v.Fail(id, label, "the document's SHA-256 is " + hash);
    }
  }
  if (inputs.ciphertext) {
    const char* id = "ciphertext";
    const char* label = "The stored envelope is the one recorded (IPFS CID)";
    const std::string claimed = content_obj.value("cid", "");
    auto claimed_cid = content::Cid::Parse(claimed);
    auto computed = claimed_cid.ok()
                        ? content::ComputeCid(*inputs.ciphertext, content::ImportOptions::Ipfs(claimed_cid->version()))
                        : Result<content::Cid>(claimed_cid.error());
    if (computed.ok() && computed->ToString() == claimed) {
      v.Pass(id, label, claimed);
    } else {
      v.Fail(id, label,
             computed.ok() ? "the envelope's CID is " + computed->ToString() : "the receipt's CID is invalid");
    }
  }
  return std::move(v.report);
}
}  // namespace

}  // namespace medledger::verifier
