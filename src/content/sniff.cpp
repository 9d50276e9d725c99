#include "content/sniff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "common/encoding.h"

namespace medledger::content {
namespace {

Error Refuse(const char* code, std::string message) {
  return MakeError(ErrorKind::kUnsupportedType, code, std::move(message));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool AsciiIEquals(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), AsciiIEquals) != hay.end();
}

const char* ExecutableKind(std::string_view b) {
  if (StartsWith(b,
                 "\x7f"
                 "ELF"))
    return "ELF executable";
  if (StartsWith(b, "MZ")) return "PE/DOS executable";
  if (StartsWith(b, "#!")) return "script with an interpreter line";
  static constexpr std::array<std::string_view, 5> kMachO = {"\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe",
                                                             "\xcf\xfa\xed\xfe", "\xca\xfe\xba\xbe"};
  for (auto m : kMachO) {
    if (StartsWith(b, m)) return "Mach-O executable";
  }
  return nullptr;
}

const char* ArchiveKind(std::string_view b) {
  if (StartsWith(b, "PK\x03\x04") || StartsWith(b, "PK\x05\x06") || StartsWith(b, "PK\x07\x08")) return "zip";
  if (StartsWith(b, "\x1f\x8b")) return "gzip";
  if (StartsWith(b, std::string_view("7z\xbc\xaf\x27\x1c", 6))) return "7z";
  if (StartsWith(b, "Rar!\x1a\x07")) return "rar";
  if (StartsWith(b, "BZh")) return "bzip2";
  if (StartsWith(b, std::string_view("\xfd"
                                     "7zXZ\0",
                                     6)))
    return "xz";
  if (b.size() >= 262 && b.substr(257, 5) == "ustar") return "tar";
  return nullptr;
}

// HTML as browsers sniff it (WHATWG MIME sniffing): a known tag opening the document, after whitespace.
bool LooksLikeHtml(std::string_view text) {
  size_t i = 0;
  if (StartsWith(text, "\xef\xbb\xbf")) i = 3;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::string_view rest = text.substr(i);
  static constexpr std::array<std::string_view, 17> kTags = {
      "<!doctype html", "<html",  "<head", "<script", "<iframe", "<h1", "<div", "<font", "<table", "<a",
      "<style",         "<title", "<b",    "<body",   "<br",     "<p",  "<!--"};
  for (auto tag : kTags) {
    if (rest.size() > tag.size() && std::equal(tag.begin(), tag.end(), rest.begin(), AsciiIEquals)) {
      char next = rest[tag.size()];
      if (tag == "<!--" || next == ' ' || next == '>' || next == '\t' || next == '\n' || next == '\r') return true;
    }
  }
  return false;
}

// Script anywhere in text that a browser could render as markup.
bool HasActiveMarkup(std::string_view text) {
  for (std::string_view marker : {"<script", "javascript:", "<iframe", "<object", "<embed", "<foreignobject"}) {
    if (ContainsNoCase(text, marker)) return true;
  }
  // Event handler attributes (onload=, onerror=, ...) inside a tag.
  bool in_tag = false;
  for (size_t i = 0; i + 3 < text.size(); ++i) {
    char c = text[i];
    if (c == '<') in_tag = true;
    if (c == '>') in_tag = false;
    if (in_tag && std::isspace(static_cast<unsigned char>(c)) && AsciiIEquals(text[i + 1], 'o') &&
        AsciiIEquals(text[i + 2], 'n')) {
      size_t j = i + 3;
      while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i + 3 && j < text.size() && text[j] == '=') return true;
    }
  }
  return false;
}

bool IsPdfDelimiter(char c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' ||
         c == '%';
}

bool IsPdfWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\0';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The first name token in the PDF whose decoded form is an action or container a viewer runs or opens. Names
// are decoded first (PDF 1.2+: "#4A" is "J"), so "/J#61vaScript" is "/JavaScript" as every viewer reads it.
// Names inside compressed object streams are not seen (docs/CONTENT.md, residual risk).
std::string FindActivePdfName(std::string_view b) {
  static constexpr std::array<std::string_view, 11> kActive = {"JavaScript",    "JS",  "Launch",     "EmbeddedFile",
                                                               "EmbeddedFiles", "AA",  "SubmitForm", "ImportData",
                                                               "RichMedia",     "XFA", "GoToE"};
  std::string name;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '/') continue;
    name.clear();
    size_t j = i + 1;
    while (j < b.size() && !IsPdfWhitespace(b[j]) && !IsPdfDelimiter(b[j]) && name.size() < 64) {
      int hi = 0, lo = 0;
      if (b[j] == '#' && j + 2 < b.size() && (hi = HexValue(b[j + 1])) >= 0 && (lo = HexValue(b[j + 2])) >= 0) {
        name.push_back(static_cast<char>(hi * 16 + lo));
        j += 3;
      } else {
        name.push_back(b[j]);
        ++j;
      }
    }
    for (auto active : kActive) {
      if (name == active) return name;
    }
    i = j - 1;
  }
  return {};
}

// DICOM Part 10 (PS3.10 §7.1): after the 128-byte preamble and "DICM" comes the File Meta Information, group
// 0002 in explicit VR little endian, which must hold a Transfer Syntax UID (0002,0010) and be followed by a
// data set. A file with the magic and anything else after it is malformed, not a DICOM image.
bool IsWellFormedDicom(std::string_view b) {
  size_t pos = 132;
  bool transfer_syntax = false;
  size_t elements = 0;
  while (pos + 8 <= b.size()) {
    auto u16 = [&](size_t at) {
      return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
    };
    uint16_t group = u16(pos);
    if (group != 0x0002) break;  // the meta group ends where the data set begins
    uint16_t element = u16(pos + 2);
    char vr0 = b[pos + 4], vr1 = b[pos + 5];
    if (vr0 < 'A' || vr0 > 'Z' || vr1 < 'A' || vr1 > 'Z') return false;
    std::string_view vr = b.substr(pos + 4, 2);
    uint64_t length;
    size_t header;
    if (vr == "OB" || vr == "OW" || vr == "OF" || vr == "SQ" || vr == "UT" || vr == "UN" || vr == "UC" || vr == "UR" ||
        vr == "OD" || vr == "OL" || vr == "OV" || vr == "SV" || vr == "UV") {
      if (pos + 12 > b.size()) return false;
      length = u16(pos + 8) | static_cast<uint64_t>(u16(pos + 10)) << 16;
      header = 12;
    } else {
      length = u16(pos + 6);
      header = 8;
    }
    if (length > b.size() - pos - header) return false;  // runs past the end (also 0xFFFFFFFF: undefined)
    if (element == 0x0010) transfer_syntax = length > 0;
    pos += header + static_cast<size_t>(length);
    ++elements;
  }
  return elements > 0 && transfer_syntax && pos + 8 <= b.size();
}

bool IsPlainText(std::string_view text) {
  if (!IsValidUtf8(text)) return false;
  for (unsigned char c : text) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
    if (c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view MimeTypeOf(AttachmentType type) {
  switch (type) {
    case AttachmentType::kPdf: return "application/pdf";
    case AttachmentType::kPng: return "image/png";
    case AttachmentType::kJpeg: return "image/jpeg";
    case AttachmentType::kDicom: return "application/dicom";
    case AttachmentType::kText: return "text/plain";
  }
  return "application/octet-stream";
}

Result<AttachmentType> ParseMimeType(std::string_view mime) {
  std::string_view essence = mime.substr(0, mime.find(';'));
  while (!essence.empty() && std::isspace(static_cast<unsigned char>(essence.back()))) essence.remove_suffix(1);
  while (!essence.empty() && std::isspace(static_cast<unsigned char>(essence.front()))) essence.remove_prefix(1);
  for (auto t : {AttachmentType::kPdf, AttachmentType::kPng, AttachmentType::kJpeg, AttachmentType::kDicom,
                 AttachmentType::kText}) {
    std::string_view m = MimeTypeOf(t);
    if (essence.size() == m.size() && std::equal(m.begin(), m.end(), essence.begin(), AsciiIEquals)) return t;
  }
  if (mime.size() > 100) mime = mime.substr(0, 100);
  return Refuse("attachment_type_unsupported",
                "declared type '" + std::string(mime) + "' is not allowed (PDF, PNG, JPEG, DICOM or plain text)");
}

Result<AttachmentType> SniffAttachment(std::string_view b, const SniffOptions& options) {
  if (b.size() > options.max_size) {
    return MakeError(ErrorKind::kTooLarge, "attachment_too_large",
                     "attachment of " + std::to_string(b.size()) + " bytes exceeds the limit of " +
                         std::to_string(options.max_size));
  }
  if (b.empty()) return MakeError(ErrorKind::kInvalidArgument, "attachment_empty", "attachment is empty");
  if (const char* kind = ExecutableKind(b)) return Refuse("attachment_executable", std::string("refused: ") + kind);
  if (const char* kind = ArchiveKind(b))
    return Refuse("attachment_archive", std::string("refused: ") + kind + " archive");
  if (StartsWith(b, "%PDF-")) {
    // Scripts, launch and submit actions, event-triggered actions (/AA) and embedded files are active content.
    std::string active = FindActivePdfName(b);
    if (!active.empty()) return Refuse("attachment_active_content", "refused: PDF with /" + active);
    return AttachmentType::kPdf;
  }
  if (StartsWith(b, "\x89PNG\r\n\x1a\n")) return AttachmentType::kPng;
  if (StartsWith(b, "\xff\xd8\xff")) return AttachmentType::kJpeg;
  if (b.size() >= 132 && b.substr(128, 4) == "DICM") {
    if (!IsWellFormedDicom(b)) {
      return MakeError(ErrorKind::kInvalidArgument, "attachment_malformed",
                       "DICOM file without a well-formed File Meta Information group (transfer syntax) and data set");
    }
    return AttachmentType::kDicom;
  }
  if (IsPlainText(b)) {
    if (LooksLikeHtml(b)) return Refuse("attachment_html", "refused: HTML document");
    if (HasActiveMarkup(b)) return Refuse("attachment_active_content", "refused: text with script or markup handlers");
    return AttachmentType::kText;
  }
  return Refuse("attachment_unknown_type", "content is not PDF, PNG, JPEG, DICOM or UTF-8 text");
}

Result<AttachmentType> CheckAttachment(std::string_view bytes, std::string_view declared_mime,
                                       const SniffOptions& options) {
  ML_ASSIGN_OR_RETURN(AttachmentType declared, ParseMimeType(declared_mime));
  ML_ASSIGN_OR_RETURN(AttachmentType actual, SniffAttachment(bytes, options));
  if (actual != declared) {
    return Refuse("attachment_type_mismatch", "declared " + std::string(MimeTypeOf(declared)) + " but the bytes are " +
                                                  std::string(MimeTypeOf(actual)));
  }
  return actual;
}

}  // namespace medledger::content
