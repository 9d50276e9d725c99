// Verifies a receipt (docs/RECEIPTS.md) offline. Each check is reported by name, in the order of the
// document's "Checks" section, so a reader sees exactly which promise a tampered receipt breaks.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tlog/note.h"

namespace medledger::verifier {

// What a verifier trusts, obtained once out of band (`medledger log export-trust`).
struct TrustSet {
  std::string org_roots_pem;                  // the organisation's CA certificate(s)
  std::optional<tlog::NoteVerifier> log_key;  // always set by LoadTrust
  std::vector<tlog::NoteVerifier> witnesses;
  std::string tsa_roots_pem;  // empty: the organisation publishes no TSA and time-stamps are not required
  int min_witnesses = 0;
};

// A trust directory (org-root.pem, log.vkey, optional witnesses.vkeys, tsa-roots.pem, trust.json for
// minWitnesses) or a trust.json file. "trust_unusable" naming the missing or malformed part.
Result<TrustSet> LoadTrust(const std::filesystem::path& path);

enum class CheckState { kPass, kFail, kSkip };

struct Check {
  std::string id;     // stable: "leaf", "ledger_evidence", "leaf_matches_transaction", "inclusion", ...
  std::string label;  // one plain sentence
  CheckState state = CheckState::kFail;
  std::string detail;  // what was found, or why it failed
};

struct ReceiptReport {
  std::vector<Check> checks;
  bool ok() const;  // every check passed or was skipped, and at least the core ones ran
  std::string first_failure() const;
};

struct VerifyInputs {
  std::optional<std::string> document;    // the canonical document: SHA-256 must equal contentHash
  std::optional<std::string> ciphertext;  // the stored envelope: its UnixFS CID must equal cid
};

// "receipt_unusable" (kInvalidArgument) when the text is no receipt of a known format at all; every other
// problem is a failed check in the report.
Result<ReceiptReport> VerifyReceipt(std::string_view receipt_json, const TrustSet& trust, const VerifyInputs& inputs);

}  // namespace medledger::verifier
