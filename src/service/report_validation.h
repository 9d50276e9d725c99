// Checks and normalizes a report before anything is stored: required fields, sizes, UTF-8, control
// characters stripped, HTML/script refused, attachment types sniffed from their bytes, and configurable
// patterns (e.g. national ID numbers) flagged or redacted in free text.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace medledger::service {

struct FieldIssue {
  std::string field;  // "title", "attachments[1].data"
  std::string code;   // "required", "too_long", "invalid_utf8", "active_content", ...
  std::string message;
};

struct AttachmentInput {
  std::string filename;
  std::string content_type;  // as declared; may be empty
  std::string data;          // raw bytes
};

struct ReportInput {
  std::string patient_id;
  std::string title;
  std::string diagnosis;
  std::string content;
  std::vector<AttachmentInput> attachments;
};

enum class PatternAction { kFlag, kRedact };

struct CompiledPattern;  // report_validation.cpp: the compiled RE2, kept out of this header

struct SensitivePattern {
  // Compiles `regex` (RE2 syntax) once, not per report. One that does not compile stays inactive
  // (`compiled` null) rather than failing reports.
  SensitivePattern(std::string name, std::string regex, PatternAction action = PatternAction::kRedact);

  std::string name;   // "us_ssn"
  std::string regex;  // RE2 syntax (https://github.com/google/re2/wiki/Syntax)
  PatternAction action;
  std::shared_ptr<const CompiledPattern> compiled;  // shared by copies of a policy; matching is const
};

struct ValidationPolicy {
  size_t max_title = 200;
  size_t max_diagnosis = 4000;
  size_t max_content = 256 * 1024;
  size_t max_attachments = 8;
  size_t max_attachment_bytes = 4 * 1024 * 1024;
  size_t max_total_bytes = 8 * 1024 * 1024;
  std::vector<SensitivePattern> patterns = {{"us_ssn", R"(\b\d{3}-\d{2}-\d{4}\b)", PatternAction::kRedact}};
};

struct ValidatedAttachment {
  std::string filename;
  std::string content_type;  // the sniffed type
  std::string data;
};

struct ValidatedReport {
  std::string patient_id;
  std::string title;
  std::string diagnosis;
  std::string content;
  std::vector<ValidatedAttachment> attachments;
  std::vector<std::string> flags;  // names of patterns found (flagged or redacted)
};

// On failure returns "validation_failed" (kInvalidArgument: 422 at the HTTP edge) with every problem in
// `issues`, or "unsupported_attachment_type" (kUnsupportedType, 415), or "report_too_large" (kTooLarge).
Result<ValidatedReport> ValidateReport(const ReportInput& input, const ValidationPolicy& policy,
                                       std::vector<FieldIssue>* issues);

// Text normalization on its own: "\r\n" and "\r" become "\n"; C0/C1 controls other than "\n" and "\t"
// and U+2028/2029 are removed. The input must be valid UTF-8.
std::string NormalizeText(std::string_view text);
// True when `text` contains markup a browser would act on (tags, comments, javascript: URLs, event handlers).
bool ContainsActiveContent(std::string_view text);
// "application/pdf", "image/png", "image/jpeg", "text/plain", or "" (refused: executables, HTML, archives,
// anything unknown).
std::string SniffContentType(std::string_view bytes);

}  // namespace medledger::service
