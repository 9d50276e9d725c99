// The CapabilityStatement lists exactly the table the routes and the parser are built from.
#include "fhir/capability.h"

#include <gtest/gtest.h>

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

// Every search parameter the statement advertises is one the parser accepts in strict mode.
TEST(FhirCapability, EveryAdvertisedSearchParamParsesStrictly) {
  for (const auto& r : SupportedResources()) {
    if (std::string(r.type) == "AuditEvent") continue;  // its own route, not the parser (a later slice)
    auto kind = std::string(r.type) == "Patient" ? SearchResource::kPatient : SearchResource::kDiagnosticReport;
    for (const auto& p : r.search_params) {
      std::string name = p.name;
      std::string value = std::string(p.type) == "date" ? "ge2026" : std::string(p.type) == "number" ? "5" : "x1";
      if (name == "status") value = "final";  // a token from a closed value set
      std::string q = name + "=" + value;
      if (kind == SearchResource::kDiagnosticReport && name != "patient" && name != "subject" && name != "_id") {
        q += "&patient=x1";
      }
      auto parsed = ParseSearch(kind, q, /*strict=*/true);
      EXPECT_TRUE(parsed.ok()) << r.type << " " << q << ": " << (parsed.ok() ? "" : parsed.issues[0].message);
    }
    for (const char* inc : r.search_include) {
      EXPECT_TRUE(ParseSearch(kind, std::string("patient=x1&_include=") + inc, true).query.include_subject);
    }
  }
}

}  // namespace
}  // namespace medledger::fhir
