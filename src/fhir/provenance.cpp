#include "fhir/provenance.h"

#include <charconv>

#include "common/encoding.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& obj, const char* name, int64_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(name);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

json Organization(const std::string& msp) {
  return {
      {"type", "Organization"}, {"identifier", {{"system", "urn:medledger:msp"}, {"value", msp}}}, {"display", msp}};
}

}  // namespace

std::string ProvenanceId(std::string_view report_id, int64_t version) {
  return std::string(report_id) + "-v" + std::to_string(version);
}

std::optional<ProvenanceKey> ParseProvenanceId(std::string_view id) {
  const size_t at = id.rfind("-v");
  if (at == std::string_view::npos || at == 0 || id.size() > 64) return std::nullopt;
  std::string_view digits = id.substr(at + 2);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || digits.size() > 10 || ec != std::errc() || ptr != digits.data() + digits.size() || v < 1 ||
      digits[0] == '0') {
    return std::nullopt;
  }
  return ProvenanceKey{std::string(id.substr(0, at)), v};
}

json ReportProvenance(const ProvenanceInput& in) {
  const json& v = in.version;
  const std::string report_id = Str(v, "reportId");
  const int64_t version = Int(v, "version", 1);
  std::string author_msp = Str(v, "authorMsp");
  if (author_msp.empty()) author_msp = in.home_msp;
  const std::string author = Str(v, "author");
  const std::string tx_id = Str(v, "txId");
  const std::string target = "DiagnosticReport/" + report_id + "/_history/" + std::to_string(version);

  json agents = json::array();
  agents.push_back(
      {{"type",
        {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type"},
                                  {"code", "author"}}})}}},
       {"who",
        {{"identifier", {{"system", "urn:medledger:msp:" + author_msp}, {"value", author}}},
         {"display", author + " (" + author_msp + ")"}}},
       {"onBehalfOf", Organization(author_msp)}});
  const json endorser = {
      {"identifier", {{"system", "urn:medledger:msp:" + in.endorser_msp}, {"value", in.endorser_name}}},
      {"display", in.endorser_name + " (" + in.endorser_msp + ")"}};
  if (!in.endorser_name.empty()) {
    agents.push_back(
        {{"type",
          {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type"},
                                    {"code", "verifier"}}})}}},
         {"who", endorser},
         {"onBehalfOf", Organization(in.endorser_msp)}});
  }

  json entities = json::array();
  entities.push_back({{"role", "source"},
                      {"what",
                       {{"identifier", {{"system", kLedgerTxSystem}, {"value", tx_id}}},
                        {"display", "ledger transaction " + tx_id}}}});
  if (!in.receipt_url.empty()) {
    entities.push_back({{"role", "source"},
                        {"what", {{"reference", in.receipt_url}, {"display", "medledger receipt of this version"}}}});
  }
  if (version > 1) {
    entities.push_back(
        {{"role", "revision"},
         {"what", {{"reference", "DiagnosticReport/" + report_id + "/_history/" + std::to_string(version - 1)}}}});
  }

  json out = {{"resourceType", "Provenance"},
              {"id", ProvenanceId(report_id, version)},
              {"target", json::array({{{"reference", target}}})},
              {"recorded", in.recorded},
              {"activity",
               {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-DataOperation"},
                                         {"code", version > 1 ? "UPDATE" : "CREATE"}}})}}},
              {"agent", agents},
              {"entity", entities}};
  if (!in.envelope.empty() && !in.endorser_name.empty()) {
    out["signature"] = json::array({{{"type", json::array({{{"system", kSignatureTypeSystem},
                                                            {"code", kVerificationSignature},
                                                            {"display", "Verification Signature"}}})},
                                     {"when", in.recorded},
                                     {"who", endorser},
                                     {"onBehalfOf", Organization(in.endorser_msp)},
                                     {"targetFormat", kEndorsedTargetFormat},
                                     {"sigFormat", kEnvelopeSigFormat},
                                     {"data", Base64Encode(in.envelope)}}});
  }
  return out;
}

}  // namespace medledger::fhir
