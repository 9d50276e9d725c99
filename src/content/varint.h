// Unsigned LEB128 varints as used by multiformats (CIDs, multihash) and protobuf.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

void PutVarint(std::string* out, uint64_t v);
size_t VarintLength(uint64_t v);

// Reads one varint from the front of `*in` and advances it. Rejects truncation and values above 2^64-1
// ("varint_truncated", "varint_overflow"). With `minimal`, also rejects non-minimal encodings as the
// multiformats spec requires ("varint_not_minimal"); protobuf accepts them.
Result<uint64_t> ReadVarint(std::string_view* in, bool minimal = true);

}  // namespace medledger::content
