// Strict parsing of a contract function's single JSON-object argument: unknown or duplicate fields, wrong
// types, excessive nesting, oversized strings and malformed identifiers are refused with a precise error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::contract {

enum class Pattern {
  kText,       // UTF-8 without control characters other than \n and \t
  kId,         // [A-Za-z0-9._:-]{1,128}
  kHex64,      // 64 lowercase hex characters (SHA-256 digests, keyed pseudonyms)
  kCallerId,   // "<mspId>/<name>": an MSP ID and a certificate CN, both [A-Za-z0-9._:@-]
  kCid,        // a CID as text: CIDv0 ("Qm...") or multibase base32 ("b...") / base58btc ("z...")
  kLogOrigin,  // a transparency log origin: a schema-less URL, [A-Za-z0-9._:-] segments joined by "/"
};

// True when `s` matches `p` (lengths included where the pattern fixes them).
bool MatchesPattern(std::string_view s, Pattern p);
// Number of Unicode code points in valid UTF-8 text.
size_t CodePoints(std::string_view utf8);

inline constexpr size_t kMaxArgumentBytes = 64 * 1024;
inline constexpr int kMaxArgumentDepth = 3;  // the object, metadata, a list of strings inside metadata

class Args {
 public:
  // Parses `text` as a JSON object whose keys are all in `allowed`.
  static Result<Args> Parse(std::string_view text, std::initializer_list<std::string_view> allowed);
  ~Args();
  Args(Args&&) noexcept;
  Args& operator=(Args&&) noexcept;

  // Required strings may not be empty. `max_bytes` bounds the UTF-8 size.
  Result<std::string> String(std::string_view name, size_t max_bytes, Pattern pattern = Pattern::kText) const;
  Result<std::optional<std::string>> OptionalString(std::string_view name, size_t max_bytes,
                                                    Pattern pattern = Pattern::kText) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view name, int64_t min, int64_t max) const;
  Result<std::optional<bool>> OptionalBool(std::string_view name) const;
  // A list of at most `max_items` non-empty strings, each within `max_bytes` and matching `pattern`.
  Result<std::optional<std::vector<std::string>>> OptionalStringList(std::string_view name, size_t max_items,
                                                                     size_t max_bytes, Pattern pattern) const;
  // Report metadata: a flat object (at most 16 fields, keys matching kId up to 64 bytes) whose values are
  // strings (<= 512 bytes), numbers, booleans or lists of at most 16 strings (<= 128 bytes each), at most
  // 4 KiB serialized. Returns nullptr when absent; the pointer lives as long as this Args.
  Result<const nlohmann::json*> OptionalMetadata(std::string_view name) const;

 private:
  struct Impl;
  explicit Args(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::contract
