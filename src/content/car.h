// CAR v1 (Content Addressable aRchive): the format `ipfs dag export` writes and `ipfs dag import` reads.
// File = varint(len) || dag-cbor {"roots": [CID...], "version": 1} || sections, each
// varint(len(cid) + len(block)) || cid bytes || block. Only the header subset of dag-cbor is handled.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "content/cid.h"

namespace medledger::content {

struct CarBlock {
  Cid cid;
  std::string data;
};

struct CarFile {
  std::vector<Cid> roots;
  std::vector<CarBlock> blocks;
};

std::string EncodeCarHeader(const std::vector<Cid>& roots);
void AppendCarSection(std::string* out, const Cid& cid, std::string_view block);

// Parses and verifies a CAR v1: every block must hash to its CID. Codes: "car_invalid",
// "car_unsupported_version", "content_corrupted", cid_*.
Result<CarFile> DecodeCar(std::string_view bytes);

}  // namespace medledger::content
