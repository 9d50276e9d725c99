#include "contract/args.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "common/encoding.h"

namespace medledger::contract {

using json = nlohmann::json;

struct Args::Impl {
  json doc;
};

Args::Args(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Args::~Args() = default;
Args::Args(Args&&) noexcept = default;
Args& Args::operator=(Args&&) noexcept = default;

namespace {

constexpr size_t kMaxMetadataFields = 16;
constexpr size_t kMaxMetadataKey = 64;
constexpr size_t kMaxMetadataText = 512;
constexpr size_t kMaxMetadataList = 16;
constexpr size_t kMaxMetadataListItem = 128;
constexpr size_t kMaxMetadataBytes = 4096;

Error Bad(std::string_view code, std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, std::string(code), std::move(message));
}

// Built by append: GCC 12 at -O3 reports a false -Wrestrict for "\"" + std::string(...) + "\"".
std::string Quoted(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  out.append(name);
  out += '"';
  return out;
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

bool IsIdent(std::string_view s, bool allow_at) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!IsIdChar(c) && !(allow_at && c == '@')) return false;
  }
  return true;
}

bool AllIn(std::string_view s, std::string_view alphabet) {
  return s.find_first_not_of(alphabet) == s.npos;
}

constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";

const char* PatternText(Pattern p) {
  switch (p) {
    case Pattern::kText: return "text without control characters";
    case Pattern::kId: return "an identifier of 1-128 characters [A-Za-z0-9._:-]";
    case Pattern::kHex64: return "64 lowercase hex characters";
    case Pattern::kCallerId: return "a caller ID \"<mspId>/<username>\"";
    case Pattern::kCid: return "a CID (CIDv0, or CIDv1 in base32 or base58btc)";
    case Pattern::kLogOrigin: return "a log origin: segments of [A-Za-z0-9._:-] joined by \"/\"";
  }
  return "valid";
}

// Tracks, while nlohmann parses, what the DOM would silently accept: duplicate keys (the last would win,
// and another parser might pick the first) and nesting beyond what any function takes.
class StrictnessCheck {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        keys_.emplace_back();
        if (keys_.size() > static_cast<size_t>(kMaxArgumentDepth)) too_deep_ = true;
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!keys_.empty()) keys_.pop_back();
        break;
      case json::parse_event_t::key: {
        if (keys_.empty() || !parsed.is_string()) break;
        auto& seen = keys_.back();
        const auto& key = parsed.get_ref<const std::string&>();
        for (const auto& k : seen) {
          if (k == key) duplicate_ = key;
        }
        seen.push_back(key);
        break;
      }
      case json::parse_event_t::value: break;
    }
    return true;
  }
  bool too_deep() const { return too_deep_; }
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  std::vector<std::vector<std::string>> keys_;
  bool too_deep_ = false;
  std::optional<std::string> duplicate_;
};

// Nesting is checked on the raw bytes first so hostile input never builds a deep tree at all.
bool NestingWithin(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

Status CheckMetadataValue(std::string_view key, const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > kMaxMetadataText) {
      return Bad("field_too_long",
                 "metadata." + std::string(key) + " exceeds " + std::to_string(kMaxMetadataText) + " bytes");
    }
    if (!MatchesPattern(s, Pattern::kText)) {
      return Bad("invalid_field", "metadata." + std::string(key) + " must be text without control characters");
    }
    return OkStatus();
  }
  if (v.is_number() || v.is_boolean()) return OkStatus();
  if (v.is_array()) {
    if (v.size() > kMaxMetadataList) {
      return Bad("invalid_field",
                 "metadata." + std::string(key) + " lists more than " + std::to_string(kMaxMetadataList) + " items");
    }
    for (const auto& item : v) {
      if (!item.is_string() || item.get_ref<const std::string&>().size() > kMaxMetadataListItem ||
          !MatchesPattern(item.get_ref<const std::string&>(), Pattern::kText)) {
        return Bad("invalid_field", "metadata." + std::string(key) + " must list strings of at most " +
                                        std::to_string(kMaxMetadataListItem) + " bytes");
      }
    }
    return OkStatus();
  }
  return Bad("invalid_field", "metadata." + std::string(key) + " must be a string, number, boolean or list of strings");
}

}  // namespace

bool MatchesPattern(std::string_view s, Pattern p) {
  switch (p) {
    case Pattern::kText:
      for (unsigned char c : s) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
      }
      return IsValidUtf8(s);
    case Pattern::kId: return IsIdent(s, false);
    case Pattern::kHex64: return s.size() == 64 && AllIn(s, "0123456789abcdef");
    case Pattern::kCallerId: {
      size_t slash = s.find('/');
      if (slash == s.npos) return false;
      return IsIdent(s.substr(0, slash), false) && IsIdent(s.substr(slash + 1), true);
    }
    case Pattern::kCid:
      if (s.size() < 46 || s.size() > 128) return false;
      if (s.size() == 46 && s.substr(0, 2) == "Qm") return AllIn(s, kBase58);
      if (s[0] == 'b') return AllIn(s.substr(1), kBase32Lower);
      if (s[0] == 'z') return AllIn(s.substr(1), kBase58);
      return false;
    case Pattern::kLogOrigin: {
      if (s.empty() || s.size() > 128) return false;
      size_t start = 0;
      while (true) {
        size_t slash = s.find('/', start);
        if (!IsIdent(s.substr(start, slash == s.npos ? s.npos : slash - start), false)) return false;
        if (slash == s.npos) return true;
        start = slash + 1;
      }
    }
  }
  return false;
}

size_t CodePoints(std::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

Result<Args> Args::Parse(std::string_view text, std::initializer_list<std::string_view> allowed) {
  if (text.size() > kMaxArgumentBytes) return Bad("argument_too_large", "the argument exceeds 64 KiB");
  if (!NestingWithin(text, kMaxArgumentDepth)) return Bad("invalid_json", "the argument is nested too deeply");
  StrictnessCheck check;
  auto impl = std::make_unique<Impl>();
  impl->doc = json::parse(text, std::ref(check), /*allow_exceptions=*/false);
  if (impl->doc.is_discarded()) return Bad("invalid_json", "the argument is not valid JSON");
  if (!impl->doc.is_object()) return Bad("invalid_json", "the argument must be a JSON object");
  if (check.too_deep()) return Bad("invalid_json", "the argument is nested too deeply");
  if (check.duplicate()) return Bad("duplicate_field", "field " + Quoted(*check.duplicate()) + " appears twice");
  for (const auto& item : impl->doc.items()) {
    bool known = false;
    for (auto a : allowed) known = known || item.key() == a;
    if (!known) {
      std::string shown = item.key().size() <= 64 && MatchesPattern(item.key(), Pattern::kText)
                              ? Quoted(item.key())
                              : std::string("(unprintable)");
      return Bad("unknown_field", "unknown field " + shown);
    }
  }
  return Args(std::move(impl));
}

Result<std::optional<std::string>> Args::OptionalString(std::string_view name, size_t max_bytes,
                                                        Pattern pattern) const {
  auto it = impl_->doc.find(name);
  if (it == impl_->doc.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Bad("invalid_field", Quoted(name) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return Bad("field_too_long", Quoted(name) + " exceeds " + std::to_string(max_bytes) + " bytes");
  }
  if (!s.empty() && !MatchesPattern(s, pattern)) {
    return Bad("invalid_field", Quoted(name) + " must be " + PatternText(pattern));
  }
  return std::optional<std::string>(s);
}

Result<std::string> Args::String(std::string_view name, size_t max_bytes, Pattern pattern) const {
  ML_ASSIGN_OR_RETURN(auto value, OptionalString(name, max_bytes, pattern));
  if (!value || value->empty()) return Bad("missing_field", Quoted(name) + " is required");
  return std::move(*value);
}

Result<std::optional<int64_t>> Args::OptionalInt(std::string_view name, int64_t min, int64_t max) const {
  auto it = impl_->doc.find(name);
  if (it == impl_->doc.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return Bad("invalid_field", Quoted(name) + " must be an integer");
  // Unsigned values above INT64_MAX would wrap in get<int64_t>().
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return Bad("out_of_range",
               Quoted(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return Bad("out_of_range",
               Quoted(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<bool>> Args::OptionalBool(std::string_view name) const {
  auto it = impl_->doc.find(name);
  if (it == impl_->doc.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Bad("invalid_field", Quoted(name) + " must be a boolean");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::vector<std::string>>> Args::OptionalStringList(std::string_view name, size_t max_items,
                                                                         size_t max_bytes, Pattern pattern) const {
  using List = std::optional<std::vector<std::string>>;
  auto it = impl_->doc.find(name);
  if (it == impl_->doc.end() || it->is_null()) return List();
  if (!it->is_array()) return Bad("invalid_field", Quoted(name) + " must be a list of strings");
  if (it->size() > max_items) {
    return Bad("field_too_long", Quoted(name) + " has more than " + std::to_string(max_items) + " items");
  }
  std::vector<std::string> out;
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string()) return Bad("invalid_field", Quoted(name) + " must be a list of strings");
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_bytes || !MatchesPattern(s, pattern)) {
      return Bad("invalid_field", "each of " + Quoted(name) + " must be " + PatternText(pattern));
    }
    out.push_back(s);
  }
  return List(std::move(out));
}

Result<const json*> Args::OptionalMetadata(std::string_view name) const {
  auto it = impl_->doc.find(name);
  if (it == impl_->doc.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return Bad("invalid_field", Quoted(name) + " must be an object");
  if (it->size() > kMaxMetadataFields) {
    return Bad("invalid_field", Quoted(name) + " has more than " + std::to_string(kMaxMetadataFields) + " fields");
  }
  size_t bytes = 2;
  for (const auto& item : it->items()) {
    if (item.key().size() > kMaxMetadataKey || !MatchesPattern(item.key(), Pattern::kId)) {
      return Bad("invalid_field", "metadata keys must be identifiers of at most 64 characters");
    }
    ML_RETURN_IF_ERROR(CheckMetadataValue(item.key(), item.value()));
    bytes += item.key().size() + 4;
    if (item.value().is_string()) bytes += item.value().get_ref<const std::string&>().size();
    if (item.value().is_array()) {
      for (const auto& s : item.value()) bytes += s.get_ref<const std::string&>().size() + 3;
    }
  }
  // A lower bound of the serialized size (numbers and escapes aside) keeps records small without a dump().
  if (bytes > kMaxMetadataBytes) {
    return Bad("field_too_long", Quoted(name) + " exceeds " + std::to_string(kMaxMetadataBytes) + " bytes");
  }
  return &*it;
}

}  // namespace medledger::contract
