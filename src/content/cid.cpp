#include "content/cid.h"

#include "content/multibase.h"
#include "content/varint.h"
#include "crypto/hash.h"

namespace medledger::content {
namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "cid_invalid", std::move(message));
}

// Parses a multihash that must fill `bytes` exactly.
Result<std::string> ParseMultihash(std::string_view bytes) {
  ML_ASSIGN_OR_RETURN(uint64_t code, ReadVarint(&bytes));
  ML_ASSIGN_OR_RETURN(uint64_t length, ReadVarint(&bytes));
  if (code != kMultihashSha256) {
    return MakeError(ErrorKind::kInvalidArgument, "cid_unsupported_hash", "only sha2-256 multihashes are supported");
  }
  if (length != crypto::kSha256Size) return Invalid("sha2-256 multihash must have a 32-byte digest");
  if (bytes.size() != length) return Invalid("multihash length does not match its digest");
  return std::string(bytes);
}

}  // namespace

Cid Cid::FromDigest(int version, uint64_t codec, std::string digest) {
  Cid c;
  c.version_ = version;
  c.codec_ = codec;
  c.digest_ = std::move(digest);
  return c;
}

Cid Cid::Of(int version, uint64_t codec, std::string_view block) {
  return FromDigest(version, codec, crypto::Sha256(block));
}

Result<Cid> Cid::FromBytes(std::string_view bytes) {
  // A CIDv0 is a bare sha2-256 multihash: 34 bytes starting 0x12 0x20.
  if (bytes.size() == 34 && static_cast<uint8_t>(bytes[0]) == 0x12 && static_cast<uint8_t>(bytes[1]) == 0x20) {
    ML_ASSIGN_OR_RETURN(auto digest, ParseMultihash(bytes));
    return FromDigest(0, kCodecDagPb, std::move(digest));
  }
  ML_ASSIGN_OR_RETURN(uint64_t version, ReadVarint(&bytes));
  if (version != 1) return Invalid("unsupported CID version");
  ML_ASSIGN_OR_RETURN(uint64_t codec, ReadVarint(&bytes));
  if (codec != kCodecRaw && codec != kCodecDagPb) {
    return MakeError(ErrorKind::kInvalidArgument, "cid_unsupported_codec", "only raw and dag-pb codecs are supported");
  }
  ML_ASSIGN_OR_RETURN(auto digest, ParseMultihash(bytes));
  return FromDigest(1, codec, std::move(digest));
}

Result<Cid> Cid::Parse(std::string_view text) {
  if (text.empty()) return Invalid("empty CID");
  if (text.size() > 256) return Invalid("CID text is too long");
  if (text.size() == 46 && text.substr(0, 2) == "Qm") {
    ML_ASSIGN_OR_RETURN(auto bytes, Base58BtcDecode(text));
    if (bytes.size() != 34 || static_cast<uint8_t>(bytes[0]) != 0x12) return Invalid("malformed CIDv0");
    return FromBytes(bytes);
  }
  ML_ASSIGN_OR_RETURN(auto bytes, MultibaseDecode(text));
  if (bytes.empty() || bytes[0] != 1) return Invalid("not a CIDv1 (CIDv0 must be bare base58btc \"Qm...\")");
  return FromBytes(bytes);
}

std::string Cid::Multihash() const {
  std::string out;
  out.reserve(2 + digest_.size());
  PutVarint(&out, kMultihashSha256);
  PutVarint(&out, digest_.size());
  out += digest_;
  return out;
}

std::string Cid::Bytes() const {
  if (version_ == 0) return Multihash();
  std::string out;
  PutVarint(&out, 1);
  PutVarint(&out, codec_);
  out += Multihash();
  return out;
}

std::string Cid::ToString() const {
  if (version_ == 0) return Base58BtcEncode(Multihash());
  // Appending (not "b" + ...) sidesteps a GCC 12 -Wrestrict false positive at -O3.
  std::string out(1, 'b');
  out += Base32LowerEncode(Bytes());
  return out;
}

bool Cid::Matches(std::string_view block) const {
  return crypto::ConstantTimeEquals(crypto::Sha256(block), digest_);
}

}  // namespace medledger::content
