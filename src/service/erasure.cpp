#include "service/erasure.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;

Error Invalid(std::string code, std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, std::move(code), std::move(message));
}

size_t CodePoints(std::string_view utf8) {
  return static_cast<size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string StrField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ListErasures pages are at most this large; a start-up pass reads the whole list.
constexpr int kReapplyPageSize = 100;
// A bound on the pass, so a ledger that keeps handing out bookmarks cannot keep the server from starting.
constexpr size_t kMaxReapplyPages = 10'000'000;

}  // namespace

std::string ErasureOutcome::ToJson() const {
  json out = {{"reportId", report_id},          {"reasonCode", reason_code}, {"txId", tx_id},
              {"blockNumber", block_number},    {"erasedAt", erased_at},     {"erasedBy", erased_by},
              {"keysDestroyed", keys_destroyed}};
  // As the API names every actor: the username, and the hospital beside it.
  if (auto slash = erased_by.find('/'); slash != std::string::npos) {
    out["erasedBy"] = erased_by.substr(slash + 1);
    out["erasedByMsp"] = erased_by.substr(0, slash);
  }
  return out.dump();
}

Status CheckErasureRequest(const ErasureRequest& request) {
  if (std::find(kErasureReasons.begin(), kErasureReasons.end(), request.reason_code) == kErasureReasons.end()) {
    return Invalid("invalid_reason",
                   "reason must be one of patient_request, legal_order, retention_expired, entered_in_error");
  }
  if (!IsValidUtf8(request.note)) return Invalid("invalid_note_utf8", "note is not valid UTF-8");
  if (CodePoints(request.note) > kMaxErasureNoteChars) {
    return Invalid("note_too_long", "note is at most " + std::to_string(kMaxErasureNoteChars) + " characters");
  }
  return OkStatus();
}

std::filesystem::path ErasureJournalPath(const std::filesystem::path& data_dir) {
  return data_dir / "server" / "erasures.jsonl";
}

Result<size_t> ShredIfPresent(content::Keystore& keys, std::string_view report_id) {
  ML_ASSIGN_OR_RETURN(size_t count, keys.KeyCount(report_id));
  if (count == 0) return size_t{0};
  ML_RETURN_IF_ERROR(keys.Destroy(report_id));
  return count;
}

Result<ErasureOutcome> EraseReportSteps(ledger::Ledger& ledger, const identity::SigningIdentity& admin,
                                        content::Keystore& keys, const std::filesystem::path& journal,
                                        const ErasureRequest& request, io::Env* env) {
  ML_RETURN_IF_ERROR(CheckErasureRequest(request));
  // The ledger first: once it holds the erasure every server of the organisation re-applies it, so a crash
  // after this point cannot leave a report readable for good.
  json arg = {{"reportId", request.report_id}, {"reasonCode", request.reason_code}};
  ML_ASSIGN_OR_RETURN(ledger::TxReceipt receipt, ledger.Submit(admin, ledger::Invocation{"EraseReport", {arg.dump()}}));
  json record = json::parse(receipt.payload, nullptr, false);
  ErasureOutcome out;
  out.report_id = request.report_id;
  out.reason_code = request.reason_code;
  out.tx_id = receipt.tx_id;
  out.block_number = receipt.block_number;
  out.erased_at = record.is_object() && !StrField(record, "erasedAt").empty() ? StrField(record, "erasedAt")
                                                                              : receipt.timestamp.ToRfc3339();
  out.erased_by = record.is_object() ? StrField(record, "erasedBy") : std::string();

  auto shredded = ShredIfPresent(keys, request.report_id);
  if (shredded.ok()) out.keys_destroyed = *shredded;
  json line = {{"reportId", out.report_id}, {"reasonCode", out.reason_code},   {"note", request.note},
               {"txId", out.tx_id},         {"blockNumber", out.block_number}, {"erasedAt", out.erased_at},
               {"erasedBy", out.erased_by}};
  if (shredded.ok()) line["keysDestroyed"] = out.keys_destroyed;
  // Journalled even when the keys could not be destroyed: the ledger has the erasure, so a replay must too.
  Status journalled = io::AppendLineDurably(env != nullptr ? *env : *io::Env::Default(), journal, line.dump());
  if (!shredded.ok()) {
    return MakeError(shredded.error().kind, "erasure_keys_pending",
                     "the erasure is on the ledger (tx " + out.tx_id + ") but the keys could not be destroyed (" +
                         shredded.error().message + "); the next server start destroys them");
  }
  if (!journalled.ok()) {
    return MakeError(journalled.error().kind, "erasure_journal_failed",
                     "the report is erased (ledger tx " + out.tx_id + ", keys destroyed) but its line in " +
                         journal.string() + " could not be written: " + journalled.error().message);
  }
  return out;
}

Result<ReapplyCounts> ReapplyLedgerErasures(ledger::Ledger& ledger, const identity::SigningIdentity& reader,
                                            content::Keystore& keys) {
  ReapplyCounts counts;
  std::string bookmark;
  for (size_t pages = 0; pages < kMaxReapplyPages; ++pages) {
    json arg = {{"pageSize", kReapplyPageSize}, {"bookmark", bookmark}};
    ML_ASSIGN_OR_RETURN(std::string payload, ledger.Evaluate(reader, ledger::Invocation{"ListErasures", {arg.dump()}}));
    json page = json::parse(payload, nullptr, false);
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array()) {
      return MakeError(ErrorKind::kInternal, "contract_payload_invalid", "ListErasures returned no list");
    }
    for (const auto& e : page["items"]) {
      const std::string id = e.is_object() ? StrField(e, "reportId") : std::string();
      if (id.empty()) continue;
      ++counts.erasures;
      ML_ASSIGN_OR_RETURN(size_t destroyed, ShredIfPresent(keys, id));
      if (destroyed != 0) {
        ++counts.reports_shredded;
        counts.keys_destroyed += destroyed;
      }
    }
    const std::string next = StrField(page, "bookmark");
    if (next.empty() || next == bookmark) return counts;
    bookmark = next;
  }
  return MakeError(ErrorKind::kInternal, "erasure_list_unbounded", "ListErasures never reached its last page");
}

}  // namespace medledger::service
