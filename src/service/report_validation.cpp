#include "service/report_validation.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "common/encoding.h"
#include "content/sniff.h"

namespace medledger::service {

// RE2, not std::regex: RE2 matches in time linear in the text (no backtracking a hostile report could make
// explode), and libstdc++'s std::regex took ~350 µs to search 4 KiB for the default pattern (its `\b` looks
// up a locale facet per character), RE2 ~7 µs.
struct CompiledPattern {
  explicit CompiledPattern(const std::string& pattern) : re(pattern, RE2::Quiet) {}
  RE2 re;
};

SensitivePattern::SensitivePattern(std::string name, std::string regex, PatternAction action)
    : name(std::move(name)), regex(std::move(regex)), action(action) {
  auto pattern = std::make_shared<const CompiledPattern>(this->regex);
  if (pattern->re.ok()) compiled = std::move(pattern);
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Validates and normalizes one text field, recording problems. Returns the normalized text.
std::string CheckText(std::string_view field, std::string_view value, size_t max, bool required, bool multiline,
                      std::vector<FieldIssue>* issues) {
  if (!IsValidUtf8(value)) {
    issues->push_back({std::string(field), "invalid_utf8", "the text is not valid UTF-8"});
    return {};
  }
  std::string text = NormalizeText(value);
  if (!multiline) std::replace(text.begin(), text.end(), '\n', ' ');
  // Surrounding whitespace carries no meaning and would make "required" checks easy to dodge.
  auto first = text.find_first_not_of(" \t\n");
  text = first == std::string::npos ? std::string() : text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
  if (required && text.empty()) {
    issues->push_back({std::string(field), "required", "this field is required"});
  } else if (text.size() > max) {
    issues->push_back({std::string(field), "too_long", "at most " + std::to_string(max) + " bytes"});
  } else if (auto issue = CheckPlainText(field, text)) {
    issues->push_back(std::move(*issue));
  }
  return text;
}

std::string Trimmed(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

// The one attachment sniffer (content/sniff): the type from the bytes, which a declared type must match
// ("application/octet-stream" and no type declare nothing). Active content and malformed files are invalid
// attachments (422); types outside the allowed set are unsupported (415 when nothing else is wrong).
std::optional<FieldIssue> CheckAttachmentBytes(const std::string& field, const AttachmentInput& a,
                                               std::string* sniffed_type) {
  auto sniffed = content::SniffAttachment(a.data, {.max_size = a.data.size()});
  if (!sniffed.ok()) {
    const std::string& code = sniffed.error().code;
    if (code == "attachment_active_content" || code == "attachment_html") {
      return FieldIssue{field, "active_content", sniffed.error().message};
    }
    if (code == "attachment_malformed") return FieldIssue{field, "malformed", sniffed.error().message};
    return FieldIssue{field, "unsupported_type",
                      sniffed.error().message + "; only PDF, PNG, JPEG, DICOM and plain text are accepted"};
  }
  *sniffed_type = std::string(content::MimeTypeOf(*sniffed));
  std::string declared = Lower(Trimmed(a.content_type.substr(0, a.content_type.find(';'))));
  if (!declared.empty() && declared != "application/octet-stream" && declared != *sniffed_type) {
    return FieldIssue{field, "unsupported_type",
                      "declared " + declared.substr(0, 100) + " but the bytes are " + *sniffed_type};
  }
  return std::nullopt;
}

void ApplyPatterns(std::string* text, const ValidationPolicy& policy, std::vector<std::string>* flags) {
  for (const auto& p : policy.patterns) {
    if (!p.compiled || !RE2::PartialMatch(*text, p.compiled->re)) continue;
    if (std::find(flags->begin(), flags->end(), p.name) == flags->end()) flags->push_back(p.name);
    if (p.action != PatternAction::kRedact) continue;
    std::string rewrite = "[REDACTED:";
    for (char c : p.name) {
      if (c == '\\') rewrite += '\\';  // a backslash starts a group reference in RE2 rewrites
      rewrite += c;
    }
    rewrite += ']';
    RE2::GlobalReplace(text, p.compiled->re, rewrite);
  }
}

}  // namespace

std::string NormalizeText(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
      continue;
    }
    if (c == '\n' || c == '\t') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c < 0x20 || c == 0x7f) continue;
    // C1 controls are U+0080..U+009F: C2 80..C2 9F in UTF-8. U+2028/2029: E2 80 A8/A9.
    if (c == 0xC2 && i + 1 < in.size() && static_cast<unsigned char>(in[i + 1]) <= 0x9F) {
      ++i;
      continue;
    }
    if (c == 0xE2 && i + 2 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(in[i + 2]) == 0xA8 || static_cast<unsigned char>(in[i + 2]) == 0xA9)) {
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

bool ContainsBidiControl(std::string_view text) {
  // U+202A..U+202E are E2 80 AA..AE in UTF-8; U+2066..U+2069 are E2 81 A6..A9.
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) != 0xE2) continue;
    auto b1 = static_cast<unsigned char>(text[i + 1]);
    auto b2 = static_cast<unsigned char>(text[i + 2]);
    if ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9)) return true;
  }
  return false;
}

std::optional<FieldIssue> CheckPlainText(std::string_view field, std::string_view text) {
  // Bidi first: the more precise reason, and ContainsActiveContent includes it.
  if (ContainsBidiControl(text)) {
    return FieldIssue{std::string(field), "bidi_control",
                      "bidirectional override and isolate characters (U+202A-U+202E, U+2066-U+2069) are not "
                      "accepted"};
  }
  if (ContainsActiveContent(text)) {
    return FieldIssue{std::string(field), "active_content", "HTML and script content is not accepted"};
  }
  return std::nullopt;
}

std::optional<FieldIssue> CheckBirthDate(std::string_view text, Timestamp now) {
  auto date = CivilDate::Parse(text);
  if (!date.ok()) return FieldIssue{"birthDate", "invalid", "a date that exists, as YYYY-MM-DD"};
  constexpr CivilDate kEarliest{1900, 1, 1};
  if (*date < kEarliest) return FieldIssue{"birthDate", "too_early", "the birth date is before 1900-01-01"};
  constexpr int64_t kEasternmostOffset = 14 * 3600;  // UTC+14 (Line Islands): the first place a day begins
  int64_t shifted = now.seconds + kEasternmostOffset;
  int64_t today = shifted / 86400 - (shifted % 86400 < 0 ? 1 : 0);
  if (date->DaysSinceEpoch() > today) {
    return FieldIssue{"birthDate", "in_future", "the birth date is in the future"};
  }
  return std::nullopt;
}

bool ContainsActiveContent(std::string_view text) {
  if (ContainsBidiControl(text)) return true;
  std::string t = Lower(text);
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i] != '<') continue;
    char n = t[i + 1];
    // "<b", "</", "<!--", "<?xml": a tag start. "a < b" and "<5 mm" stay legal clinical text.
    if (std::isalpha(static_cast<unsigned char>(n)) || n == '/' || n == '!' || n == '?') return true;
  }
  for (const char* needle : {"javascript:", "vbscript:", "data:text/html"}) {
    if (t.find(needle) != std::string::npos) return true;
  }
  return false;
}

Result<ValidatedReport> ValidateReport(ReportInput in, const ValidationPolicy& policy,
                                       std::vector<FieldIssue>* issues) {
  std::vector<FieldIssue> local;
  if (!issues) issues = &local;
  issues->clear();
  size_t total = in.title.size() + in.diagnosis.size() + in.content.size();
  for (const auto& a : in.attachments) total += a.data.size() + a.filename.size();
  if (total > policy.max_total_bytes) {
    return MakeError(ErrorKind::kTooLarge, "report_too_large", "the report exceeds the size limit");
  }
  ValidatedReport out;
  out.patient_id = std::move(in.patient_id);
  if (out.patient_id.empty()) issues->push_back({"patientId", "required", "this field is required"});
  out.title = CheckText("title", in.title, policy.max_title, true, false, issues);
  out.diagnosis = CheckText("diagnosis", in.diagnosis, policy.max_diagnosis, true, true, issues);
  out.content = CheckText("content", in.content, policy.max_content, true, true, issues);
  if (in.attachments.size() > policy.max_attachments) {
    issues->push_back({"attachments", "too_many", "at most " + std::to_string(policy.max_attachments)});
  }
  bool unsupported = false;
  for (size_t i = 0; i < in.attachments.size() && i < policy.max_attachments; ++i) {
    auto& a = in.attachments[i];
    std::string f = "attachments[" + std::to_string(i) + "]";
    ValidatedAttachment v;
    v.filename = CheckText(f + ".filename", a.filename, 255, true, false, issues);
    if (v.filename.find('/') != std::string::npos || v.filename.find('\\') != std::string::npos) {
      issues->push_back({f + ".filename", "invalid", "file names may not contain path separators"});
    }
    if (a.data.empty()) issues->push_back({f + ".data", "required", "the attachment is empty"});
    if (a.data.size() > policy.max_attachment_bytes) {
      issues->push_back({f + ".data", "too_large", "attachment exceeds the size limit"});
    }
    if (!a.data.empty() && a.data.size() <= policy.max_attachment_bytes) {
      if (auto issue = CheckAttachmentBytes(f + ".data", a, &v.content_type)) {
        unsupported = unsupported || issue->code == "unsupported_type";
        issues->push_back(std::move(*issue));
      }
    }
    v.data = std::move(a.data);
    out.attachments.push_back(std::move(v));
  }
  if (!issues->empty()) {
    bool only_types =
        std::all_of(issues->begin(), issues->end(), [](const auto& x) { return x.code == "unsupported_type"; });
    if (unsupported && only_types) {
      return MakeError(ErrorKind::kUnsupportedType, "unsupported_attachment_type", "attachment type not accepted");
    }
    return MakeError(ErrorKind::kInvalidArgument, "validation_failed", "the report has invalid fields");
  }
  ApplyPatterns(&out.title, policy, &out.flags);
  ApplyPatterns(&out.diagnosis, policy, &out.flags);
  ApplyPatterns(&out.content, policy, &out.flags);
  return out;
}

}  // namespace medledger::service
