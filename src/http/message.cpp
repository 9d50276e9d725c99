#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace medledger::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void Request::SetTarget(std::string target_in) {
  target = std::move(target_in);
  auto q = target.find('?');
  if (q == std::string::npos) {
    path = target;
    query.clear();
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

std::string Request::Header(std::string_view lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key.ok() || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    auto value = PercentDecode(pair.substr(eq + 1), true);
    if (!value.ok()) return std::nullopt;
    return *value;
  }
  return std::nullopt;
}

void Response::SetHeader(std::string_view name, std::string value) {
  for (auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::move(value));
}

std::string Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

Response JsonResponse(int status, std::string json_body) {
  Response r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(json_body);
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  return r;
}

Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return MakeError(ErrorKind::kInvalidArgument, "bad_encoding", "truncated percent-encoding");
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return MakeError(ErrorKind::kInvalidArgument, "bad_encoding", "bad percent-encoding");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    }
    if (c == '\0') return MakeError(ErrorKind::kInvalidArgument, "bad_encoding", "NUL in percent-encoded text");
    out.push_back(c);
  }
  return out;
}

}  // namespace medledger::http
