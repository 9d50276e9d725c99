// Checks and normalizes a report before anything is stored: required fields, sizes, UTF-8, control
// characters stripped, HTML/script and bidirectional controls refused, attachment types sniffed from their
// bytes by content/sniff (PDF actions, malformed DICOM, executables, archives refused), and configurable
// patterns (e.g. national ID numbers) flagged or redacted in free text.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

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
  std::string content_type;  // the sniffed type (content::MimeTypeOf)
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
// Takes the input by value: a caller that moves it in has its attachment bytes moved, not copied.
Result<ValidatedReport> ValidateReport(ReportInput input, const ValidationPolicy& policy,
                                       std::vector<FieldIssue>* issues);

// Text normalization on its own: "\r\n" and "\r" become "\n"; C0/C1 controls other than "\n" and "\t"
// and U+2028/2029 are removed. The input must be valid UTF-8.
std::string NormalizeText(std::string_view text);
// True when `text` contains markup a browser would act on (tags, comments, javascript: URLs, event handlers),
// or a bidirectional control (below): callers that refuse active content refuse those too.
bool ContainsActiveContent(std::string_view text);
// True when `text` holds a bidirectional embedding, override or isolate control (U+202A-U+202E,
// U+2066-U+2069): with them a text displays in another order than it is stored and read ("Trojan Source").
bool ContainsBidiControl(std::string_view text);
// The issue a normalized free-text value raises, if any: "bidi_control" or "active_content", for `field`.
std::optional<FieldIssue> CheckPlainText(std::string_view field, std::string_view text);
// A birth date: a day that exists, written "YYYY-MM-DD", from 1900-01-01 to today. "Today" is the latest date
// anywhere on Earth at `now` (UTC+14), so a newborn registered in the morning east of UTC is accepted.
// Codes: "invalid" (not such a date), "too_early", "in_future".
std::optional<FieldIssue> CheckBirthDate(std::string_view text, Timestamp now);

}  // namespace medledger::service
