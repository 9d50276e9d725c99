#include "identity/signing_identity.h"

#include <cstdint>
#include <optional>

#include "common/encoding.h"

namespace medledger::identity {
namespace {

constexpr size_t kMaxIdentityBytes = 64 * 1024;  // a PEM certificate chain is a few KiB

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutLengthDelimited(std::string* out, uint32_t field, std::string_view value) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, value.size());
  out->append(value);
}

Error Bad(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "bad_identity", "SerializedIdentity: " + std::move(message));
}

// Reads a varint of at most 10 bytes; the 10th may only carry the top bit of a uint64.
bool ReadVarint(std::string_view in, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= in.size()) return false;
    auto b = static_cast<uint8_t>(in[(*pos)++]);
    if (i == 9 && b > 1) return false;
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string SerializeIdentity(std::string_view msp_id, std::string_view cert_pem) {
  std::string out;
  out.reserve(msp_id.size() + cert_pem.size() + 8);
  PutLengthDelimited(&out, 1, msp_id);
  PutLengthDelimited(&out, 2, cert_pem);
  return out;
}

Result<std::pair<std::string, std::string>> ParseSerializedIdentity(std::string_view bytes) {
  if (bytes.empty()) return Bad("empty");
  if (bytes.size() > kMaxIdentityBytes) return Bad("larger than 64 KiB");
  std::optional<std::string_view> msp_id;
  std::optional<std::string_view> id_bytes;
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t key = 0;
    if (!ReadVarint(bytes, &pos, &key)) return Bad("truncated or overlong field key");
    const uint64_t field = key >> 3;
    const auto wire = static_cast<int>(key & 7);
    if (field == 0 || field > 0x1fffffff) return Bad("invalid field number");
    std::string_view payload;
    switch (wire) {
      case 0: {
        uint64_t ignored = 0;
        if (!ReadVarint(bytes, &pos, &ignored)) return Bad("truncated varint");
        break;
      }
      case 1:
      case 5: {
        size_t width = wire == 1 ? 8 : 4;
        if (bytes.size() - pos < width) return Bad("truncated fixed-width field");
        pos += width;
        break;
      }
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(bytes, &pos, &len)) return Bad("truncated length");
        if (len > bytes.size() - pos) return Bad("length exceeds the message");
        payload = bytes.substr(pos, static_cast<size_t>(len));
        pos += static_cast<size_t>(len);
        break;
      }
      default: return Bad("unsupported wire type " + std::to_string(wire));
    }
    if (field == 1 || field == 2) {
      if (wire != 2) return Bad("field " + std::to_string(field) + " must be length-delimited");
      auto& slot = field == 1 ? msp_id : id_bytes;
      // Protobuf would keep the last copy; two creators in one message is a forgery attempt, not data.
      if (slot.has_value()) return Bad("field " + std::to_string(field) + " repeated");
      slot = payload;
    }
  }
  if (!msp_id || msp_id->empty()) return Bad("missing mspid");
  if (!IsValidUtf8(*msp_id)) return Bad("mspid is not UTF-8");
  if (!id_bytes || id_bytes->empty()) return Bad("missing id_bytes");
  return std::make_pair(std::string(*msp_id), std::string(*id_bytes));
}

SigningIdentity::SigningIdentity(std::string msp_id, crypto::Certificate cert, crypto::EcPrivateKey key)
    : msp_id_(std::move(msp_id)),
      cert_(std::move(cert)),
      key_(std::move(key)),
      cert_pem_(cert_.ToPem()),
      serialized_(SerializeIdentity(msp_id_, cert_pem_)) {}

Result<SigningIdentity> SigningIdentity::Create(std::string msp_id, crypto::Certificate cert,
                                                crypto::EcPrivateKey key) {
  if (msp_id.empty()) return MakeError(ErrorKind::kInvalidArgument, "bad_identity", "empty MSP ID");
  if (!(cert.PublicKey() == key.PublicKey())) {
    return MakeError(ErrorKind::kInvalidArgument, "identity_key_mismatch",
                     "private key does not match the certificate of '" + cert.SubjectCommonName() + "'");
  }
  return SigningIdentity(std::move(msp_id), std::move(cert), std::move(key));
}

Result<std::string> SigningIdentity::Sign(std::string_view message) const {
  return key_.Sign(message);
}

}  // namespace medledger::identity
