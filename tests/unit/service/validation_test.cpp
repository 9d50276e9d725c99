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

// The one sniffer (content/sniff) is the one reports go through: every refusal comes back as a field issue.
std::string Dicom(std::string_view after_magic) {
  std::string d(128, '\0');
  d += "DICM";
  d += after_magic;
  return d;
}

std::string WellFormedDicom() {
  // (0002,0000) UL 4 = 28; (0002,0010) UI "1.2.840.10008.1.2.1\0"; then (0008,0060) CS "OT".
  std::string meta("\x02\x00\x00\x00UL\x04\x00\x1c\x00\x00\x00", 12);
  meta += std::string("\x02\x00\x10\x00UI\x14\x00", 8) + std::string("1.2.840.10008.1.2.1\0", 20);
  meta += std::string(
      "\x08\x00\x60\x00"
      "CS\x02\x00OT",
      10);
  return Dicom(meta);
}

FieldIssue OnlyIssue(const std::string& data, const std::string& declared = "") {
  ReportInput in = Good();
  in.attachments = {{"file.bin", declared, data}};
  std::vector<FieldIssue> issues;
  auto v = ValidateReport(in, ValidationPolicy{}, &issues);
  if (v.ok() || issues.size() != 1) return {};
  return issues[0];
}

TEST(AttachmentSniffTest, PdfActionsAreActiveContentEvenWhenTheirNamesAreEscaped) {
  for (const char* pdf : {
           "%PDF-1.7\n1 0 obj << /Type /Action /S /JavaScript /JS (app.alert(1)) >> endobj",
           "%PDF-1.7\n1 0 obj << /S/JS(x) >> endobj",
           "%PDF-1.4\n<< /Type /Catalog /OpenAction << /S /JavaScript /JS 5 0 R >> >>",
           "%PDF-1.4\n<< /OpenAction 3 0 R >>\n3 0 obj<</S/Launch/F(cmd.exe)>>endobj",
           "%PDF-1.4\n<< /Type /Page /AA << /O 4 0 R >> >>",
           "%PDF-1.4\n<< /S /#4A#61vaScript /#4A#53 (app.alert(1)) >>",  // /JavaScript and /JS, hex-escaped
           "%PDF-1.4\n<< /S /J#61v#61Script >>",
           "%PDF-1.4\n<< /S /L#61unch >>",
           "%PDF-1.4\n<< /Names << /#45mbeddedFiles 2 0 R >> >>",
           "%PDF-1.4\n<< /S /SubmitForm /F (https://evil.example/) >>",
       }) {
    FieldIssue issue = OnlyIssue(pdf, "application/pdf");
    EXPECT_EQ(issue.field, "attachments[0].data") << pdf;
    EXPECT_EQ(issue.code, "active_content") << pdf;
  }
  // A viewer-only action and names that merely contain the letters are fine.
  ReportInput in = Good();
  in.attachments = {{"scan.pdf", "application/pdf",
                     "%PDF-1.7\n<< /Type /Catalog /OpenAction [3 0 R /FitH null] /JSX 1 /AAB 2 >>\n(JS text)"}};
  std::vector<FieldIssue> issues;
  auto ok = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_TRUE(ok.ok()) << (issues.empty() ? "" : issues[0].message);
  EXPECT_EQ(ok->attachments[0].content_type, "application/pdf");
}

TEST(AttachmentSniffTest, DicomMustBeWellFormed) {
  ReportInput in = Good();
  in.attachments = {{"ct.dcm", "application/dicom", WellFormedDicom()}};
  std::vector<FieldIssue> issues;
  auto ok = ValidateReport(in, ValidationPolicy{}, &issues);
  ASSERT_TRUE(ok.ok()) << (issues.empty() ? "" : issues[0].message);
  EXPECT_EQ(ok->attachments[0].content_type, "application/dicom");

  std::string well = WellFormedDicom();
  for (const std::string& bad : {
           Dicom(""),                                                                   // magic only
           Dicom(std::string("\x02\x00\x00\x00UL\x04\x00", 8)),                         // value past the end
           Dicom(std::string("\x02\x00\x10\x00UI\xff\x7f", 8) + "1.2.840"),             // length past the end
           Dicom(std::string("\x02\x00\x00\x00\x01\x02\x04\x00\x1c\x00\x00\x00", 12)),  // VR is not letters
           Dicom(std::string("\x02\x00\x00\x00UL\x04\x00\x1c\x00\x00\x00", 12)),  // no transfer syntax, no data set
           well.substr(0, well.size() - 10),                                      // meta group, no data set
           Dicom(std::string("\x02\x00\x01\x00OB\x00\x00\xff\xff\xff\xff", 12)),  // undefined length in the meta
       }) {
    FieldIssue issue = OnlyIssue(bad, "application/dicom");
    EXPECT_EQ(issue.field, "attachments[0].data");
    EXPECT_EQ(issue.code, "malformed");
  }
}

TEST(AttachmentSniffTest, ExecutablesArchivesAndMismatchesAreUnsupported) {
  for (const char* bytes : {"MZ\x90\x00",
                            "\x7f"
                            "ELF\x02",
                            "#!/bin/sh\nrm -rf /", "PK\x03\x04zip", "\x1f\x8b\x08\x00gzip"}) {
    EXPECT_EQ(OnlyIssue(bytes).code, "unsupported_type") << bytes;
  }
  EXPECT_EQ(OnlyIssue(std::string("bin\0ary", 7)).code, "unsupported_type");
  EXPECT_EQ(OnlyIssue("<html><body>hi</body></html>").code, "active_content");
  EXPECT_EQ(OnlyIssue("%PDF-1.4 body", "image/png").code, "unsupported_type");
  EXPECT_EQ(OnlyIssue("%PDF-1.4 body", " Application/PDF ; x=y").code, "");  // accepted
}

TEST(BidiControlTest, RefusedInEveryReportTextFieldWithThePreciseField) {
  // U+202A..U+202E (LRE RLE PDF LRO RLO) and U+2066..U+2069 (LRI RLI FSI PDI).
  const char* controls[] = {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
                            "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9"};
  for (const char* c : controls) {
    std::string text = std::string("dose 5 mg ") + c + "gm 005";
    for (const char* field : {"title", "diagnosis", "content", "attachments[0].filename"}) {
      ReportInput in = Good();
      std::string f = field;
      if (f == "title") in.title = text;
      if (f == "diagnosis") in.diagnosis = text;
      if (f == "content") in.content = text;
      in.attachments = {{f == "attachments[0].filename" ? text : "notes.txt", "", "plain notes"}};
      std::vector<FieldIssue> issues;
      auto v = ValidateReport(in, ValidationPolicy{}, &issues);
      ASSERT_FALSE(v.ok()) << field;
      EXPECT_EQ(v.error().code, "validation_failed");
      ASSERT_EQ(issues.size(), 1u) << field;
      EXPECT_EQ(issues[0].field, f);
      EXPECT_EQ(issues[0].code, "bidi_control");
    }
    // Other free text (names, reasons, purposes) is checked with CheckPlainText or ContainsActiveContent.
    EXPECT_EQ(CheckPlainText("name", text)->code, "bidi_control");
    EXPECT_EQ(CheckPlainText("name", text)->field, "name");
    EXPECT_TRUE(ContainsActiveContent(text));
  }
  // Marks that only hint direction (LRM U+200E, RLM U+200F), the narrow no-break space U+202F and
  // right-to-left script are fine.
  for (const char* ok : {"a\xE2\x80\x8E"
                         "b",
                         "a\xE2\x80\x8F"
                         "b",
                         "5\xE2\x80\xAF"
                         "mg",
                         "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"}) {
    EXPECT_FALSE(ContainsBidiControl(ok)) << ok;
    EXPECT_FALSE(CheckPlainText("x", ok).has_value());
  }
}

TEST(BirthDateTest, From1900ToTodayAndOnlyRealDays) {
  Timestamp now = Timestamp::FromRfc3339("2026-12-07T01:00:00Z").value();
  EXPECT_FALSE(CheckBirthDate("1950-06-01", now).has_value());  // was refused: before 1970
  EXPECT_FALSE(CheckBirthDate("1900-01-01", now).has_value());
  EXPECT_FALSE(CheckBirthDate("1969-12-31", now).has_value());
  EXPECT_FALSE(CheckBirthDate("2024-02-29", now).has_value());
  EXPECT_FALSE(CheckBirthDate("2026-12-07", now).has_value());  // today in UTC
  EXPECT_FALSE(CheckBirthDate("2026-12-07", now).has_value());
  EXPECT_EQ(CheckBirthDate("1899-12-31", now)->code, "too_early");
  EXPECT_EQ(CheckBirthDate("2023-02-29", now)->code, "invalid");
  EXPECT_EQ(CheckBirthDate("1950-6-1", now)->code, "invalid");
  EXPECT_EQ(CheckBirthDate("", now)->code, "invalid");
  EXPECT_EQ(CheckBirthDate("2026-12-09", now)->code, "in_future");
  EXPECT_EQ(CheckBirthDate("2026-12-09", now)->field, "birthDate");
  // At 11:00 UTC it is already the 8th at UTC+14: a newborn registered there is not "in the future".
  Timestamp late = Timestamp::FromRfc3339("2026-12-07T11:00:00Z").value();
  EXPECT_FALSE(CheckBirthDate("2026-12-08", late).has_value());
  EXPECT_EQ(CheckBirthDate("2026-12-08", now)->code, "in_future");
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
