#include "content/varint.h"

namespace medledger::content {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

Result<uint64_t> ReadVarint(std::string_view* in, bool minimal) {
  uint64_t value = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i >= in->size()) return MakeError(ErrorKind::kInvalidArgument, "varint_truncated", "varint is truncated");
    auto byte = static_cast<uint8_t>((*in)[i]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return MakeError(ErrorKind::kInvalidArgument, "varint_overflow", "varint exceeds 64 bits");
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (minimal && i > 0 && byte == 0) {
        return MakeError(ErrorKind::kInvalidArgument, "varint_not_minimal", "varint is not minimally encoded");
      }
      in->remove_prefix(i + 1);
      return value;
    }
  }
  return MakeError(ErrorKind::kInvalidArgument, "varint_overflow", "varint exceeds 64 bits");
}

}  // namespace medledger::content
