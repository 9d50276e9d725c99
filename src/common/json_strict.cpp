#include "common/json_strict.h"

#include <optional>
#include <string>
#include <vector>

namespace medledger {
namespace {

using json = nlohmann::json;

// nlohmann's json_sax_dom_parser, plus the two refusals. Returning false from any event stops the parser at
// once, before it reads another byte.
class StrictBuilder : public nlohmann::json_sax<json> {
 public:
  explicit StrictBuilder(int max_depth) : max_depth_(static_cast<size_t>(max_depth)) {}

  bool null() override { return Put(nullptr); }
  bool boolean(bool v) override { return Put(v); }
  bool number_integer(number_integer_t v) override { return Put(v); }
  bool number_unsigned(number_unsigned_t v) override { return Put(v); }
  bool number_float(number_float_t v, const string_t&) override { return Put(v); }
  bool string(string_t& v) override { return Put(std::move(v)); }
  bool binary(binary_t&) override { return Fail("malformed_json", "binary values are not JSON"); }

  bool start_object(std::size_t) override { return Open(json::value_t::object); }
  bool start_array(std::size_t) override { return Open(json::value_t::array); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    json& object = *stack_.back();
    if (object.contains(k)) {
      return Fail("duplicate_json_key", "an object repeats the key " + Describe(k));
    }
    slot_ = &object[k];
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    return Fail("malformed_json", "the body is not valid JSON (at byte " + std::to_string(position) + ")");
  }

  json& root() { return root_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  static std::string Describe(const std::string& k) {
    if (k.size() > 64) return "(a long key)";
    for (unsigned char c : k) {
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return "(a key with special characters)";
    }
    return "\"" + k + "\"";
  }

  bool Fail(const char* code, std::string message) {
    if (!error_) error_ = MakeError(ErrorKind::kInvalidArgument, code, std::move(message));
    return false;
  }

  template <class V>
  bool Put(V&& v) {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return true;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.emplace_back(std::forward<V>(v));
    } else {
      *slot_ = json(std::forward<V>(v));
    }
    return true;
  }

  bool Open(json::value_t type) {
    if (stack_.size() >= max_depth_) {
      return Fail("json_too_deep", "JSON nesting exceeds " + std::to_string(max_depth_) + " levels");
    }
    json* created = nullptr;
    if (stack_.empty()) {
      root_ = json(type);
      created = &root_;
    } else if (stack_.back()->is_array()) {
      stack_.back()->emplace_back(type);
      created = &stack_.back()->back();
    } else {
      *slot_ = json(type);
      created = slot_;
    }
    stack_.push_back(created);
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  size_t max_depth_;
  json root_;
  std::vector<json*> stack_;  // the open containers; at most max_depth_
  json* slot_ = nullptr;      // the member the next value goes into
  std::optional<Error> error_;
};

}  // namespace

Result<nlohmann::json> ParseStrictJson(std::string_view text, StrictJsonOptions options) {
  StrictBuilder builder(options.max_depth < 1 ? 1 : options.max_depth);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true,
                            /*ignore_comments=*/false);
  if (builder.error()) return *builder.error();
  if (!ok) return MakeError(ErrorKind::kInvalidArgument, "malformed_json", "the body is not valid JSON");
  return std::move(builder.root());
}

}  // namespace medledger
