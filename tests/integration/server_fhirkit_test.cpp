// A real, independent FHIR client against the real server (issue: "Tested against real clients"): fhir-kit-client
// (npm, tests/peers/fhir_kit_client.mjs) creates, reads, vreads, searches and pages through next links, kicks
// off a Bulk Data $export, polls to the manifest and downloads the files. The test asserts what the client saw
// against what the server holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "server_harness.h"
#include "source_dir.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

TEST(FhirKitClientTest, CrudSearchPagingAndBulkExport) {
  if (RunCommand("command -v node").exit_code != 0) GTEST_SKIP() << "node is not installed";
  ServerProcess server;
  ASSERT_TRUE(server.ok());
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string base = server.base_url() + "/fhir/r4";
  auto run = RunCommand(std::string("cd '") + MEDLEDGER_SOURCE_DIR + "/tests/peers' && node fhir_kit_client.mjs '" +
                        base + "' '" + doctor + "' '" + alice + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // The client prints its observations as one JSON object on the last line.
  const auto at = run.output.rfind("{\"capabilityKind\"");
  ASSERT_NE(at, std::string::npos) << run.output;
  const std::string last = run.output.substr(at);
  json seen = json::parse(last, nullptr, false);
  ASSERT_TRUE(seen.is_object()) << run.output;
  SCOPED_TRACE(seen.dump());

  EXPECT_EQ(seen["capabilityKind"], "instance");
  ASSERT_EQ(seen["created"].size(), 3u);
  std::set<std::string> created;
  for (const auto& c : seen["created"]) {
    EXPECT_EQ(c["resourceType"], "DiagnosticReport");
    EXPECT_EQ(c["versionId"], "1");
    EXPECT_EQ(c["id"].get<std::string>().size(), 32u);
    created.insert(c["id"].get<std::string>());
  }
  EXPECT_EQ(created.size(), 3u);
  EXPECT_EQ(seen["read"]["id"], seen["created"][0]["id"]);
  EXPECT_EQ(seen["read"]["conclusion"], "conclusion of fhir-kit one");
  EXPECT_EQ(seen["read"]["text"], "text of fhir-kit one");
  EXPECT_EQ(seen["vread"]["id"], seen["created"][1]["id"]);
  EXPECT_EQ(seen["vread"]["versionId"], "1");
  EXPECT_EQ(seen["vread"]["conclusion"], "conclusion of fhir-kit two");
  EXPECT_EQ(seen["patient"]["id"], alice);

  // Paging: one entry a page, every report of the search exactly once, as many pages as entries.
  const auto search_ids = seen["searchIds"].get<std::vector<std::string>>();
  const std::set<std::string> search_set(search_ids.begin(), search_ids.end());
  EXPECT_EQ(search_set.size(), search_ids.size()) << "a report repeated across pages";
  EXPECT_EQ(seen["pages"].get<size_t>(), search_ids.size());
  for (const auto& id : created) EXPECT_TRUE(search_set.count(id)) << id;
  // The same as the JSON API's listing for this doctor.
  json listing = ParseBody(server.Get("/api/v1/patients/" + alice + "/reports?pageSize=100", doctor));
  EXPECT_EQ(listing["items"].size(), search_ids.size());

  // Bulk export through the client: 202 with a status URL, polled to a manifest, files downloadable.
  EXPECT_EQ(seen["kickoffStatus"], 202);
  EXPECT_EQ(seen["statusUrl"].get<std::string>().rfind(base + "/bulk-status/", 0), 0u) << seen["statusUrl"];
  EXPECT_TRUE(seen["manifest"]["requiresAccessToken"].get<bool>());
  EXPECT_TRUE(seen["manifest"]["error"].empty()) << seen["manifest"].dump();
  EXPECT_NE(seen["manifest"]["request"].get<std::string>().find("/Patient/" + alice + "/$export"), std::string::npos);
  const json& dr = seen["files"]["DiagnosticReport"];
  EXPECT_EQ(dr["status"], 200);
  EXPECT_EQ(dr["contentType"], "application/fhir+ndjson");
  EXPECT_EQ(dr["types"], json::array({"DiagnosticReport"}));
  const auto exported = dr["ids"].get<std::vector<std::string>>();
  EXPECT_EQ(std::set<std::string>(exported.begin(), exported.end()), search_set);
  EXPECT_EQ(dr["count"].get<size_t>(), exported.size());
  EXPECT_EQ(seen["files"]["Patient"]["ids"], json::array({alice}));
  EXPECT_EQ(seen["deleteStatus"], 202);
  EXPECT_EQ(seen["afterDelete"], 404);
}

}  // namespace
}  // namespace medledger::testing
