#include "service/report_validation.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "common/encoding.h"

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

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
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
  } else if (ContainsActiveContent(text)) {
    issues->push_back({std::string(field), "active_content", "HTML and script content is not accepted"});
  }
  return text;
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

bool ContainsActiveContent(std::string_view text) {
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

std::string SniffContentType(std::string_view b) {
  if (StartsWith(b, "%PDF-")) return "application/pdf";
  if (StartsWith(b, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (StartsWith(b, "\xFF\xD8\xFF")) return "image/jpeg";
  // Executables, scripts and archives are refused whatever they are called.
  for (std::string_view magic : {std::string_view("MZ"),
                                 std::string_view("\x7f"
                                                  "ELF"),
                                 std::string_view("#!"), std::string_view("PK\x03\x04"),
                                 std::string_view("\xCA\xFE\xBA\xBE"), std::string_view("\xCF\xFA\xED\xFE")}) {
    if (StartsWith(b, magic)) return "";
  }
  if (b.find('\0') == std::string_view::npos && IsValidUtf8(b) && !ContainsActiveContent(b)) return "text/plain";
  return "";
}

Result<ValidatedReport> ValidateReport(const ReportInput& in, const ValidationPolicy& policy,
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
  out.patient_id = in.patient_id;
  if (in.patient_id.empty()) issues->push_back({"patientId", "required", "this field is required"});
  out.title = CheckText("title", in.title, policy.max_title, true, false, issues);
  out.diagnosis = CheckText("diagnosis", in.diagnosis, policy.max_diagnosis, true, true, issues);
  out.content = CheckText("content", in.content, policy.max_content, true, true, issues);
  if (in.attachments.size() > policy.max_attachments) {
    issues->push_back({"attachments", "too_many", "at most " + std::to_string(policy.max_attachments)});
  }
  bool unsupported = false;
  for (size_t i = 0; i < in.attachments.size() && i < policy.max_attachments; ++i) {
    const auto& a = in.attachments[i];
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
    v.content_type = SniffContentType(a.data);
    std::string declared = Lower(a.content_type.substr(0, a.content_type.find(';')));
    if (!a.data.empty() && (v.content_type.empty() || (!declared.empty() && declared != v.content_type &&
                                                       declared != "application/octet-stream"))) {
      unsupported = true;
      issues->push_back({f + ".data", "unsupported_type",
                         "only PDF, PNG, JPEG and plain text are accepted, and the declared type must match"});
    }
    v.data = a.data;
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
