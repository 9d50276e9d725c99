#include "content/sniff.h"

#include <gtest/gtest.h>

#include <string>

namespace medledger::content {
namespace {

std::string Code(const Result<AttachmentType>& r) {
  return r.ok() ? "ok" : r.error().code;
}

std::string Dicom() {
  std::string d(128, '\0');
  d += "DICM";
  // (0002,0000) UL 4; (0002,0010) UI transfer syntax; a data set element (0008,0060) CS "OT".
  d += std::string("\x02\x00\x00\x00UL\x04\x00\x1c\x00\x00\x00", 12);
  d += std::string("\x02\x00\x10\x00UI\x14\x00", 8) + std::string("1.2.840.10008.1.2.1\0", 20);
  d += std::string(
      "\x08\x00\x60\x00"
      "CS\x02\x00OT",
      10);
  return d;
}

TEST(Sniff, AllowedTypesFromBytes) {
  EXPECT_EQ(SniffAttachment("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF").value(), AttachmentType::kPdf);
  EXPECT_EQ(SniffAttachment(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)).value(), AttachmentType::kPng);
  EXPECT_EQ(SniffAttachment("\xff\xd8\xff\xe0\x00\x10JFIF").value(), AttachmentType::kJpeg);
  EXPECT_EQ(SniffAttachment(Dicom()).value(), AttachmentType::kDicom);
  EXPECT_EQ(SniffAttachment("Patient stable. Glucose < 5.5 mmol/L; BP 120/80.\r\nNo änderung — 経過良好\n").value(),
            AttachmentType::kText);
}

TEST(Sniff, ExecutablesAreRefused) {
  EXPECT_EQ(Code(SniffAttachment(std::string("\x7f"
                                             "ELF\x02\x01\x01\0",
                                             8))),
            "attachment_executable");
  EXPECT_EQ(Code(SniffAttachment("MZ\x90\x00")), "attachment_executable");
  EXPECT_EQ(Code(SniffAttachment("\xcf\xfa\xed\xfe\x07\x00\x00\x01")), "attachment_executable");
  EXPECT_EQ(Code(SniffAttachment("\xca\xfe\xba\xbe")), "attachment_executable");
  EXPECT_EQ(Code(SniffAttachment("#!/bin/sh\nrm -rf /\n")), "attachment_executable");
}

TEST(Sniff, ArchivesAreRefused) {
  EXPECT_EQ(Code(SniffAttachment("PK\x03\x04\x14\x00")), "attachment_archive");
  EXPECT_EQ(Code(SniffAttachment("\x1f\x8b\x08\x00")), "attachment_archive");
  EXPECT_EQ(Code(SniffAttachment(std::string("7z\xbc\xaf\x27\x1c\x00\x04", 8))), "attachment_archive");
  EXPECT_EQ(Code(SniffAttachment("Rar!\x1a\x07\x01\x00")), "attachment_archive");
  std::string tar(512, '\0');
  tar.replace(0, 9, "notes.txt");
  tar.replace(257, 6, std::string("ustar\0", 6));
  EXPECT_EQ(Code(SniffAttachment(tar)), "attachment_archive");
}

TEST(Sniff, ActiveContentIsRefused) {
  EXPECT_EQ(Code(SniffAttachment("<!DOCTYPE html><html><body>hi</body></html>")), "attachment_html");
  EXPECT_EQ(Code(SniffAttachment("  \n<HTML>\n<p>x</p>")), "attachment_html");
  EXPECT_EQ(Code(SniffAttachment("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)"
                                 "</script></svg>")),
            "attachment_active_content");
  EXPECT_EQ(Code(SniffAttachment("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>")),
            "attachment_active_content");
  EXPECT_EQ(Code(SniffAttachment("see <a href=\"javascript:alert(1)\">here</a>")), "attachment_active_content");
  EXPECT_EQ(Code(SniffAttachment("%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")),
            "attachment_active_content");
  // Mentions of "on" words outside markup are fine.
  EXPECT_EQ(Code(SniffAttachment("onset = 3 days; patient on = medication")), "ok");
}

TEST(Sniff, MalformedDicomAndEscapedPdfNames) {
  std::string magic_only(128, '\0');
  magic_only += "DICM";
  EXPECT_EQ(Code(SniffAttachment(magic_only)), "attachment_malformed");
  EXPECT_EQ(Code(SniffAttachment(magic_only + std::string("\x02\x00\x10\x00UI\xff\x00", 8))), "attachment_malformed");
  EXPECT_EQ(Code(SniffAttachment("%PDF-1.4\n<< /S /#4A#61vaScript >>")), "attachment_active_content");
  EXPECT_EQ(Code(SniffAttachment("%PDF-1.4\n<< /AA << /O 4 0 R >> >>")), "attachment_active_content");
  EXPECT_EQ(Code(SniffAttachment("%PDF-1.4\n<< /OpenAction [3 0 R /Fit] >>")), "ok");
}

TEST(Sniff, UnknownBinaryEmptyAndOversize) {
  EXPECT_EQ(Code(SniffAttachment(std::string("\x00\x01\x02\x03", 4))), "attachment_unknown_type");
  EXPECT_EQ(Code(SniffAttachment("bad utf-8 \xc3\x28")), "attachment_unknown_type");
  EXPECT_EQ(Code(SniffAttachment("")), "attachment_empty");
  SniffOptions small;
  small.max_size = 10;
  auto r = SniffAttachment("%PDF-1.7 and more than ten bytes", small);
  EXPECT_EQ(Code(r), "attachment_too_large");
  EXPECT_EQ(r.error().kind, ErrorKind::kTooLarge);
  EXPECT_EQ(Code(SniffAttachment("%PDF-1.7", small)), "ok");
  // The default limit is 50 MiB.
  EXPECT_EQ(Code(SniffAttachment(std::string((size_t{50} << 20) + 1, 'a'))), "attachment_too_large");
}

TEST(Sniff, DeclaredTypeMustMatch) {
  EXPECT_EQ(CheckAttachment("%PDF-1.7", "application/pdf").value(), AttachmentType::kPdf);
  EXPECT_EQ(CheckAttachment("plain words", "Text/Plain; charset=utf-8").value(), AttachmentType::kText);
  EXPECT_EQ(Code(CheckAttachment("%PDF-1.7", "image/png")), "attachment_type_mismatch");
  EXPECT_EQ(Code(CheckAttachment("plain words", "text/html")), "attachment_type_unsupported");
  EXPECT_EQ(Code(CheckAttachment("\x7f"
                                 "ELF",
                                 "application/pdf")),
            "attachment_executable");
}

}  // namespace
}  // namespace medledger::content
