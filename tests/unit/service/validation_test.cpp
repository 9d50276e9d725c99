#include <gtest/gtest.h>

#include "service/report_validation.h"

namespace medledger::service {
namespace {

ReportInput Good() {
  return {std::string(64, 'a'), "Title", "Diagnosis", "Content text", {}};
}

TEST(NormalizeTextTest, StripsControlsAndNormalizesNewlines) {
  EXPECT_EQ(NormalizeText("a\r\nb\rc\nd\te"), "a\nb\nc\nd\te");
  EXPECT_EQ(NormalizeText(std::string("x\0y\x1b[31mz\x7f", 11)), "xy[31mz");
  EXPECT_EQ(NormalizeText("a\xC2\x85"
                          "b\xE2\x80\xA8"
                          "c\xE2\x80\xA9"
                          "d"),
            "abcd");  // NEL, LS, PS
  EXPECT_EQ(NormalizeText("Gr\xC3\xBC\xC3\x9F"
                          "e \xE2\x82\xAC"),
            "Gr\xC3\xBC\xC3\x9F"
            "e \xE2\x82\xAC");  // kept
}

TEST(ActiveContentTest, RefusesMarkupButKeepsClinicalComparisons) {
  for (const char* bad :
       {"<script>x</script>", "<img src=x onerror=alert(1)>", "</b>", "<!-- c -->", "<?xml version='1.0'?>",
        "click javascript:alert(1)", "JaVaScRiPt:x", "data:text/html;base64,xx", "<SVG/onload=alert(1)>"}) {
    EXPECT_TRUE(ContainsActiveContent(bad)) << bad;
  }
  for (const char* ok : {"a < b", "PSA <4 ng/mL", "x<=5", "3 > 2", "temperature < 38.5", "<", ""}) {
    EXPECT_FALSE(ContainsActiveContent(ok)) << ok;
  }
}

TEST(SniffTest, KnownTypesAndRefusals) {
  EXPECT_EQ(SniffContentType("%PDF-1.7 ..."), "application/pdf");
  EXPECT_EQ(SniffContentType("\x89PNG\r\n\x1a\n...."), "image/png");
  EXPECT_EQ(SniffContentType("\xFF\xD8\xFF\xE0...."), "image/jpeg");
  EXPECT_EQ(SniffContentType("plain notes\n"), "text/plain");
  EXPECT_EQ(SniffContentType("MZ\x90\x00"), "");
  EXPECT_EQ(SniffContentType("\x7f"
                             "ELF\x02"),
            "");
  EXPECT_EQ(SniffContentType("#!/bin/sh\nrm -rf /"), "");
  EXPECT_EQ(SniffContentType("PK\x03\x04zip"), "");
  EXPECT_EQ(SniffContentType("<html><body>hi</body></html>"), "");
  EXPECT_EQ(SniffContentType(std::string("bin\0ary", 7)), "");
  EXPECT_EQ(SniffContentType("\xff\xfe bad utf8"), "");
}

TEST(ValidateReportTest, AcceptsAndNormalizes) {
  ReportInput in = Good();
  in.title = "  Chest\r\nX-ray  ";
  in.content = "Line one\r\nLine two\x07";
  std::vector<FieldIssue> issues;
  auto v = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->title, "Chest X-ray");  // single line, trimmed
  EXPECT_EQ(v->content, "Line one\nLine two");
  EXPECT_TRUE(issues.empty());
}

TEST(ValidateReportTest, ReportsEveryBadFieldAtOnce) {
  ReportInput in = Good();
  in.title = "   ";
  in.diagnosis = "bad \xff utf8";
  in.content = "<b>bold</b>";
  in.patient_id.clear();
  std::vector<FieldIssue> issues;
  auto v = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "validation_failed");
  ASSERT_EQ(issues.size(), 4u);
  EXPECT_EQ(issues[0].field, "patientId");
  EXPECT_EQ(issues[1].field, "title");
  EXPECT_EQ(issues[1].code, "required");
  EXPECT_EQ(issues[2].code, "invalid_utf8");
  EXPECT_EQ(issues[3].code, "active_content");
}

TEST(ValidateReportTest, SizeLimits) {
  ValidationPolicy p;
  ReportInput in = Good();
  in.title = std::string(p.max_title + 1, 'x');
  std::vector<FieldIssue> issues;
  EXPECT_FALSE(ValidateReport(in, p, &issues).ok());
  EXPECT_EQ(issues.at(0).code, "too_long");
  in = Good();
  in.content = std::string(p.max_total_bytes + 1, 'x');
  auto big = ValidateReport(in, p, &issues);
  EXPECT_EQ(big.error().code, "report_too_large");
  EXPECT_EQ(big.error().kind, ErrorKind::kTooLarge);
}

TEST(ValidateReportTest, AttachmentsAreSniffedAndMustMatchTheirDeclaredType) {
  ReportInput in = Good();
  in.attachments = {{"scan.pdf", "application/pdf", "%PDF-1.4 body"}};
  std::vector<FieldIssue> issues;
  auto ok = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->attachments[0].content_type, "application/pdf");
  in.attachments = {{"scan.pdf", "application/pdf", "MZ\x90\x00 evil"}};
  auto exe = ValidateReport(in, ValidationPolicy{}, &issues);
  EXPECT_EQ(exe.error().code, "unsupported_attachment_type");
  EXPECT_EQ(exe.error().kind, ErrorKind::kUnsupportedType);
  in.attachments = {{"image.png", "image/png", "%PDF-1.4 body"}};  // lies about its type
  EXPECT_EQ(ValidateReport(in, ValidationPolicy{}, &issues).error().code, "unsupported_attachment_type");
  in.attachments = {{"../../etc/passwd", "", "text"}};
  EXPECT_EQ(ValidateReport(in, ValidationPolicy{}, &issues).error().code, "validation_failed");
}

TEST(ValidateReportTest, PatternsAreRedactedOrFlagged) {
  ReportInput in = Good();
  in.content = "SSN 123-45-6789 noted; phone 555-1234.";
  std::vector<FieldIssue> issues;
  auto v = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->content, "SSN [REDACTED:us_ssn] noted; phone 555-1234.");
  EXPECT_EQ(v->flags, std::vector<std::string>{"us_ssn"});
  ValidationPolicy flag_only;
  flag_only.patterns = {{"us_ssn", R"(\b\d{3}-\d{2}-\d{4}\b)", PatternAction::kFlag},
                        {"broken", "([", PatternAction::kRedact}};  // a bad pattern never fails a report
  auto f = ValidateReport(in, flag_only, &issues);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->content, in.content);
  EXPECT_EQ(f->flags, std::vector<std::string>{"us_ssn"});
}

// Patterns run on every report's text, which an attacker controls: matching must stay linear in the text
// (a backtracking engine takes exponential time or overflows its stack on this pattern and input).
TEST(ValidateReportTest, PatternMatchingStaysLinearOnHostileText) {
  ReportInput in = Good();
  in.content = std::string(100000, 'a');
  ValidationPolicy policy;
  policy.patterns = {{"nested", "(a|aa)+c", PatternAction::kRedact}, {"run", "a{3}", PatternAction::kFlag}};
  std::vector<FieldIssue> issues;
  auto v = ValidateReport(in, policy, &issues);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->content, in.content);
  EXPECT_EQ(v->flags, std::vector<std::string>{"run"});
}

}  // namespace
}  // namespace medledger::service
