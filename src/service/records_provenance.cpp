// RecordsService::ReportTransactions: a report's versions with the transactions that wrote them, for the FHIR
// Provenance (docs/FHIR.md). In its own file because it needs the receipt's envelope checks and nothing else
// of the records workflow.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "receipt/ledger_evidence.h"
#include "service/records_service.h"

namespace medledger::service {

Result<std::vector<RecordsService::VersionTransaction>> RecordsService::ReportTransactions(
    const Principal& who, const std::string& report_id, std::optional<int64_t> only_version, size_t max_versions) {
  using json = nlohmann::json;
  ML_ASSIGN_OR_RETURN(std::string text, ReportHistory(who, report_id));
  json history = json::parse(text, nullptr, false);
  std::vector<json> versions;
  if (history.is_object() && history.contains("items") && history["items"].is_array()) {
    for (const auto& v : history["items"]) {
      if (v.is_object()) versions.push_back(v);
    }
  }
  std::sort(versions.begin(), versions.end(), [](const json& a, const json& b) {
    return a.value("version", int64_t{0}) < b.value("version", int64_t{0});
  });
  // Each version costs a ledger lookup and an envelope check: only those asked for, at most `max_versions`.
  if (only_version) {
    std::erase_if(versions, [&](const json& v) { return v.value("version", int64_t{0}) != *only_version; });
  }
  if (versions.size() > max_versions) {
    versions.erase(versions.begin(), versions.end() - static_cast<std::ptrdiff_t>(max_versions));
  }
  // The server names an endorser only after checking the signatures itself, with the trust a verifier has.
  ML_ASSIGN_OR_RETURN(auto trust, receipt::LedgerTrust::FromPem(p_.org->ca_certificate().ToPem()));
  std::vector<VersionTransaction> out;
  for (const auto& v : versions) {
    VersionTransaction t;
    t.version_json = v.dump();
    const std::string tx_id = v.value("txId", "");
    ML_ASSIGN_OR_RETURN(auto proof, p_.ledger->GetTransactionProof(tx_id));
    t.envelope = std::move(proof.envelope);
    t.recorded = v.value("updatedAt", v.value("createdAt", ""));
    // A transaction endorsed by another organisation's peer (a consortium) does not chain to this CA: its
    // Provenance then carries no signature rather than one the server could not check.
    auto verified = receipt::VerifyTransactionEnvelope(t.envelope, tx_id, {}, trust);
    if (verified.ok() && !verified->endorsers.empty()) {
      t.recorded = verified->timestamp.ToRfc3339();
      t.endorser_msp = verified->endorsers[0].msp_id;
      t.endorser_name = verified->endorsers[0].common_name;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace medledger::service
