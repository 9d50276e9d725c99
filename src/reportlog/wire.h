// Reading protobuf wire data in place, for the few fields the report log needs from every transaction of the
// chain. Each call walks the whole message (so truncated or ill-formed data fails as protobuf's parser would at
// that level) and follows protobuf's rules: the last occurrence of a scalar or bytes field wins, and repeated
// occurrences of an embedded message merge, which equals parsing their concatenation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medledger::reportlog::wire {

// A length-delimited field (bytes, string): empty when absent. False if `msg` is malformed or the field has
// another wire type.
bool Bytes(std::string_view msg, uint32_t field, std::string_view* out);
// An embedded message field, merged over its occurrences (`storage` holds the concatenation when there are
// several, and must outlive *out).
bool Message(std::string_view msg, uint32_t field, std::string_view* out, std::string* storage);
// A varint field: 0 when absent.
bool Varint(std::string_view msg, uint32_t field, uint64_t* out);
// Every occurrence of a repeated length-delimited field, in order.
bool Repeated(std::string_view msg, uint32_t field, std::vector<std::string_view>* out);

}  // namespace medledger::reportlog::wire
