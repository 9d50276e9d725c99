#include "contract/stub.h"

#include "common/encoding.h"

namespace medledger::contract {
namespace {

constexpr char kMinUnicodeRune = '\x00';
constexpr std::string_view kMaxUnicodeRune = "\xF4\x8F\xBF\xBF";  // U+10FFFF in UTF-8

Status ValidateComponent(std::string_view s) {
  if (!IsValidUtf8(s)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_composite_key", "composite key parts must be UTF-8");
  }
  if (s.find(kMinUnicodeRune) != std::string_view::npos || s.find(kMaxUnicodeRune) != std::string_view::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_composite_key",
                     "composite key parts may not contain U+0000 or U+10FFFF");
  }
  return OkStatus();
}

}  // namespace

Result<std::string> CreateCompositeKey(std::string_view object_type, const std::vector<std::string>& attributes) {
  ML_RETURN_IF_ERROR(ValidateComponent(object_type));
  std::string key;
  key.reserve(object_type.size() + 2 + attributes.size() * 16);
  key += kMinUnicodeRune;
  key += object_type;
  key += kMinUnicodeRune;
  for (const auto& a : attributes) {
    ML_RETURN_IF_ERROR(ValidateComponent(a));
    key += a;
    key += kMinUnicodeRune;
  }
  return key;
}

Result<std::pair<std::string, std::vector<std::string>>> SplitCompositeKey(std::string_view key) {
  if (key.size() < 2 || key.front() != kMinUnicodeRune || key.back() != kMinUnicodeRune) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_composite_key", "not a composite key");
  }
  std::vector<std::string> parts;
  size_t start = 1;
  for (size_t i = 1; i < key.size(); ++i) {
    if (key[i] == kMinUnicodeRune) {
      parts.emplace_back(key.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string type = std::move(parts.front());
  parts.erase(parts.begin());
  return std::make_pair(std::move(type), std::move(parts));
}

Result<std::pair<std::string, std::string>> PartialCompositeKeyRange(std::string_view object_type,
                                                                     const std::vector<std::string>& attributes) {
  ML_ASSIGN_OR_RETURN(std::string start, CreateCompositeKey(object_type, attributes));
  std::string end = start;
  end += kMaxUnicodeRune;
  return std::make_pair(std::move(start), std::move(end));
}

}  // namespace medledger::contract
