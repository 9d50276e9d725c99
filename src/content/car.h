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

// The trustless-gateway response for a UnixFS file (`GET /ipfs/{cid}?format=car`): a CARv1 whose one root is
// `root` and whose blocks are the file's DAG, parents before children, each once. The DAG is rebuilt from the
// file's bytes with `ipfs add`'s defaults for the root's CID version; "content_cid_mismatch" when it does not come
// out as `root` (bytes imported with other options cannot be served this way).
Result<std::string> FileAsCar(std::string_view file_bytes, const Cid& root);
// The file `root` names, from a CAR fetched from anyone: every block is verified against its CID, `root` must be
// the CAR's root, and blocks the DAG does not reach are ignored. Codes: DecodeCar's, "car_wrong_root",
// "block_not_found" (the CAR lacks a block), ReadUnixFsFile's.
Result<std::string> FileFromCar(std::string_view car, const Cid& root);

}  // namespace medledger::content
