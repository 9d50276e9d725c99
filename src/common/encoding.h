// Byte/text encodings shared by every layer. Byte strings are std::string (as in LevelDB and protobuf).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger {

std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);            // RFC 4648 §4, padded
std::string Base64UrlEncode(std::string_view bytes);         // RFC 4648 §5, unpadded (JWT)
Result<std::string> Base64Decode(std::string_view text);     // padded or not
Result<std::string> Base64UrlDecode(std::string_view text);  // padded or not

// Big-endian fixed-width integers, for on-disk framing.
void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);

// Little-endian fixed-width integers written in place (the content store's pack records and indexes).
void EncodeFixed32LE(char* p, uint32_t v);
void EncodeFixed64LE(char* p, uint64_t v);
uint32_t DecodeFixed32LE(const char* p);
uint64_t DecodeFixed64LE(const char* p);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view text);

// The pieces of `text` between `separator`s, empty ones included ("a,,b" -> a, "", b; "" -> one empty piece).
// The views point into `text`.
std::vector<std::string_view> SplitOn(std::string_view text, char separator);

}  // namespace medledger
