#include "content/dag_pb.h"

#include "content/varint.h"

namespace medledger::content {
namespace {

enum WireType : uint64_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void PutTag(std::string* out, uint64_t field, WireType type) {
  PutVarint(out, (field << 3) | type);
}

void PutBytesField(std::string* out, uint64_t field, std::string_view bytes) {
  PutTag(out, field, kLengthDelimited);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

void PutVarintField(std::string* out, uint64_t field, uint64_t v) {
  PutTag(out, field, kVarint);
  PutVarint(out, v);
}

struct Field {
  uint64_t number;
  WireType type;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Reads one field from `*in`; `code` names the error domain.
Result<Field> ReadField(std::string_view* in, const char* code) {
  auto bad = [code](const char* what) { return MakeError(ErrorKind::kInvalidArgument, code, what); };
  auto tag = ReadVarint(in, false);
  if (!tag.ok()) return bad("truncated or oversized field tag");
  Field f;
  f.number = *tag >> 3;
  uint64_t type = *tag & 7;
  if (f.number == 0 || f.number > 0x1fffffff) return bad("invalid field number");
  switch (type) {
    case kVarint: {
      auto v = ReadVarint(in, false);
      if (!v.ok()) return bad("truncated varint field");
      f.varint = *v;
      break;
    }
    case kLengthDelimited: {
      auto len = ReadVarint(in, false);
      if (!len.ok()) return bad("truncated length");
      if (*len > in->size()) return bad("length-delimited field runs past the end");
      f.bytes = in->substr(0, *len);
      in->remove_prefix(*len);
      break;
    }
    case kFixed64:
    case kFixed32: {
      size_t n = type == kFixed64 ? 8 : 4;
      if (in->size() < n) return bad("truncated fixed-width field");
      f.bytes = in->substr(0, n);
      in->remove_prefix(n);
      break;
    }
    default: return bad("unsupported wire type");
  }
  f.type = static_cast<WireType>(type);
  return f;
}

Error Bad(const char* code, const char* what) {
  return MakeError(ErrorKind::kInvalidArgument, code, what);
}

Result<PbLink> DecodeLink(std::string_view bytes) {
  PbLink link;
  bool has_hash = false;
  uint64_t last = 0;
  while (!bytes.empty()) {
    ML_ASSIGN_OR_RETURN(auto f, ReadField(&bytes, "dagpb_invalid"));
    if (f.number <= last) return Bad("dagpb_invalid", "PBLink fields out of order or repeated");
    last = f.number;
    if (f.number == 1 && f.type == kLengthDelimited) {
      ML_ASSIGN_OR_RETURN(link.hash, Cid::FromBytes(f.bytes));
      has_hash = true;
    } else if (f.number == 2 && f.type == kLengthDelimited) {
      link.name = std::string(f.bytes);
    } else if (f.number == 3 && f.type == kVarint) {
      link.tsize = f.varint;
    } else {
      return Bad("dagpb_invalid", "unknown field or wrong wire type in PBLink");
    }
  }
  if (!has_hash) return Bad("dagpb_invalid", "PBLink without Hash");
  return link;
}

}  // namespace

std::string EncodePbNode(const PbNode& node) {
  std::string out;
  std::string link_bytes;
  for (const auto& link : node.links) {
    link_bytes.clear();
    PutBytesField(&link_bytes, 1, link.hash.Bytes());
    PutBytesField(&link_bytes, 2, link.name);
    PutVarintField(&link_bytes, 3, link.tsize);
    PutBytesField(&out, 2, link_bytes);
  }
  if (node.data) PutBytesField(&out, 1, *node.data);
  return out;
}

Result<PbNode> DecodePbNode(std::string_view bytes) {
  PbNode node;
  bool seen_data = false;
  while (!bytes.empty()) {
    ML_ASSIGN_OR_RETURN(auto f, ReadField(&bytes, "dagpb_invalid"));
    if (f.type != kLengthDelimited) return Bad("dagpb_invalid", "PBNode field with wrong wire type");
    if (f.number == 2) {
      // The canonical form puts every link before Data.
      if (seen_data) return Bad("dagpb_invalid", "PBNode link after Data");
      ML_ASSIGN_OR_RETURN(auto link, DecodeLink(f.bytes));
      node.links.push_back(std::move(link));
    } else if (f.number == 1) {
      if (seen_data) return Bad("dagpb_invalid", "PBNode has two Data fields");
      seen_data = true;
      node.data = std::string(f.bytes);
    } else {
      return Bad("dagpb_invalid", "unknown field in PBNode");
    }
  }
  return node;
}

std::string EncodeUnixFs(const UnixFsData& d) {
  std::string out;
  PutVarintField(&out, 1, static_cast<uint64_t>(d.type));
  if (d.data) PutBytesField(&out, 2, *d.data);
  if (d.filesize) PutVarintField(&out, 3, *d.filesize);
  for (uint64_t b : d.blocksizes) PutVarintField(&out, 4, b);
  return out;
}

Result<UnixFsData> DecodeUnixFs(std::string_view bytes) {
  UnixFsData d;
  bool has_type = false;
  while (!bytes.empty()) {
    ML_ASSIGN_OR_RETURN(auto f, ReadField(&bytes, "unixfs_invalid"));
    switch (f.number) {
      case 1:
        if (f.type != kVarint || f.varint > 5) return Bad("unixfs_invalid", "invalid UnixFS Type");
        d.type = static_cast<UnixFsType>(f.varint);
        has_type = true;
        break;
      case 2:
        if (f.type != kLengthDelimited) return Bad("unixfs_invalid", "UnixFS Data must be bytes");
        d.data = std::string(f.bytes);
        break;
      case 3:
        if (f.type != kVarint) return Bad("unixfs_invalid", "UnixFS filesize must be a varint");
        d.filesize = f.varint;
        break;
      case 4:
        if (f.type == kVarint) {
          d.blocksizes.push_back(f.varint);
        } else if (f.type == kLengthDelimited) {  // packed encoding, accepted on input
          std::string_view packed = f.bytes;
          while (!packed.empty()) {
            auto v = ReadVarint(&packed, false);
            if (!v.ok()) return Bad("unixfs_invalid", "truncated packed blocksizes");
            d.blocksizes.push_back(*v);
          }
        } else {
          return Bad("unixfs_invalid", "UnixFS blocksizes must be varints");
        }
        break;
      case 5:
      case 6:
      case 7:
      case 8: break;  // hashType, fanout, mode, mtime: irrelevant to file content
      default: return Bad("unixfs_invalid", "unknown UnixFS field");
    }
  }
  if (!has_type) return Bad("unixfs_invalid", "UnixFS Data without Type");
  return d;
}

}  // namespace medledger::content
