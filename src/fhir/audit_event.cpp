#include "fhir/audit_event.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;

constexpr const char* kRestful = "http://hl7.org/fhir/restful-interaction";
constexpr const char* kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr const char* kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool Bool(const json& obj, const char* name) {
  if (!obj.is_object()) return false;
  auto it = obj.find(name);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

struct Pattern {
  const char* profile;      // BALP profile name, nullptr: none applies
  const char* interaction;  // restful-interaction code
  const char* action;       // C R U D E
  const char* data_type;    // the data entity's resource type, nullptr: the Patient is the data
};

Pattern PatternFor(const std::string& kind) {
  if (kind == "read" || kind == "emergency") return {"IHE.BasicAudit.PatientRead", "read", "R", "DiagnosticReport"};
  if (kind == "lookup") return {"IHE.BasicAudit.PatientRead", "read", "R", nullptr};
  if (kind == "search") return {"IHE.BasicAudit.PatientQuery", "search-type", "E", nullptr};
  if (kind == "consent_granted") return {"IHE.BasicAudit.PatientCreate", "create", "C", "Consent"};
  if (kind == "consent_revoked") return {"IHE.BasicAudit.PatientUpdate", "update", "U", "Consent"};
  if (kind == "report_erased") return {"IHE.BasicAudit.PatientDelete", "delete", "D", "DiagnosticReport"};
  if (kind == "report_created") return {"IHE.BasicAudit.PatientCreate", "create", "C", "DiagnosticReport"};
  if (kind == "report_amended") return {"IHE.BasicAudit.PatientUpdate", "update", "U", "DiagnosticReport"};
  if (kind == "patient_registered") return {"IHE.BasicAudit.PatientCreate", "create", "C", nullptr};
  return {nullptr, nullptr, "E", nullptr};
}

json Coding(const char* system, const std::string& code, const char* display = nullptr) {
  json c = {{"system", system}, {"code", code}};
  if (display != nullptr) c["display"] = display;
  return c;
}

}  // namespace

json AccessEventToAuditEvent(const json& e, const std::string& home_msp) {
  const std::string kind = Str(e, "kind");
  const Pattern pat = PatternFor(kind);
  const std::string patient = Str(e, "patientId");
  std::string msp = Str(e, "actorMsp");
  if (msp.empty()) msp = home_msp;
  const std::string actor = Str(e, "actor");
  const bool emergency = Bool(e, "emergency") || kind == "emergency";

  json subtype = json::array();
  if (pat.interaction != nullptr) subtype.push_back(Coding(kRestful, pat.interaction));
  if (!kind.empty()) subtype.push_back(Coding(kAuditKindSystem, kind));

  const bool reads = pat.action == std::string("R") || pat.action == std::string("E");
  json user = {
      {"type",
       {{"coding",
         json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", reads ? "IRCP" : "AUT")})}}},
      {"who",
       {{"identifier", {{"system", "urn:medledger:msp:" + msp}, {"value", actor}}},
        {"display", actor + " (" + msp + ")"}}},
      {"requestor", true}};
  if (!Str(e, "actorRole").empty()) user["role"] = json::array({{{"text", Str(e, "actorRole")}}});
  // BALP's UserAgentTypes: the patient acting on their own record is also PAT.
  if (Str(e, "actorRole") == "patient") {
    user["type"]["coding"].push_back(Coding("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PAT", "patient"));
  }
  json agents = json::array({{{"type", {{"coding", json::array({Coding(kDcm, "110153", "Source Role ID")})}}},
                              {"who", {{"display", "medledger API client of " + actor}}},
                              {"requestor", false}},
                             {{"type", {{"coding", json::array({Coding(kDcm, "110152", "Destination Role ID")})}}},
                              {"who",
                               {{"identifier", {{"system", "urn:medledger:msp"}, {"value", home_msp}}},
                                {"display", "medledger node of " + home_msp}}},
                              {"requestor", false}},
                             user});

  json entities = json::array();
  if (!patient.empty()) {
    entities.push_back({{"what", {{"reference", "Patient/" + patient}}},
                        {"type", Coding(kEntityType, "1", "Person")},
                        {"role", Coding(kObjectRole, "1", "Patient")}});
  }
  std::string data_ref;
  if (pat.data_type != nullptr && std::string(pat.data_type) == "DiagnosticReport" && !Str(e, "reportId").empty()) {
    data_ref = "DiagnosticReport/" + Str(e, "reportId");
  } else if (pat.data_type != nullptr && std::string(pat.data_type) == "Consent" && !Str(e, "consentId").empty()) {
    data_ref = "Consent/" + Str(e, "consentId");
  } else if (kind == "lookup" && !patient.empty()) {
    data_ref = "Patient/" + patient;
  }
  if (!data_ref.empty()) {
    entities.push_back({{"what", {{"reference", data_ref}}},
                        {"type", Coding(kEntityType, "2", "System Object")},
                        {"role", Coding(kObjectRole, "4", "Domain Resource")}});
  }
  if (kind == "search") {
    entities.push_back({{"type", Coding(kEntityType, "2", "System Object")},
                        {"role", Coding(kObjectRole, "24", "Query")},
                        {"query", "a2luZD1zZWFyY2g="}});  // base64("kind=search"): the contract keeps no query text
  }
  const std::string tx = Str(e, "txId");
  if (!tx.empty()) {
    entities.push_back({{"what", {{"identifier", {{"system", "urn:medledger:ledger:tx"}, {"value", tx}}}}},
                        {"type", Coding(kEntityType, "2", "System Object")},
                        {"description", "the ledger transaction that recorded this event"}});
  }

  json out = {{"resourceType", "AuditEvent"},
              {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation")},
              {"action", pat.action},
              {"recorded", Str(e, "timestamp")},
              {"outcome", "0"},
              {"agent", agents},
              {"source",
               {{"site", home_msp},
                {"observer", {{"display", "medledger ledger of " + home_msp}}},
                {"type", json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
                                             "Application Server")})}}},
              {"entity", entities}};
  const std::string id = Str(e, "eventId").empty() ? tx : Str(e, "eventId");
  if (!id.empty()) out["id"] = id;
  if (!subtype.empty()) out["subtype"] = subtype;
  if (pat.profile != nullptr) out["meta"] = {{"profile", json::array({std::string(kBalpBase) + pat.profile})}};
  if (emergency) {
    out["purposeOfEvent"] =
        json::array({{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "ETREAT",
                                                     "Emergency Treatment")})}}});
  } else if (Str(e, "purpose") == "treatment") {
    out["purposeOfEvent"] = json::array(
        {{{"coding",
           json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT", "treatment")})}}});
  }
  return out;
}

namespace {
void AddCoding(const json& c, std::vector<std::pair<std::string, std::string>>* out) {
  if (c.is_object()) out->emplace_back(Str(c, "system"), Str(c, "code"));
}
}  // namespace

std::vector<std::pair<std::string, std::string>> AuditTypeCodings(const json& a) {
  std::vector<std::pair<std::string, std::string>> out;
  if (a.is_object() && a.contains("type")) AddCoding(a["type"], &out);
  return out;
}

std::vector<std::pair<std::string, std::string>> AuditSubtypeCodings(const json& a) {
  std::vector<std::pair<std::string, std::string>> out;
  if (a.is_object() && a.contains("subtype") && a["subtype"].is_array()) {
    for (const auto& c : a["subtype"]) AddCoding(c, &out);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> AuditAgentCodings(const json& a) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!a.is_object() || !a.contains("agent") || !a["agent"].is_array()) return out;
  for (const auto& agent : a["agent"]) {
    if (!agent.is_object() || !Bool(agent, "requestor") || !agent.contains("who")) continue;
    const json& who = agent["who"];
    if (!who.is_object() || !who.contains("identifier")) continue;
    const std::string system = Str(who["identifier"], "system");
    const std::string value = Str(who["identifier"], "value");
    out.emplace_back(system, value);
    // agent=<MSP>|<username> as well as agent=<username>: the MSP without the URN prefix.
    constexpr std::string_view kPrefix = "urn:medledger:msp:";
    if (system.rfind(kPrefix, 0) == 0) out.emplace_back(system.substr(kPrefix.size()), value);
  }
  return out;
}

}  // namespace medledger::fhir
