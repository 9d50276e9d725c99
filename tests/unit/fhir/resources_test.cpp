// The FHIR mapping is pure: any JSON in, issues or a report input out, never an exception (the route used to
// answer 500 when value()/operator[] threw nlohmann::type_error on a wrongly typed member).
#include "fhir/resources.h"

#include <gtest/gtest.h>

#include <random>

#include "common/encoding.h"
#include "random_json.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;

json Valid() {
  return {{"resourceType", "DiagnosticReport"},
          {"subject", {{"reference", "Patient/p-1"}}},
          {"code", {{"text", "Chest X-ray"}}},
          {"conclusion", "Normal"},
          {"presentedForm", json::array({{{"contentType", "text/plain"}, {"data", Base64Encode("findings")}}})}};
}

std::vector<service::FieldIssue> IssuesOf(const json& r) {
  std::vector<service::FieldIssue> issues;
  DiagnosticReportToInput(r, &issues);
  return issues;
}

TEST(FhirMapping, ValidResourceMapsToTheReportInput) {
  std::vector<service::FieldIssue> issues;
  auto in = DiagnosticReportToInput(Valid(), &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(in.patient_id, "p-1");
  EXPECT_EQ(in.title, "Chest X-ray");
  EXPECT_EQ(in.diagnosis, "Normal");
  EXPECT_EQ(in.content, "findings");
}

TEST(FhirMapping, WrongTypesAreIssuesWithTheirFhirPath) {
  struct Case {
    const char* member;
    json value;
    const char* path;
  };
  const Case cases[] = {
      {"resourceType", 7, "DiagnosticReport.resourceType"},
      {"resourceType", "Patient", "DiagnosticReport.resourceType"},
      {"subject", "Patient/p-1", "DiagnosticReport.subject"},
      {"subject", {{"reference", 42}}, "DiagnosticReport.subject.reference"},
      {"subject", {{"reference", "Practitioner/x"}}, "DiagnosticReport.subject.reference"},
      {"code", json::array({1, 2}), "DiagnosticReport.code"},
      {"code", {{"text", json::object()}}, "DiagnosticReport.code.text"},
      {"conclusion", json::array(), "DiagnosticReport.conclusion"},
      {"conclusion", 3.5, "DiagnosticReport.conclusion"},
      {"presentedForm", "x", "DiagnosticReport.presentedForm"},
      {"presentedForm", json::array({"x"}), "DiagnosticReport.presentedForm[0]"},
      {"presentedForm", json::array({{{"data", 5}}}), "DiagnosticReport.presentedForm[0].data"},
      {"presentedForm", json::array({{{"data", "@@not base64@@"}}}), "DiagnosticReport.presentedForm[0].data"},
  };
  for (const auto& c : cases) {
    json r = Valid();
    r[c.member] = c.value;
    auto issues = IssuesOf(r);
    ASSERT_EQ(issues.size(), 1u) << c.member << " = " << c.value.dump();
    EXPECT_EQ(issues[0].field, c.path) << c.value.dump();
  }
  EXPECT_EQ(IssuesOf(json::array()).at(0).field, "DiagnosticReport");
  EXPECT_EQ(IssuesOf("text").at(0).code, "invalid_type");
}

TEST(FhirMapping, OperationOutcomeNamesEachIssue) {
  json problem = {
      {"code", "validation_failed"},
      {"detail", "bad"},
      {"errors", json::array({{{"field", "title"}, {"code", "required"}, {"message", "required here"}},
                              {{"field", "patientId"}, {"code", "invalid"}, {"message", "Patient/<id>"}}})}};
  json o = OperationOutcomeFromProblem(problem, 422);
  EXPECT_EQ(o["resourceType"], "OperationOutcome");
  ASSERT_EQ(o["issue"].size(), 2u);
  EXPECT_EQ(o["issue"][0]["severity"], "error");
  EXPECT_EQ(o["issue"][0]["code"], "required");
  EXPECT_EQ(o["issue"][0]["expression"][0], "DiagnosticReport.code.text");
  EXPECT_EQ(o["issue"][1]["expression"][0], "DiagnosticReport.subject.reference");
  EXPECT_EQ(o["issue"][1]["code"], "invalid");

  json d = OperationOutcomeFromProblem({{"code", "forbidden"}, {"detail", "no"}}, 403);
  ASSERT_EQ(d["issue"].size(), 1u);
  EXPECT_EQ(d["issue"][0]["code"], "forbidden");
  EXPECT_EQ(d["issue"][0]["details"]["coding"][0]["code"], "forbidden");
  EXPECT_FALSE(d["issue"][0].contains("expression"));
  EXPECT_EQ(OperationOutcomeFromProblem(json::array(), 410)["issue"][0]["code"], "not-found");
}

TEST(FhirMapping, FullReadCarriesContentAttachmentsAndR4Hashes) {
  json stored = {{"reportId", "r1"},      {"version", 1},
                 {"patientId", "p1"},     {"title", "Chest"},
                 {"diagnosis", "Normal"}, {"content", "abc"},
                 {"author", "dr.house"},  {"createdAt", "2026-12-07T10:00:00.000Z"},
                 {"cid", "bafy"},         {"attachments", json::array({{{"filename", "scan.png"}}})}};
  json r = ReportToDiagnosticReport(stored, {{"image/png", "PNG"}}, "HospitalAMSP");
  EXPECT_EQ(r["status"], "final");
  EXPECT_EQ(r["code"]["text"], "Chest");
  EXPECT_EQ(r["conclusion"], "Normal");
  ASSERT_EQ(r["presentedForm"].size(), 2u);
  EXPECT_EQ(r["presentedForm"][0]["hash"], "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");  // base64 SHA-1 of "abc"
  EXPECT_EQ(r["presentedForm"][1]["contentType"], "image/png");
  EXPECT_EQ(r["presentedForm"][1]["title"], "scan.png");
  EXPECT_EQ(r["presentedForm"][1]["data"], Base64Encode("PNG"));
  EXPECT_EQ(r["performer"][0]["identifier"]["system"], "urn:medledger:msp:HospitalAMSP");
  EXPECT_EQ(r["identifier"][0]["value"], "urn:cid:bafy");
  json foreign = ReportToDiagnosticReport({{"author", "dr.b"}, {"authorMsp", "HospitalBMSP"}}, {}, "HospitalAMSP");
  EXPECT_EQ(foreign["performer"][0]["identifier"]["system"], "urn:medledger:msp:HospitalBMSP");
}

TEST(FhirMapping, SearchFormIsSubsettedAndHasNoContent) {
  json e = {{"reportId", "r1"},
            {"version", 2},
            {"patientId", "p1"},
            {"author", "dr.house"},
            {"createdAt", "2026-01-02T00:00:00.000Z"},
            {"updatedAt", "2026-02-03T00:00:00.000Z"},
            {"cid", "bafy"},
            {"title", "secret"},
            {"content", "secret"}};
  json r = IndexEntryToDiagnosticReport(e, "M");
  EXPECT_EQ(r["meta"]["tag"][0]["code"], "SUBSETTED");
  EXPECT_EQ(r["status"], "amended");
  EXPECT_EQ(r["effectiveDateTime"], "2026-01-02T00:00:00.000Z");
  EXPECT_EQ(r["meta"]["lastUpdated"], "2026-02-03T00:00:00.000Z");
  EXPECT_FALSE(r.contains("presentedForm"));
  EXPECT_FALSE(r.contains("conclusion"));
  EXPECT_EQ(r.dump().find("secret"), std::string::npos);
}

TEST(FhirMapping, BundlesCarryLinksModesAndTotals) {
  json b = SearchsetBundle({{{{"resourceType", "Patient"}, {"id", "p"}}, "http://x/Patient/p", "include"}},
                           {{"self", "http://x/a"}, {"next", "http://x/b"}}, -1);
  EXPECT_EQ(b["type"], "searchset");
  EXPECT_FALSE(b.contains("total"));
  EXPECT_EQ(b["link"][1]["relation"], "next");
  EXPECT_EQ(b["entry"][0]["search"]["mode"], "include");
  EXPECT_EQ(SearchsetBundle({}, {}, 0)["total"], 0);
  EXPECT_FALSE(SearchsetBundle({}, {}, 0).contains("entry"));
  json h = HistoryBundle("http://x",
                         {{{"resourceType", "DiagnosticReport"}, {"id", "r"}, {"meta", {{"versionId", "2"}}}}}, 1);
  EXPECT_EQ(h["type"], "history");
  EXPECT_EQ(h["entry"][0]["request"]["method"], "PUT");
  EXPECT_EQ(h["entry"][0]["response"]["etag"], "W/\"2\"");
}

TEST(FhirMapping, ReportToDiagnosticReportToleratesMistypedStoredJson) {
  json out = ReportToDiagnosticReport({{"reportId", 5}, {"version", "two"}, {"title", json::array()}}, {}, "M");
  EXPECT_EQ(out["id"], "");
  EXPECT_EQ(out["status"], "final");
  json amended = ReportToDiagnosticReport({{"reportId", "r1"}, {"version", 3}, {"content", "abc"}}, {}, "M");
  EXPECT_EQ(amended["status"], "amended");
  EXPECT_EQ(amended["meta"]["versionId"], "3");
  EXPECT_EQ(amended["presentedForm"][0]["data"], Base64Encode("abc"));
  EXPECT_NO_THROW(ReportToDiagnosticReport(json("not an object"), {}, "M"));
  EXPECT_NO_THROW(IndexEntryToDiagnosticReport(json::array(), "M"));
}

// Random JSON of every type and nesting, and the valid resource with random members replaced: the mapping
// must never throw and must reject anything that is not a usable DiagnosticReport.
constexpr const char* kKeys[] = {"resourceType", "subject",       "reference", "code", "text",
                                 "conclusion",   "presentedForm", "data",      "x",    ""};

json RandomJson(std::mt19937_64& rng, int depth) {
  return testing::RandomJson(rng, depth, kKeys);
}

TEST(FhirMapping, PropertyRandomShapesNeverThrow) {
  std::mt19937_64 rng(20261207);
  const char* members[] = {"resourceType", "subject", "code", "conclusion", "presentedForm"};
  for (int i = 0; i < 20000; ++i) {
    json r = (i % 2) ? RandomJson(rng, 0) : Valid();
    if (i % 2 == 0) {
      for (int k = static_cast<int>(rng() % 3) + 1; k > 0; --k) r[members[rng() % 5]] = RandomJson(rng, 1);
    }
    std::vector<service::FieldIssue> issues;
    service::ReportInput in;
    ASSERT_NO_THROW(in = DiagnosticReportToInput(r, &issues)) << r.dump();
    if (issues.empty()) {
      // Accepted only with a patient reference that was a string "Patient/<id>".
      ASSERT_FALSE(in.patient_id.empty()) << r.dump();
    }
    for (const auto& issue : issues) ASSERT_EQ(issue.field.rfind("DiagnosticReport", 0), 0u) << issue.field;
    ASSERT_NO_THROW(ReportToDiagnosticReport(r, {}, "M").dump()) << r.dump();
    ASSERT_NO_THROW(IndexEntryToDiagnosticReport(r, "M").dump()) << r.dump();
    ASSERT_NO_THROW(OperationOutcomeFromProblem(r, 400).dump()) << r.dump();
  }
}

}  // namespace
}  // namespace medledger::fhir
