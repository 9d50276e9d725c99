#include "app/erasure_journal.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/report_keys.h"
#include "contract/records_contract.h"
#include "io/env.h"
#include "io/posix_util.h"
#include "ledger/embedded/data_dir.h"
#include "service/erasure.h"

namespace medledger::app {
namespace {

using json = nlohmann::json;

// A journal is one line per erasure; far more than any hospital erases, far less than memory.
constexpr size_t kMaxJournalLines = 1'000'000;
constexpr size_t kMaxJournalLineBytes = 16 * 1024;

struct JournalLine {
  std::string raw;
  std::string report_id;
  std::string reason_code;  // "" on a line from before erasure on the ledger
  std::string note;
};

std::string Field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::vector<JournalLine>> ReadJournal(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return MakeError(ErrorKind::kNotFound, "journal_not_found", "cannot read " + file.string());
  std::vector<JournalLine> out;
  std::string raw;
  size_t number = 0;
  auto corrupt = [&](const std::string& why) {
    return MakeError(ErrorKind::kInvalidArgument, "journal_corrupt",
                     file.string() + " line " + std::to_string(number) + ": " + why + "; nothing was changed");
  };
  while (std::getline(in, raw)) {
    ++number;
    if (raw.empty()) continue;
    if (raw.size() > kMaxJournalLineBytes) return corrupt("longer than " + std::to_string(kMaxJournalLineBytes));
    if (out.size() == kMaxJournalLines) return corrupt("more than " + std::to_string(kMaxJournalLines) + " lines");
    json j = json::parse(raw, nullptr, false);
    if (!j.is_object()) return corrupt("not a JSON object");
    JournalLine line{raw, Field(j, "reportId"), Field(j, "reasonCode"), Field(j, "note")};
    if (line.report_id.empty() || line.report_id.size() > 128) return corrupt("no reportId");
    if (!line.reason_code.empty()) {
      if (auto s = service::CheckErasureRequest({line.report_id, line.reason_code, line.note}); !s.ok()) {
        return corrupt(s.error().message);
      }
    }
    out.push_back(std::move(line));
  }
  if (in.bad()) return MakeError(ErrorKind::kIoError, "io_error", "reading " + file.string());
  return out;
}

}  // namespace

Result<std::string> OrganizationAdministrator(const identity::Organization& org, std::string_view preferred) {
  if (!preferred.empty()) {
    auto user = org.users().GetUser(preferred);
    if (!user.ok()) return user.error();
    if (user->role != identity::Role::kAdmin || user->disabled) {
      return MakeError(ErrorKind::kInvalidArgument, "not_an_administrator",
                       std::string(preferred) + " is not an enabled administrator of this organisation");
    }
    return std::string(preferred);
  }
  const auto users = org.users().ListUsers();
  for (const auto& u : users) {
    if (u.role == identity::Role::kAdmin && !u.disabled) return u.username;
  }
  // Disabling refuses sign-in, not the ledger identity: an organisation whose administrators are all disabled can
  // still read its erasures at start-up and erase from the console.
  for (const auto& u : users) {
    if (u.role == identity::Role::kAdmin) return u.username;
  }
  return MakeError(ErrorKind::kNotFound, "no_administrator", "the organisation has no administrator");
}

Result<std::unique_ptr<ledger::embedded::EmbeddedLedger>> OpenLedgerForCommand(const identity::Organization& org) {
  auto options = ledger::embedded::OptionsForOrganization(org, contract::NewRecordsContract());
  options.chaincode = std::string(contract::kRecordsNamespace);
  options.genesis_block = true;
  options.batch.timeout_ms = 1;  // one transaction at a time: cut at once
  auto opened = ledger::embedded::EmbeddedLedger::Open(std::move(options));
  if (!opened.ok() && opened.error().code == "locked") {
    return MakeError(ErrorKind::kConflict, "server_running",
                     "a running medledger server holds this data directory's ledger: erase through the API "
                     "(POST /api/v1/reports/{id}/erasure) or the web app, or stop the server first");
  }
  return opened;
}

Status ReplayErasureJournal(const std::filesystem::path& data_dir, const std::filesystem::path& journal,
                            const ReplayOptions& options, ReplayCounts* counts) {
  ReplayCounts local;
  ReplayCounts& c = counts != nullptr ? *counts : local;
  c = ReplayCounts{};
  ML_ASSIGN_OR_RETURN(std::vector<JournalLine> lines, ReadJournal(journal));
  ML_ASSIGN_OR_RETURN(auto org, identity::Organization::Open(data_dir));
  ML_ASSIGN_OR_RETURN(std::string admin_name, OrganizationAdministrator(*org, options.admin));
  ML_ASSIGN_OR_RETURN(auto admin, org->LoadIdentity(admin_name));
  ML_ASSIGN_OR_RETURN(auto ledger, OpenLedgerForCommand(*org));
  ML_ASSIGN_OR_RETURN(auto keystore, OpenReportKeystore(data_dir, org->master_key()));
  const std::filesystem::path own_journal = service::ErasureJournalPath(data_dir);
  for (const auto& line : lines) {
    ++c.lines;
    if (!line.reason_code.empty()) {
      auto erased = service::EraseReportSteps(*ledger, admin, *keystore, own_journal,
                                              {line.report_id, line.reason_code, line.note});
      if (erased.ok()) {
        ++c.recorded;
        c.keys_destroyed += erased->keys_destroyed;
        continue;
      }
      const std::string& code = erased.error().code;
      if (code != "already_erased" && code != "report_not_found") return erased.error();
      (code == "already_erased" ? c.already_erased : c.not_on_ledger) += 1;
    } else {
      ++c.without_code;
    }
    // Nothing to record on this ledger, but keys the restored keystore still holds must go all the same.
    ML_ASSIGN_OR_RETURN(size_t destroyed, service::ShredIfPresent(*keystore, line.report_id));
    c.keys_destroyed += destroyed;
    if (destroyed != 0 && line.reason_code.empty()) {
      ML_RETURN_IF_ERROR(io::AppendLineDurably(*io::Env::Default(), own_journal, line.raw));
    }
  }
  return OkStatus();
}

}  // namespace medledger::app
