#include "fhir/capability.h"

#include <algorithm>

namespace medledger::fhir {
namespace {

using json = nlohmann::json;

constexpr const char* kReportInteractions[] = {"read", "vread", "search-type", "create", "history-instance"};
constexpr SearchParamSpec kReportParams[] = {
    {"_id", "token", "The report ID."},
    {"patient", "reference", "The patient (bare ID or Patient/<id>); a search needs patient, subject or _id."},
    {"subject", "reference", "Patient/<id>; the same as patient."},
    {"status", "token", "final | amended."},
    {"date", "date", "effectiveDateTime (the first version's submission time), with prefixes eq ne lt gt le ge sa eb."},
    {"_lastUpdated", "date", "The time of the current version."},
    {"_count", "number", "Entries per page: default 20, at most 100 (larger is clamped)."},
};
constexpr const char* kReportIncludes[] = {"DiagnosticReport:subject"};
constexpr const char* kReportRevIncludes[] = {"Provenance:target"};

constexpr const char* kPatientInteractions[] = {"read", "search-type"};
constexpr SearchParamSpec kPatientParams[] = {
    {"_id", "token", "The patient ID (a recorded lookup)."},
    {"name", "string", "Part of the name (case-insensitive), the directory's search."},
    {"birthdate", "date", "birthDate, with prefixes."},
    {"_count", "number", "Entries per page: default 20, at most 100."},
};

constexpr const char* kProvenanceInteractions[] = {"read", "search-type"};
constexpr SearchParamSpec kProvenanceParams[] = {
    {"target", "reference", "DiagnosticReport/<id>: every version's Provenance (required)."},
    {"_count", "number", "Entries per page: default 20, at most 100."},
};

constexpr const char* kAuditInteractions[] = {"search-type"};
constexpr SearchParamSpec kAuditParams[] = {
    {"patient", "reference", "The patient the events concern (auditors: any; patients: their own)."},
    {"agent", "token", "The requesting user: <username> or <MSP>|<username>."},
    {"date", "date", "AuditEvent.recorded, with prefixes eq ne lt gt le ge sa eb."},
    {"type", "token", "http://terminology.hl7.org/CodeSystem/audit-event-type|rest."},
    {"subtype", "token",
     "http://hl7.org/fhir/restful-interaction|read (create, update, delete, search-type), or "
     "urn:medledger:audit-kind|<kind> (read, emergency, consent_granted, consent_revoked, report_erased, ...)."},
    {"_count", "number", "Entries per page: default 20, at most 100."},
};

constexpr const char* kConsentInteractions[] = {"read", "search-type", "create", "update"};
constexpr SearchParamSpec kConsentParams[] = {
    {"patient", "reference", "The patient whose grants are listed (required)."},
    {"status", "token", "active | inactive."},
    {"actor", "token", "The doctor granted: <username>, <MSP>|<username> or Practitioner/<username>."},
    {"_count", "number", "Entries per page: default 20, at most 100."},
};

constexpr const char* kGroupInteractions[] = {"read"};

constexpr ResourceSpec kResources[] = {
    {"DiagnosticReport", kReportInteractions, kReportParams, kReportIncludes, kReportRevIncludes},
    {"Patient", kPatientInteractions, kPatientParams, {}, {}},
    {"Provenance", kProvenanceInteractions, kProvenanceParams, {}, {}},
    {"AuditEvent", kAuditInteractions, kAuditParams, {}, {}},
    {"Consent", kConsentInteractions, kConsentParams, {}, {}},
    // Administrator-defined Bulk Data Groups (docs/FHIR.md): read by their system client, exported with $export.
    {"Group", kGroupInteractions, {}, {}, {}},
};

}  // namespace

std::span<const ResourceSpec> SupportedResources() {
  return kResources;
}

bool Supports(const std::string& resource_type, const std::string& interaction) {
  for (const auto& r : kResources) {
    if (resource_type != r.type) continue;
    return std::any_of(r.interactions.begin(), r.interactions.end(), [&](const char* i) { return interaction == i; });
  }
  return false;
}

json CapabilityStatement(const std::string& software_version, const std::string& base_url, const OAuthUris& oauth) {
  json resources = json::array();
  for (const auto& r : kResources) {
    json interactions = json::array();
    for (const char* i : r.interactions) interactions.push_back({{"code", i}});
    json params = json::array();
    for (const auto& p : r.search_params) {
      params.push_back({{"name", p.name}, {"type", p.type}, {"documentation", p.documentation}});
    }
    json res = {{"type", r.type}, {"interaction", std::move(interactions)}};
    if (!params.empty()) res["searchParam"] = std::move(params);
    if (!r.search_include.empty()) {
      json inc = json::array();
      for (const char* i : r.search_include) inc.push_back(i);
      res["searchInclude"] = std::move(inc);
    }
    if (!r.search_rev_include.empty()) {
      json inc = json::array();
      for (const char* i : r.search_rev_include) inc.push_back(i);
      res["searchRevInclude"] = std::move(inc);
    }
    if (std::string(r.type) == "AuditEvent") {
      res["supportedProfile"] = json::array();
      for (const char* p : {"PatientRead", "PatientQuery", "PatientCreate", "PatientUpdate", "PatientDelete"}) {
        res["supportedProfile"].push_back(
            std::string("https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.") + p);
      }
    }
    // Bulk Data $export (FHIR Bulk Data Access 2.0): patient-level for Patient, group-level for Group.
    if (std::string(r.type) == "Patient" || std::string(r.type) == "Group") {
      const std::string level = std::string(r.type) == "Patient" ? "patient" : "group";
      res["operation"] =
          json::array({{{"name", "export"},
                        {"definition", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/" + level + "-export"}}});
    }
    if (std::string(r.type) == "DiagnosticReport") {
      res["versioning"] = "versioned";
      res["readHistory"] = true;
    }
    resources.push_back(std::move(res));
  }
  json security = {{"description",
                    "Bearer tokens from /api/v1/auth/login (or the configured OIDC provider), a SMART app's token "
                    "from the authorization code flow with PKCE, or a backend-services token (client_credentials "
                    "with a private_key_jwt assertion, ES384 or RS384) for Group $export; every interaction but "
                    "metadata needs one."}};
  if (!oauth.authorize.empty()) {
    security["cors"] = true;  // with SMART, the FHIR API answers browser apps of any origin (bearer tokens only)
    security["service"] = json::array(
        {{{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/restful-security-service"},
                                   {"code", "SMART-on-FHIR"}}})}}});
    security["extension"] =
        json::array({{{"url", "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"},
                      {"extension", json::array({{{"url", "authorize"}, {"valueUri", oauth.authorize}},
                                                 {{"url", "token"}, {"valueUri", oauth.token}}})}}});
  }
  return {{"resourceType", "CapabilityStatement"},
          {"status", "active"},
          {"instantiates", json::array({"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"})},
          {"date", "2026-12-07"},
          {"kind", "instance"},
          {"software", {{"name", "medledger"}, {"version", software_version}}},
          {"implementation", {{"description", "medledger FHIR R4 API"}, {"url", base_url}}},
          // R4. The official R4 JSON schema that validates our answers (tests/peers/fhir_validate.js) enumerates
          // FHIRVersion up to 4.0.0; 4.0.1 is a technical correction of the same release.
          {"fhirVersion", "4.0.0"},
          {"format", json::array({"json"})},
          {"rest",
           json::array({{{"mode", "server"}, {"security", std::move(security)}, {"resource", std::move(resources)}}})}};
}

}  // namespace medledger::fhir
