#include "reportlog/wire.h"

namespace medledger::reportlog::wire {
namespace {

bool ReadVarint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Calls visit(field, wire_type, varint, bytes) for every field; false on malformed data or when visit says so.
template <class Visit>
bool Walk(std::string_view msg, Visit visit) {
  while (!msg.empty()) {
    uint64_t key = 0;
    if (!ReadVarint(msg, &key)) return false;
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 0) return false;
    uint64_t varint = 0;
    std::string_view bytes;
    switch (type) {
      case 0:
        if (!ReadVarint(msg, &varint)) return false;
        break;
      case 1:
        if (msg.size() < 8) return false;
        msg.remove_prefix(8);
        break;
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(msg, &len) || len > msg.size()) return false;
        bytes = msg.substr(0, len);
        msg.remove_prefix(len);
        break;
      }
      case 5:
        if (msg.size() < 4) return false;
        msg.remove_prefix(4);
        break;
      default: return false;  // groups (3, 4) do not occur in Fabric's messages
    }
    if (!visit(field, type, varint, bytes)) return false;
  }
  return true;
}

}  // namespace

bool Bytes(std::string_view msg, uint32_t field, std::string_view* out) {
  *out = {};
  return Walk(msg, [&](uint32_t f, uint32_t type, uint64_t, std::string_view bytes) {
    if (f != field) return true;
    *out = bytes;
    return type == 2;
  });
}

bool Message(std::string_view msg, uint32_t field, std::string_view* out, std::string* storage) {
  *out = {};
  storage->clear();
  int seen = 0;
  bool ok = Walk(msg, [&](uint32_t f, uint32_t type, uint64_t, std::string_view bytes) {
    if (f != field) return true;
    if (type != 2) return false;
    if (++seen == 1) {
      *out = bytes;
    } else {
      if (seen == 2) storage->assign(out->data(), out->size());
      storage->append(bytes.data(), bytes.size());
      *out = *storage;
    }
    return true;
  });
  return ok;
}

bool Varint(std::string_view msg, uint32_t field, uint64_t* out) {
  *out = 0;
  return Walk(msg, [&](uint32_t f, uint32_t type, uint64_t v, std::string_view) {
    if (f != field) return true;
    *out = v;
    return type == 0;
  });
}

bool Repeated(std::string_view msg, uint32_t field, std::vector<std::string_view>* out) {
  out->clear();
  return Walk(msg, [&](uint32_t f, uint32_t type, uint64_t, std::string_view bytes) {
    if (f != field) return true;
    out->push_back(bytes);
    return type == 2;
  });
}

}  // namespace medledger::reportlog::wire
