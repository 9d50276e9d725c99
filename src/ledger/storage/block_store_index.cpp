#include "ledger/storage/block_store_index.h"

#include "common/encoding.h"
#include "ledger/storage/block_store.h"
#include "ledger/storage/crc32c.h"

namespace medledger::ledger::storage {
namespace {

constexpr uint32_t kIndexMagic = 0x4D4C4249u;  // "MLBI"
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kFixedBytes = 4 + 4 + 8 + 4 + 4;

Error Stale(const std::string& why) {
  return MakeError(ErrorKind::kCorruption, "block_index_invalid", why);
}

}  // namespace

std::string EncodeBlockFileIndex(uint64_t file_size, const std::vector<uint64_t>& offsets) {
  std::string out;
  out.reserve(kFixedBytes + 8 * offsets.size());
  PutFixed32(&out, kIndexMagic);
  PutFixed32(&out, kIndexVersion);
  PutFixed64(&out, file_size);
  PutFixed32(&out, static_cast<uint32_t>(offsets.size()));
  for (uint64_t offset : offsets) PutFixed64(&out, offset);
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

Result<std::vector<uint64_t>> DecodeBlockFileIndex(std::string_view bytes, uint64_t file_size) {
  if (bytes.size() < kFixedBytes) return Stale("block index is too short");
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::Value(body) != DecodeFixed32(bytes.data() + body.size())) return Stale("block index checksum mismatch");
  if (DecodeFixed32(bytes.data()) != kIndexMagic || DecodeFixed32(bytes.data() + 4) != kIndexVersion) {
    return Stale("not a version 1 block index");
  }
  if (DecodeFixed64(bytes.data() + 8) != file_size) return Stale("block index describes a file of another size");
  const uint64_t count = DecodeFixed32(bytes.data() + 16);
  if (bytes.size() != kFixedBytes + 8 * count) return Stale("block index length does not match its count");
  std::vector<uint64_t> offsets;
  offsets.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t offset = DecodeFixed64(bytes.data() + 20 + 8 * i);
    const uint64_t min_offset = offsets.empty() ? 0 : offsets.back() + kBlockRecordHeaderSize + 1;
    if ((offsets.empty() && offset != 0) || offset < min_offset || offset > file_size ||
        file_size - offset < kBlockRecordHeaderSize + 1) {
      return Stale("block index offsets are out of order or out of range");
    }
    offsets.push_back(offset);
  }
  if (count == 0 && file_size != 0) return Stale("empty block index for a non-empty file");
  return offsets;
}

}  // namespace medledger::ledger::storage
