// Erasure of one report, the same steps wherever it starts (the API, `medledger erase`, a journal replay):
// the contract records it on the ledger first (EraseReport, signed by the organisation's administrator), then
// the report's data keys are destroyed, then a line is appended to the local erasure journal. A crash between
// the ledger and the keys is repaired by ReapplyLedgerErasures, which every server start runs before it serves
// (docs/OPERATIONS.md, "Erasure on the ledger").
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "content/keystore.h"
#include "contract/records_contract.h"
#include "identity/signing_identity.h"
#include "io/env.h"
#include "ledger/ledger.h"

namespace medledger::service {

// The contract's closed list of reason codes.
using contract::kErasureReasons;
// The note is free text that may hold PHI: local only, bounded, in characters (code points).
inline constexpr size_t kMaxErasureNoteChars = 1000;

struct ErasureRequest {
  std::string report_id;
  std::string reason_code;
  std::string note;  // never leaves this machine's journal
};

struct ErasureOutcome {
  std::string report_id;
  std::string reason_code;
  std::string tx_id;
  uint64_t block_number = 0;
  std::string erased_at;  // the transaction's timestamp, RFC 3339
  std::string erased_by;  // the ledger's caller ID, "<mspId>/<name>"
  size_t keys_destroyed = 0;
  // The API answer: {reportId, reasonCode, txId, blockNumber, erasedAt, erasedBy, keysDestroyed}.
  std::string ToJson() const;
};

// "invalid_reason" (400), "invalid_note_utf8" / "note_too_long" (400); the report ID is the contract's to judge.
Status CheckErasureRequest(const ErasureRequest& request);

// DATA/server/erasures.jsonl.
std::filesystem::path ErasureJournalPath(const std::filesystem::path& data_dir);

// Destroys every data key of the report; 0 when none is left (erased before, or never held here).
Result<size_t> ShredIfPresent(content::Keystore& keys, std::string_view report_id);

// The three steps, in this order, for a checked request. A ledger refusal (report_not_found, already_erased,
// permission_denied) leaves keys and journal untouched. Once the ledger has the erasure, a failure to destroy
// the keys or to write the journal line is returned as an error naming what is missing; the keys are then
// destroyed by the next start's ReapplyLedgerErasures. The journal is written through `env` (null:
// io::Env::Default()).
Result<ErasureOutcome> EraseReportSteps(ledger::Ledger& ledger, const identity::SigningIdentity& admin,
                                        content::Keystore& keys, const std::filesystem::path& journal,
                                        const ErasureRequest& request, io::Env* env = nullptr);

struct ReapplyCounts {
  size_t erasures = 0;          // erasure records on the ledger
  size_t reports_shredded = 0;  // of those, reports whose keys were still here
  size_t keys_destroyed = 0;
};
// Pages through ListErasures (as `reader`, an administrator or auditor) and destroys the keys still present
// of every erased report.
Result<ReapplyCounts> ReapplyLedgerErasures(ledger::Ledger& ledger, const identity::SigningIdentity& reader,
                                            content::Keystore& keys);

}  // namespace medledger::service
