// Issue 15 findings, through the real `medledger` binary: owner-only files whatever the umask (10), FHIR type
// errors as OperationOutcome (11), bidirectional controls (12), pre-1970 birth dates (13), the demo credentials
// file (15), and PDF actions and malformed DICOM refused by the one attachment sniffer (18).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// RFC 4648 base64 (this binary links no medledger library).
std::string Base64Encode(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v =
        static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8 | static_cast<uint8_t>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(v >> k) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Every file and directory under `dir` (and `dir` itself) that group or others can access.
std::vector<std::string> Exposed(const fs::path& dir) {
  std::vector<std::string> out;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0) out.push_back(dir.string());
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (::lstat(e.path().c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      out.push_back(e.path().string() + " " + mode);
    }
  }
  return out;
}

json FirstError(const HttpResult& r) {
  json body = ParseBody(r);
  return body.is_object() && body["errors"].is_array() && !body["errors"].empty() ? body["errors"][0] : json();
}

class HardeningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::umask(022);  // the usual umask: the server must not depend on a careful operator
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string Token(const std::string& user) {
    static std::map<std::string, std::string> tokens;
    auto& t = tokens[user];
    if (t.empty()) t = server_->Login(user);
    return t;
  }
  static std::string Alice() { return ParseBody(server_->Get("/api/v1/me", Token("alice"))).value("patientId", ""); }
  static json Report(const std::string& data, const std::string& type) {
    return {
        {"patientId", Alice()},
        {"title", "Scan"},
        {"diagnosis", "Pending"},
        {"content", "See attachment."},
        {"attachments", json::array({{{"filename", "a.bin"}, {"contentType", type}, {"data", Base64Encode(data)}}})}};
  }
  static ServerProcess* server_;
};

ServerProcess* HardeningTest::server_ = nullptr;

TEST_F(HardeningTest, ActivePdfsAndMalformedDicomAre422WithTheAttachmentsIssue) {
  struct Case {
    std::string data, type, code;
  };
  std::string dicom_magic_only = std::string(128, '\0') + "DICM";
  std::string dicom_truncated = dicom_magic_only + std::string("\x02\x00\x10\x00UI\x40\x00", 8) + "1.2.840";
  const Case cases[] = {
      {"%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj",
       "application/pdf", "active_content"},
      {"%PDF-1.7\n<< /S /Launch /F (calc.exe) >>", "application/pdf", "active_content"},
      {"%PDF-1.7\n<< /Type /Page /AA << /O << /S /JS (x) >> >> >>", "application/pdf", "active_content"},
      {"%PDF-1.7\n<< /S /#4A#61vaScript /#4A#53 (app.alert(1)) >>", "application/pdf", "active_content"},
      {dicom_magic_only, "application/dicom", "malformed"},
      {dicom_truncated, "application/dicom", "malformed"},
  };
  for (const auto& c : cases) {
    auto r = server_->PostJson("/api/v1/reports", Report(c.data, c.type).dump(), Token("dr.house"));
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(ProblemCode(r), "validation_failed");
    json e = FirstError(r);
    EXPECT_EQ(e.value("field", ""), "attachments[0].data") << r.body;
    EXPECT_EQ(e.value("code", ""), c.code) << r.body;
  }
  auto ok =
      server_->PostJson("/api/v1/reports", Report("%PDF-1.7\n<< /OpenAction [3 0 R /Fit] >>", "application/pdf").dump(),
                        Token("dr.house"));
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(HardeningTest, BidiControlsAreRefusedWithTheirField) {
  json body = {{"patientId", Alice()},
               {"title",
                "Dose \xE2\x80\xAE"
                "gm 5"},  // U+202E RIGHT-TO-LEFT OVERRIDE
               {"diagnosis", "ok"},
               {"content", "ok"}};
  auto r = server_->PostJson("/api/v1/reports", body.dump(), Token("dr.house"));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r).value("field", ""), "title");
  EXPECT_EQ(FirstError(r).value("code", ""), "bidi_control");
  json patient = {{"mrn", "BIDI-1"},
                  {"name",
                   "Eve \xE2\x81\xA6"
                   "x"},
                  {"birthDate", "1980-01-01"}};
  auto p = server_->PostJson("/api/v1/patients", patient.dump(), Token("admin"));
  EXPECT_EQ(p.status, 422) << p.body;
  EXPECT_EQ(FirstError(p).value("field", ""), "name");
  EXPECT_EQ(FirstError(p).value("code", ""), "bidi_control");
}

TEST_F(HardeningTest, BirthDatesFrom1900AndOnlyRealDays) {
  json old = {{"mrn", "OLD-1950"}, {"name", "Olive Older"}, {"birthDate", "1950-06-01"}};
  auto r = server_->PostJson("/api/v1/patients", old.dump(), Token("admin"));
  EXPECT_EQ(r.status, 201) << r.body;  // was 422: dates before 1970 were refused
  EXPECT_EQ(ParseBody(r).value("birthDate", ""), "1950-06-01");
  json impossible = {{"mrn", "FEB-29"}, {"name", "Frank Feb"}, {"birthDate", "2023-02-29"}};
  auto bad = server_->PostJson("/api/v1/patients", impossible.dump(), Token("admin"));
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(FirstError(bad).value("field", ""), "birthDate");
  json ancient = {{"mrn", "OLD-1899"}, {"name", "Ancient One"}, {"birthDate", "1899-12-31"}};
  EXPECT_EQ(FirstError(server_->PostJson("/api/v1/patients", ancient.dump(), Token("admin"))).value("code", ""),
            "too_early");
}

TEST_F(HardeningTest, FhirWrongTypesAre4xxOperationOutcomes) {
  const std::vector<std::string> bodies = {
      R"({"resourceType":"DiagnosticReport","subject":"Patient/x"})",
      R"({"resourceType":"DiagnosticReport","subject":{"reference":42}})",
      R"({"resourceType":7})",
      R"({"resourceType":"DiagnosticReport","subject":{"reference":"Patient/x"},"code":[1],"conclusion":{}})",
      R"({"resourceType":"DiagnosticReport","subject":{"reference":"Patient/x"},"presentedForm":"abc"})",
      R"({"resourceType":"DiagnosticReport","subject":{"reference":"Patient/x"},"presentedForm":[{"data":5}]})",
      R"([1,2,3])",
  };
  for (const auto& b : bodies) {
    auto r = server_->PostJson("/fhir/r4/DiagnosticReport", b, Token("dr.house"));
    EXPECT_GE(r.status, 400) << b;
    EXPECT_LT(r.status, 500) << b << " -> " << r.body;
    json o = ParseBody(r);
    EXPECT_EQ(o.value("resourceType", ""), "OperationOutcome") << b << " -> " << r.body;
    ASSERT_TRUE(o["issue"].is_array() && !o["issue"].empty()) << r.body;
    EXPECT_EQ(o["issue"][0].value("severity", ""), "error");
    EXPECT_TRUE(o["issue"][0]["code"].is_string());
    EXPECT_TRUE(o["issue"][0]["diagnostics"].is_string());
  }
  auto typed =
      server_->PostJson("/fhir/r4/DiagnosticReport",
                        R"({"resourceType":"DiagnosticReport","subject":{"reference":42}})", Token("dr.house"));
  json o = ParseBody(typed);
  EXPECT_EQ(o["issue"][0]["expression"][0], "DiagnosticReport.subject.reference");
  // A valid resource still creates a report; a missing title is the service's issue, mapped to its FHIRPath.
  json good = {{"resourceType", "DiagnosticReport"},
               {"subject", {{"reference", "Patient/" + Alice()}}},
               {"code", {{"text", "FHIR report"}}},
               {"conclusion", "Normal"},
               {"presentedForm", json::array({{{"data", Base64Encode("Findings.")}}})}};
  EXPECT_EQ(server_->PostJson("/fhir/r4/DiagnosticReport", good.dump(), Token("dr.house")).status, 201);
  good["code"]["text"] = "";
  auto missing = server_->PostJson("/fhir/r4/DiagnosticReport", good.dump(), Token("dr.house"));
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(ParseBody(missing)["issue"][0]["expression"][0], "DiagnosticReport.code.text");
}

// The data directory after a demo start and a submission (ctest runs each test in a server of its own).
TEST_F(HardeningTest, ZzNothingUnderTheDataDirectoryIsGroupOrWorldAccessible) {
  auto submitted = server_->PostJson("/api/v1/reports", Report("plain notes", "text/plain").dump(), Token("dr.house"));
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  fs::path data = fs::path(server_->data_dir()) / "data";
  ASSERT_EQ(server_->Stop(), 0);
  struct stat st {};
  ASSERT_EQ(::stat((data / "demo-credentials.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto exposed = Exposed(data);
  EXPECT_TRUE(exposed.empty()) << exposed.size() << " exposed, first: " << exposed.front();
}

TEST(InitModesTest, InitIntoAnExistingDirectoryNarrowsItAndEverythingInIt) {
  ::umask(022);
  fs::path data = fs::temp_directory_path() / ("medledger-modes-" + std::to_string(::getpid()));
  fs::remove_all(data);
  fs::create_directories(data);
  fs::permissions(data, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  auto init = RunMedledger("init --data " + data.string() + " --org Modes");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  auto added = RunMedledger("user add --data " + data.string() + " --name dr.modes --role doctor");
  ASSERT_EQ(added.exit_code, 0) << added.output;
  // The ledger exists from init, starting with its genesis block (verify used to fail: ledger_not_found).
  auto verified = RunMedledger("verify --data " + data.string());
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("ledger OK: 1 blocks"), std::string::npos) << verified.output;
  auto submitted =
      RunMedledger("ledger submit --data " + data.string() +
                   " --as admin --fn RegisterPatient --args '{\"patientRef\":\"" + std::string(64, 'b') + "\"}'");
  EXPECT_EQ(submitted.exit_code, 0) << submitted.output;
  auto again = RunMedledger("verify --data " + data.string());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("ledger OK: 2 blocks"), std::string::npos) << again.output;
  auto exposed = Exposed(data);
  EXPECT_TRUE(exposed.empty()) << exposed.size() << " exposed, first: " << exposed.front();
  fs::remove_all(data);
}

}  // namespace
}  // namespace medledger::testing
