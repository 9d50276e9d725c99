// Helpers shared by the handler units (JSON bodies, answers, error mapping). Internal to src/http: it
// includes nlohmann/json, so only handler .cpp files include it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/message.h"
#include "service/report_validation.h"

namespace medledger::http {

using json = nlohmann::json;

// application/json only ("unsupported_media_type", 415); a JSON object ("malformed_json", 400), nested at
// most 32 deep ("json_too_deep", 400), with no key twice in one object ("duplicate_json_key", 400).
Result<json> JsonBody(const Request& req);
// A string member; absent -> "", wrong type -> error "invalid_field" naming it.
Result<std::string> StringField(const json& body, const char* name, bool required);
// The same, moving the string out of `body` (left holding an empty string): for large members of a body
// that is not used afterwards.
Result<std::string> TakeStringField(json& body, const char* name, bool required);
// A whole string of decimal digits as a number (no sign, no spaces, no overflow); nullopt otherwise.
std::optional<uint64_t> DecimalNumber(std::string_view text);

// pageSize from the query: absent is the service's default; anything but an integer in the contract's range is
// 400 invalid_page_size (never clamped: a client must not silently get a different page than it asked for).
Result<uint32_t> PageSizeParam(const Request& req);

Response Json(int status, const json& body);
Response JsonText(int status, const std::string& body);
// Error -> problem+json; semantic validation failures are 422 with their field issues.
Response FromError(const Error& error, const std::vector<service::FieldIssue>& issues = {});

}  // namespace medledger::http
