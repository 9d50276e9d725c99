// The CapabilityStatement lists exactly the table the routes and the parser are built from.
#include "fhir/capability.h"

#include <gtest/gtest.h>

#include <map>

#include "fhir/search_params.h"

namespace medledger::fhir {
namespace {

TEST(FhirCapability, StatementIsJsonOnlyR4AndListsTheTable) {
  auto cs = CapabilityStatement("1.0", "http://h/fhir/r4");
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["fhirVersion"].get<std::string>().rfind("4.0.", 0), 0u);
  EXPECT_EQ(cs["format"], nlohmann::json::array({"json"}));
  const auto& resources = cs["rest"][0]["resource"];
  ASSERT_EQ(resources.size(), SupportedResources().size());
  for (size_t i = 0; i < resources.size(); ++i) {
    EXPECT_EQ(resources[i]["type"], SupportedResources()[i].type);
    EXPECT_EQ(resources[i]["interaction"].size(), SupportedResources()[i].interactions.size());
  }
  EXPECT_TRUE(Supports("DiagnosticReport", "vread"));
  EXPECT_TRUE(Supports("Patient", "search-type"));
  EXPECT_FALSE(Supports("Patient", "create"));
  EXPECT_FALSE(Supports("Observation", "read"));
}

// Every search parameter the statement advertises is one the parser accepts in strict mode, for every
// resource type (the AuditEvent, Provenance and Consent searches run through the same parser).
TEST(FhirCapability, EveryAdvertisedSearchParamParsesStrictly) {
  const std::map<std::string, std::pair<SearchResource, std::string>> kinds = {
      {"DiagnosticReport", {SearchResource::kDiagnosticReport, "patient=x1"}},
      {"Patient", {SearchResource::kPatient, ""}},
      {"Provenance", {SearchResource::kProvenance, "target=DiagnosticReport/x1"}},
      {"AuditEvent", {SearchResource::kAuditEvent, ""}},
      {"Consent", {SearchResource::kConsent, "patient=x1"}},
  };
  size_t searchable = 0;
  for (const auto& r : SupportedResources()) searchable += r.search_params.empty() ? 0 : 1;
  ASSERT_EQ(kinds.size(), searchable);
  for (const auto& r : SupportedResources()) {
    if (r.search_params.empty()) continue;  // Group: read and $export only
    ASSERT_TRUE(kinds.count(r.type)) << r.type;
    const auto& [kind, required] = kinds.at(r.type);
    for (const auto& p : r.search_params) {
      std::string name = p.name;
      std::string value = std::string(p.type) == "date" ? "ge2026" : std::string(p.type) == "number" ? "5" : "x1";
      if (name == "status") value = kind == SearchResource::kConsent ? "active" : "final";  // closed value sets
      if (name == "target") value = "DiagnosticReport/x1";
      std::string q = name + "=" + value;
      if (!required.empty() && q != required && name != "subject" && name != "_id") q += "&" + required;
      auto parsed = ParseSearch(kind, q, /*strict=*/true);
      EXPECT_TRUE(parsed.ok()) << r.type << " " << q << ": " << (parsed.ok() ? "" : parsed.issues[0].message);
    }
    for (const char* inc : r.search_include) {
      EXPECT_TRUE(ParseSearch(kind, std::string("patient=x1&_include=") + inc, true).query.include_subject);
    }
    for (const char* inc : r.search_rev_include) {
      EXPECT_TRUE(ParseSearch(kind, std::string("patient=x1&_revinclude=") + inc, true).query.revinclude_provenance);
    }
  }
  // What is not in the table is refused in strict mode.
  EXPECT_FALSE(ParseSearch(SearchResource::kAuditEvent, "_id=x1", true).ok());
  EXPECT_FALSE(ParseSearch(SearchResource::kConsent, "patient=x1&date=2026", true).ok());
  EXPECT_FALSE(ParseSearch(SearchResource::kProvenance, "target=DiagnosticReport/x1&patient=x1", true).ok());
  EXPECT_TRUE(Supports("Consent", "update"));
  EXPECT_FALSE(Supports("Consent", "delete"));
  EXPECT_FALSE(Supports("AuditEvent", "read"));
}

// Bulk Data: the statement instantiates the Bulk Data capability and names patient- and group-level $export
// on Patient and Group, with Group readable.
TEST(FhirCapability, AdvertisesBulkExportOperations) {
  nlohmann::json cs = CapabilityStatement("1.0", "http://x/fhir/r4", {});
  EXPECT_EQ(cs["instantiates"][0], "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data");
  std::map<std::string, std::string> ops;
  bool group_read = false;
  for (const auto& r : cs["rest"][0]["resource"]) {
    for (const auto& op : r.value("operation", nlohmann::json::array())) ops[r["type"]] = op["definition"];
    if (r["type"] == "Group") group_read = r["interaction"] == nlohmann::json::array({{{"code", "read"}}});
  }
  EXPECT_EQ(ops["Patient"], "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export");
  EXPECT_EQ(ops["Group"], "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export");
  EXPECT_EQ(ops.size(), 2u);
  EXPECT_TRUE(group_read);
}

}  // namespace
}  // namespace medledger::fhir
