// The one parser for JSON that a client or a remote party controls (request bodies, token segments, OpenID
// and JWKS documents). nlohmann's DOM parser would build the whole tree before anyone could look at it, so a
// body of millions of '[' cost hundreds of MiB; and it lets the last of two equal keys win, so two parsers
// could read one document two ways. This one builds the tree through a SAX handler that stops at the first
// open bracket beyond the depth limit and at the first repeated key, so hostile input never grows a tree
// deeper than the limit or larger than a small multiple of its own bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace medledger {

struct StrictJsonOptions {
  // Objects and arrays open at once; the top-level value is depth 1. Every document the API takes is far
  // shallower (FHIR DiagnosticReport: 5).
  int max_depth = 32;
};

// Errors (all kInvalidArgument): "json_too_deep", "duplicate_json_key", "malformed_json" (syntax, invalid
// UTF-8, trailing bytes, or an empty input). Messages name the byte offset, never the input's text.
Result<nlohmann::json> ParseStrictJson(std::string_view text, StrictJsonOptions options = {});

}  // namespace medledger
