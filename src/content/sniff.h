// Attachment admission: the type is detected from the bytes, never from the name. Allowed: PDF, PNG, JPEG,
// DICOM (Part 10: 128-byte preamble + "DICM") and plain UTF-8 text. Refused with a precise code: active
// content (HTML, SVG/XML with script, PDF with JavaScript, launch, submit or event (/AA) actions or embedded
// files, names decoded from their #xx escapes), malformed DICOM, executables (ELF, PE "MZ",
// Mach-O, "#!" scripts), archives (zip, gzip, tar, 7z, rar, bzip2, xz), anything else, a declared type
// that disagrees with the bytes, and anything over the size limit.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

enum class AttachmentType { kPdf, kPng, kJpeg, kDicom, kText };

struct SniffOptions {
  size_t max_size = size_t{50} << 20;  // 50 MiB
};

// "application/pdf", "image/png", "image/jpeg", "application/dicom", "text/plain".
std::string_view MimeTypeOf(AttachmentType type);
// Accepts parameters ("text/plain; charset=utf-8") and any case. "attachment_type_unsupported" otherwise.
Result<AttachmentType> ParseMimeType(std::string_view mime);

// Codes (kind): attachment_too_large (kTooLarge), attachment_empty and attachment_malformed (a DICOM preamble
// without a well-formed meta group) (kInvalidArgument), and with
// kUnsupportedType: attachment_executable, attachment_archive, attachment_html, attachment_active_content,
// attachment_unknown_type.
Result<AttachmentType> SniffAttachment(std::string_view bytes, const SniffOptions& options = {});

// SniffAttachment plus the declared type: "attachment_type_mismatch" when they disagree.
Result<AttachmentType> CheckAttachment(std::string_view bytes, std::string_view declared_mime,
                                       const SniffOptions& options = {});

}  // namespace medledger::content
