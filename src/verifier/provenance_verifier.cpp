#include "verifier/provenance_verifier.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time.h"

namespace medledger::verifier {
namespace {

using json = nlohmann::json;

// The names docs/FHIR.md gives (and fhir/provenance.h writes); the verifier does not link the server's code.
constexpr std::string_view kSigFormat = "application/vnd.hyperledger.fabric.envelope+protobuf";
constexpr std::string_view kTxSystem = "urn:medledger:ledger:tx";
constexpr std::string_view kMspSystemPrefix = "urn:medledger:msp:";
constexpr size_t kMaxProvenanceBytes = 2 << 20;

Error Malformed(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "provenance_malformed", std::move(message));
}
Error Mismatch(std::string message) {
  return MakeError(ErrorKind::kCorruption, "provenance_mismatch", std::move(message));
}

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& Obj(const json& obj, const char* name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

}  // namespace

Result<receipt::VerifiedLedgerEvidence> VerifyProvenanceSignature(std::string_view text, const TrustSet& trust) {
  if (text.size() > kMaxProvenanceBytes) return Malformed("the Provenance is larger than any medledger writes");
  const json p = json::parse(text, nullptr, false);
  if (!p.is_object() || Str(p, "resourceType") != "Provenance") return Malformed("not a FHIR Provenance");
  const json& sigs = Obj(p, "signature");
  if (!sigs.is_array() || sigs.empty()) return Malformed("the Provenance carries no signature");
  const json& sig = sigs[0];
  if (Str(sig, "sigFormat") != kSigFormat) return Malformed("signature.sigFormat is not a Fabric envelope");

  // The transaction the Provenance claims: its ledger entity.
  std::string tx_id;
  const json& entities = Obj(p, "entity");
  if (entities.is_array()) {
    for (const auto& e : entities) {
      const json& id = Obj(Obj(e, "what"), "identifier");
      if (Str(id, "system") == kTxSystem) tx_id = Str(id, "value");
    }
  }
  if (tx_id.empty()) return Malformed("no entity names the ledger transaction");
  // The target version: DiagnosticReport/<id>/_history/<v>.
  const json& targets = Obj(p, "target");
  const std::string target = targets.is_array() && !targets.empty() ? Str(targets[0], "reference") : "";
  constexpr std::string_view kPrefix = "DiagnosticReport/";
  const size_t hist = target.find("/_history/");
  if (target.rfind(kPrefix, 0) != 0 || hist == std::string::npos || hist <= kPrefix.size()) {
    return Malformed("target is not DiagnosticReport/<id>/_history/<version>");
  }
  const std::string report_id = target.substr(kPrefix.size(), hist - kPrefix.size());
  const std::string version = target.substr(hist + 10);

  auto envelope = Base64Decode(Str(sig, "data"));
  if (!envelope.ok()) return Malformed("signature.data is not base64");
  ML_ASSIGN_OR_RETURN(auto ledger_trust, receipt::LedgerTrust::FromPem(trust.org_roots_pem));
  ML_ASSIGN_OR_RETURN(auto verified, receipt::VerifyTransactionEnvelope(*envelope, tx_id, {}, ledger_trust));

  const json& who = Obj(Obj(sig, "who"), "identifier");
  const std::string who_system = Str(who, "system");
  const std::string who_name = Str(who, "value");
  bool endorsed = false;
  for (const auto& e : verified.endorsers) {
    endorsed = endorsed || (who_system == std::string(kMspSystemPrefix) + e.msp_id && who_name == e.common_name);
  }
  if (!endorsed) return Mismatch("signature.who is not an endorser of the transaction");

  const json event = verified.event ? json::parse(verified.event->payload, nullptr, false) : json();
  const json& ev_version = Obj(event, "version");
  if (Str(event, "reportId") != report_id || !ev_version.is_number_integer() ||
      std::to_string(ev_version.get<int64_t>()) != version) {
    return Mismatch("the endorsed event is not the creation or amendment of " + target);
  }
  auto when = Timestamp::FromRfc3339(Str(sig, "when"));
  if (!when.ok() || when->seconds != verified.timestamp.seconds) {
    return Mismatch("signature.when is not the transaction's time");
  }
  return verified;
}

}  // namespace medledger::verifier
