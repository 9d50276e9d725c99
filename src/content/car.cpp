#include "content/car.h"

#include <map>

#include "content/dag_reader.h"
#include "content/importer.h"
#include "content/varint.h"

namespace medledger::content {
namespace {

Error Invalid(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "car_invalid", what);
}

// dag-cbor major types.
constexpr uint8_t kMajorUint = 0, kMajorBytes = 2, kMajorText = 3, kMajorArray = 4, kMajorMap = 5, kMajorTag = 6;

void PutCborHead(std::string* out, uint8_t major, uint64_t v) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (v < 24) {
    out->push_back(static_cast<char>(m | v));
  } else if (v <= 0xff) {
    out->push_back(static_cast<char>(m | 24));
    out->push_back(static_cast<char>(v));
  } else if (v <= 0xffff) {
    out->push_back(static_cast<char>(m | 25));
    for (int s = 8; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
  } else if (v <= 0xffffffffu) {
    out->push_back(static_cast<char>(m | 26));
    for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
  } else {
    out->push_back(static_cast<char>(m | 27));
    for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
  }
}

struct CborHead {
  uint8_t major;
  uint64_t value;
};

Result<CborHead> ReadCborHead(std::string_view* in) {
  if (in->empty()) return Invalid("truncated CAR header");
  auto b = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  CborHead h{static_cast<uint8_t>(b >> 5), static_cast<uint64_t>(b & 31)};
  if (h.value < 24) return h;
  if (h.value > 27) return Invalid("indefinite or reserved CBOR length in CAR header");
  size_t n = size_t{1} << (h.value - 24);
  if (in->size() < n) return Invalid("truncated CAR header");
  h.value = 0;
  for (size_t i = 0; i < n; ++i) h.value = (h.value << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(n);
  return h;
}

Result<std::string_view> ReadCborString(std::string_view* in, uint8_t major) {
  ML_ASSIGN_OR_RETURN(auto h, ReadCborHead(in));
  if (h.major != major) return Invalid("unexpected CBOR type in CAR header");
  if (h.value > in->size()) return Invalid("truncated CAR header");
  std::string_view s = in->substr(0, h.value);
  in->remove_prefix(h.value);
  return s;
}

Result<std::vector<Cid>> ParseHeader(std::string_view in) {
  ML_ASSIGN_OR_RETURN(auto map, ReadCborHead(&in));
  if (map.major != kMajorMap || map.value > 16) return Invalid("CAR header is not a small map");
  std::vector<Cid> roots;
  bool has_version = false, has_roots = false;
  for (uint64_t i = 0; i < map.value; ++i) {
    ML_ASSIGN_OR_RETURN(auto key, ReadCborString(&in, kMajorText));
    if (key == "version") {
      ML_ASSIGN_OR_RETURN(auto v, ReadCborHead(&in));
      if (v.major != kMajorUint) return Invalid("CAR version is not an integer");
      if (v.value != 1) {
        return MakeError(ErrorKind::kInvalidArgument, "car_unsupported_version", "only CAR v1 is supported");
      }
      has_version = true;
    } else if (key == "roots") {
      ML_ASSIGN_OR_RETURN(auto arr, ReadCborHead(&in));
      if (arr.major != kMajorArray || arr.value > 1024) return Invalid("CAR roots is not an array");
      for (uint64_t r = 0; r < arr.value; ++r) {
        ML_ASSIGN_OR_RETURN(auto tag, ReadCborHead(&in));
        if (tag.major != kMajorTag || tag.value != 42) return Invalid("CAR root is not a CID (tag 42)");
        ML_ASSIGN_OR_RETURN(auto bytes, ReadCborString(&in, kMajorBytes));
        if (bytes.empty() || bytes[0] != '\0') return Invalid("CID in CAR header lacks the identity multibase prefix");
        ML_ASSIGN_OR_RETURN(auto cid, Cid::FromBytes(bytes.substr(1)));
        roots.push_back(std::move(cid));
      }
      has_roots = true;
    } else {
      return Invalid("unknown key in CAR header");
    }
  }
  if (!in.empty()) return Invalid("trailing bytes in CAR header");
  if (!has_version || !has_roots) return Invalid("CAR header lacks version or roots");
  return roots;
}

}  // namespace

std::string EncodeCarHeader(const std::vector<Cid>& roots) {
  // Canonical dag-cbor orders map keys by length first: "roots" before "version".
  std::string cbor;
  PutCborHead(&cbor, kMajorMap, 2);
  PutCborHead(&cbor, kMajorText, 5);
  cbor += "roots";
  PutCborHead(&cbor, kMajorArray, roots.size());
  for (const auto& r : roots) {
    std::string bytes = r.Bytes();
    PutCborHead(&cbor, kMajorTag, 42);
    PutCborHead(&cbor, kMajorBytes, bytes.size() + 1);
    cbor.push_back('\0');
    cbor += bytes;
  }
  PutCborHead(&cbor, kMajorText, 7);
  cbor += "version";
  PutCborHead(&cbor, kMajorUint, 1);
  std::string out;
  PutVarint(&out, cbor.size());
  return out + cbor;
}

void AppendCarSection(std::string* out, const Cid& cid, std::string_view block) {
  std::string bytes = cid.Bytes();
  PutVarint(out, bytes.size() + block.size());
  out->append(bytes);
  out->append(block);
}

Result<CarFile> DecodeCar(std::string_view in) {
  auto header_len = ReadVarint(&in);
  if (!header_len.ok()) return Invalid("truncated CAR header length");
  if (*header_len == 0 || *header_len > in.size() || *header_len > (1u << 20)) return Invalid("bad CAR header length");
  CarFile car;
  ML_ASSIGN_OR_RETURN(car.roots, ParseHeader(in.substr(0, *header_len)));
  in.remove_prefix(*header_len);
  while (!in.empty()) {
    auto len = ReadVarint(&in);
    if (!len.ok()) return Invalid("truncated CAR section length");
    if (*len > in.size()) return Invalid("CAR section runs past the end");
    std::string_view section = in.substr(0, *len);
    in.remove_prefix(*len);
    // A CIDv0 is a bare 34-byte multihash; a CIDv1 starts with version and codec varints.
    size_t cid_len = 0;
    if (section.size() >= 34 && static_cast<uint8_t>(section[0]) == 0x12 && static_cast<uint8_t>(section[1]) == 0x20) {
      cid_len = 34;
    } else {
      std::string_view p = section;
      for (int i = 0; i < 3; ++i) {  // version, codec, hash code
        if (!ReadVarint(&p).ok()) return Invalid("bad CID in CAR section");
      }
      auto digest_len = ReadVarint(&p);
      if (!digest_len.ok() || *digest_len > p.size()) return Invalid("bad CID in CAR section");
      cid_len = section.size() - p.size() + *digest_len;
    }
    ML_ASSIGN_OR_RETURN(auto cid, Cid::FromBytes(section.substr(0, cid_len)));
    std::string_view data = section.substr(cid_len);
    if (!cid.Matches(data)) {
      return MakeError(ErrorKind::kCorruption, "content_corrupted",
                       "CAR block " + cid.ToString() + " does not match its hash");
    }
    car.blocks.push_back(CarBlock{std::move(cid), std::string(data)});
  }
  return car;
}

namespace {

// Blocks by CID bytes; the map must outlive the fetcher.
BlockFetcher FetchFrom(const std::map<std::string, std::string_view>& blocks) {
  return [&blocks](const Cid& cid, std::string* out) -> Status {
    auto it = blocks.find(cid.Bytes());
    if (it == blocks.end()) return MakeError(ErrorKind::kNotFound, "block_not_found", "a block of the DAG is missing");
    out->assign(it->second);
    return OkStatus();
  };
}

}  // namespace

Result<std::string> FileAsCar(std::string_view file_bytes, const Cid& root) {
  ML_ASSIGN_OR_RETURN(ImportedDag dag, ImportFile(file_bytes, ImportOptions::Ipfs(root.version())));
  if (dag.root.Bytes() != root.Bytes()) {
    return MakeError(ErrorKind::kConflict, "content_cid_mismatch",
                     "the content does not import to this CID with the default options");
  }
  std::map<std::string, std::string_view> blocks;
  for (const auto& b : dag.blocks) blocks.emplace(b.cid.Bytes(), b.data());
  BlockFetcher fetch = FetchFrom(blocks);
  std::string car = EncodeCarHeader({root});
  ML_RETURN_IF_ERROR(WalkDag(fetch, root, [&](const Cid& cid, std::string_view block) {
    AppendCarSection(&car, cid, block);
    return OkStatus();
  }));
  return car;
}

Result<std::string> FileFromCar(std::string_view car, const Cid& root) {
  ML_ASSIGN_OR_RETURN(CarFile file, DecodeCar(car));
  if (file.roots.size() != 1 || file.roots[0].Bytes() != root.Bytes()) {
    return MakeError(ErrorKind::kInvalidArgument, "car_wrong_root", "the CAR's root is not the CID asked for");
  }
  std::map<std::string, std::string_view> blocks;
  for (const auto& b : file.blocks) blocks.emplace(b.cid.Bytes(), b.data);
  return ReadUnixFsFile(FetchFrom(blocks), root);
}

}  // namespace medledger::content
