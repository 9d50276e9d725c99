#include "http/multipart.h"

#include <algorithm>
#include <cctype>

namespace medledger::http {
namespace {

Error Malformed(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "malformed_multipart", std::move(message));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 2046 bchars, without the space (a trailing space would be ambiguous, and no client sends one).
bool IsBoundaryChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
}

// Parameters of a header value: `; key=value` or `; key="quoted"` (backslash escapes a quote or backslash).
// Returns false on a syntax error. Keys are lower-cased; a repeated key is an error (ambiguous).
bool ParseParams(std::string_view s, std::vector<std::pair<std::string, std::string>>* out) {
  while (true) {
    s = Trim(s);
    if (s.empty()) return true;
    if (s.front() != ';') return false;
    s.remove_prefix(1);
    s = Trim(s);
    size_t eq = s.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string key = Lower(Trim(s.substr(0, eq)));
    s.remove_prefix(eq + 1);
    s = Trim(s);
    std::string value;
    if (!s.empty() && s.front() == '"') {
      size_t i = 1;
      bool closed = false;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value.push_back(s[++i]);
        } else if (s[i] == '"') {
          closed = true;
          break;
        } else {
          value.push_back(s[i]);
        }
      }
      if (!closed) return false;
      s.remove_prefix(i + 1);
    } else {
      size_t end = s.find(';');
      value = std::string(Trim(s.substr(0, end)));
      if (value.empty()) return false;
      s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    }
    for (const auto& [k, v] : *out) {
      if (k == key) return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
}

const std::string* Param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

Status ParsePartHeaders(std::string_view headers, MultipartPart* part) {
  bool disposition = false;
  while (!headers.empty()) {
    size_t eol = headers.find("\r\n");
    std::string_view line = headers.substr(0, eol);
    headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Malformed("a part header line has no name");
    std::string name = Lower(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (HasControl(value)) return Malformed("a part header has control characters");
    if (name == "content-disposition") {
      if (disposition) return Malformed("a part has two Content-Disposition headers");
      disposition = true;
      size_t semi = value.find(';');
      if (Lower(Trim(value.substr(0, semi))) != "form-data") return Malformed("a part is not form-data");
      std::vector<std::pair<std::string, std::string>> params;
      if (semi == std::string_view::npos || !ParseParams(value.substr(semi), &params)) {
        return Malformed("a part's Content-Disposition parameters are invalid");
      }
      const std::string* n = Param(params, "name");
      if (n == nullptr || n->empty()) return Malformed("a part has no name");
      part->name = *n;
      if (const std::string* f = Param(params, "filename")) part->filename = *f;
      if (Param(params, "filename*") != nullptr) return Malformed("filename* is not accepted; send filename");
    } else if (name == "content-type") {
      if (!part->content_type.empty()) return Malformed("a part has two Content-Type headers");
      part->content_type = std::string(value);
      if (part->content_type.empty()) return Malformed("a part has an empty Content-Type");
    } else if (name == "content-transfer-encoding") {
      // RFC 7578 section 4.7: deprecated; only the identity encodings are meaningful over HTTP.
      std::string enc = Lower(value);
      if (enc != "binary" && enc != "8bit" && enc != "7bit") return Malformed("Content-Transfer-Encoding " + enc);
    }
    // Other part headers carry nothing for form-data and are ignored (RFC 7578 section 4.8).
  }
  if (!disposition) return Malformed("a part has no Content-Disposition");
  return OkStatus();
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (Lower(Trim(content_type.substr(0, semi))) != "multipart/form-data") {
    return MakeError(ErrorKind::kUnsupportedType, "unsupported_media_type", "send multipart/form-data");
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (semi == std::string_view::npos || !ParseParams(content_type.substr(semi), &params)) {
    return Malformed("the Content-Type has no valid parameters");
  }
  const std::string* b = Param(params, "boundary");
  if (b == nullptr) return Malformed("the Content-Type has no boundary");
  if (b->empty() || b->size() > 70 || !std::all_of(b->begin(), b->end(), IsBoundaryChar)) {
    return Malformed("the boundary must be 1 to 70 characters of [A-Za-z0-9'()+_,-./:=?]");
  }
  return *b;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  if (boundary.empty()) return Malformed("empty boundary");
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash_boundary;
  // The first boundary starts the body or follows a preamble line.
  size_t pos;
  if (body.substr(0, dash_boundary.size()) == dash_boundary) {
    pos = dash_boundary.size();
  } else {
    size_t found = body.find(delimiter);
    if (found == std::string_view::npos) return Malformed("the body has no boundary");
    pos = found + delimiter.size();
  }
  std::vector<MultipartPart> parts;
  while (true) {
    // After a boundary: "--" closes the body; otherwise optional transport padding, then CRLF.
    if (body.substr(pos, 2) == "--") return parts;  // the epilogue, if any, is ignored (RFC 2046)
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return Malformed("a boundary line is not followed by CRLF");
    pos += 2;
    if (parts.size() == limits.max_parts) {
      return MakeError(ErrorKind::kInvalidArgument, "too_many_parts",
                       "at most " + std::to_string(limits.max_parts) + " parts");
    }
    MultipartPart part;
    size_t headers_end;
    if (body.substr(pos, 2) == "\r\n") {
      headers_end = pos;  // no headers at all: caught below (no Content-Disposition)
    } else {
      headers_end = body.find("\r\n\r\n", pos);
      if (headers_end == std::string_view::npos) return Malformed("a part's headers do not end");
    }
    if (headers_end - pos > limits.max_part_header_bytes) return Malformed("a part's headers are too large");
    ML_RETURN_IF_ERROR(ParsePartHeaders(body.substr(pos, headers_end - pos), &part));
    pos = headers_end + (headers_end == pos ? 2 : 4);
    size_t end = body.find(delimiter, pos);
    if (end == std::string_view::npos) return Malformed("the body ends inside a part (no closing boundary)");
    part.data = std::string(body.substr(pos, end - pos));
    parts.push_back(std::move(part));
    pos = end + delimiter.size();
  }
}

}  // namespace medledger::http
