// The sidecar index written next to a sealed block file ("blockfile_000000.idx"): the offsets of its
// records, so that opening a long chain does not have to read every record header. Only an
// optimization: a missing, stale or damaged sidecar is ignored and the file is scanned instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medledger::ledger::storage {

// [magic u32 "MLBI"][version u32 = 1][block file size u64][count u32][offset u64 x count][crc32c u32 of
// everything before], big-endian.
std::string EncodeBlockFileIndex(uint64_t file_size, const std::vector<uint64_t>& offsets);

// The record offsets, after checking the checksum, that the sidecar describes a file of exactly
// `file_size` bytes, and that the offsets start at 0, grow, and leave room for a non-empty record each.
Result<std::vector<uint64_t>> DecodeBlockFileIndex(std::string_view bytes, uint64_t file_size);

}  // namespace medledger::ledger::storage
