// dag-pb (the PBNode/PBLink protobuf of IPFS) and UnixFS Data, hand-encoded byte for byte as go-ipfs and
// js-ipfs do: Links (field 2) are written before Data (field 1); every link carries Hash, Name (even when
// empty) and Tsize. Decoders are strict: unknown fields, wrong wire types and truncation are errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "content/cid.h"

namespace medledger::content {

struct PbLink {
  Cid hash;
  std::string name;
  uint64_t tsize = 0;  // the whole linked sub-DAG's encoded size
};

struct PbNode {
  std::vector<PbLink> links;
  std::optional<std::string> data;
};

std::string EncodePbNode(const PbNode& node);
// Codes: "dagpb_invalid" plus cid_* for link hashes.
Result<PbNode> DecodePbNode(std::string_view bytes);

enum class UnixFsType : uint64_t { kRaw = 0, kDirectory = 1, kFile = 2, kMetadata = 3, kSymlink = 4, kHamtShard = 5 };

struct UnixFsData {
  UnixFsType type = UnixFsType::kFile;
  std::optional<std::string> data;
  std::optional<uint64_t> filesize;
  std::vector<uint64_t> blocksizes;
};

std::string EncodeUnixFs(const UnixFsData& d);
// Codes: "unixfs_invalid". Skips the optional hashType/fanout/mode/mtime fields.
Result<UnixFsData> DecodeUnixFs(std::string_view bytes);

}  // namespace medledger::content
