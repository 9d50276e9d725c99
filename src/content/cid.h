// Content identifiers as IPFS computes them: CIDv0 (base58btc sha2-256 multihash, dag-pb) and CIDv1
// (<version><codec><multihash>, text in multibase; base32 lower by default). Only sha2-256 multihashes are
// accepted: it is the only hash `ipfs add` uses by default and the only one this system can verify.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

inline constexpr uint64_t kCodecRaw = 0x55;
inline constexpr uint64_t kCodecDagPb = 0x70;
inline constexpr uint64_t kMultihashSha256 = 0x12;

class Cid {
 public:
  Cid() = default;
  // The CID of `block` (hashed with SHA-256). CIDv0 requires codec dag-pb.
  static Cid Of(int version, uint64_t codec, std::string_view block);
  static Cid FromDigest(int version, uint64_t codec, std::string digest);

  // Text form: CIDv0 "Qm..." or any supported multibase CIDv1 ("b...", "B...", "z...", "f...").
  // Codes: "cid_invalid", "cid_unsupported_codec", "cid_unsupported_hash", multibase_*, varint_*.
  static Result<Cid> Parse(std::string_view text);
  // Binary form as found inside dag-pb links: CIDv0 = bare multihash; CIDv1 = version||codec||multihash.
  static Result<Cid> FromBytes(std::string_view bytes);

  int version() const { return version_; }
  uint64_t codec() const { return codec_; }
  const std::string& digest() const { return digest_; }  // 32 raw bytes

  std::string Multihash() const;  // 0x12 0x20 || digest
  std::string Bytes() const;
  std::string ToString() const;  // CIDv0: base58btc; CIDv1: base32 lower with "b"
  Cid ToV1() const { return FromDigest(1, codec_, digest_); }
  // True when `block` hashes to this CID's digest.
  bool Matches(std::string_view block) const;

  friend bool operator==(const Cid& a, const Cid& b) = default;

 private:
  int version_ = 1;
  uint64_t codec_ = kCodecRaw;
  std::string digest_;
};

}  // namespace medledger::content
