// multipart/form-data (RFC 7578 over RFC 2046): a strict, bounded parser for request bodies already in
// memory (the server's body limit bounds them). Anything ambiguous is refused rather than guessed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::http {

struct MultipartPart {
  std::string name;          // Content-Disposition: form-data; name="..."
  std::string filename;      // filename="..." ("" for plain fields)
  std::string content_type;  // the part's Content-Type ("" when absent)
  std::string data;
};

struct MultipartLimits {
  size_t max_parts = 16;
  size_t max_part_header_bytes = 4096;  // all header lines of one part
};

// The boundary parameter of a `multipart/form-data` Content-Type header value.
// Codes: "unsupported_media_type" (another type), "malformed_multipart" (no or invalid boundary).
Result<std::string> MultipartBoundary(std::string_view content_type);

// Codes: "malformed_multipart" (structure, headers, missing closing delimiter), "too_many_parts".
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

}  // namespace medledger::http
