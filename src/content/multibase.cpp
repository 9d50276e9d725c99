#include "content/multibase.h"

#include <array>
#include <cstdint>
#include <vector>

#include "common/encoding.h"

namespace medledger::content {
namespace {

constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

Error Invalid(std::string message) {
  return MakeError(ErrorKind::kInvalidArgument, "multibase_invalid", std::move(message));
}

}  // namespace

std::string Base32LowerEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Lower[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Lower[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  bool has_lower = false, has_upper = false;
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'a' && c <= 'z') {
      v = c - 'a';
      has_lower = true;
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
      has_upper = true;
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return Invalid("invalid base32 character");
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  if (has_lower && has_upper) return Invalid("base32 mixes upper and lower case");
  // Leftover bits must be padding zeros and fewer than a full character, or the text was not canonical.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return Invalid("base32 has non-zero trailing bits");
  return out;
}

std::string Base58BtcEncode(std::string_view bytes) {
  size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  // Base-58 digits, little-endian; log(256)/log(58) < 1.37.
  std::vector<uint8_t> digits;
  digits.reserve(bytes.size() * 137 / 100 + 1);
  for (size_t i = zeros; i < bytes.size(); ++i) {
    uint32_t carry = static_cast<unsigned char>(bytes[i]);
    for (auto& d : digits) {
      carry += static_cast<uint32_t>(d) << 8;
      d = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58[*it]);
  return out;
}

Result<std::string> Base58BtcDecode(std::string_view text) {
  static const std::array<int8_t, 128> kIndex = [] {
    std::array<int8_t, 128> t{};
    t.fill(-1);
    for (size_t i = 0; i < kBase58.size(); ++i) t[static_cast<size_t>(kBase58[i])] = static_cast<int8_t>(i);
    return t;
  }();
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<uint8_t> bytes;  // little-endian base-256
  bytes.reserve(text.size() * 733 / 1000 + 1);
  for (size_t i = ones; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 128 || kIndex[c] < 0) return Invalid("invalid base58 character");
    uint32_t carry = static_cast<uint32_t>(kIndex[c]);
    for (auto& b : bytes) {
      carry += static_cast<uint32_t>(b) * 58;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  std::string out(ones, '\0');
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) out.push_back(static_cast<char>(*it));
  return out;
}

Result<std::string> MultibaseDecode(std::string_view text) {
  if (text.empty()) return Invalid("empty multibase string");
  std::string_view payload = text.substr(1);
  switch (text[0]) {
    case 'b': {
      for (char c : payload) {
        if (c >= 'A' && c <= 'Z') return Invalid("base32 lower text has upper-case characters");
      }
      return Base32Decode(payload);
    }
    case 'B': {
      for (char c : payload) {
        if (c >= 'a' && c <= 'z') return Invalid("base32 upper text has lower-case characters");
      }
      return Base32Decode(payload);
    }
    case 'z': return Base58BtcDecode(payload);
    case 'f': {
      for (char c : payload) {
        if (c >= 'A' && c <= 'F') return Invalid("base16 lower text has upper-case characters");
      }
      auto r = HexDecode(payload);
      if (!r.ok()) return Invalid("invalid base16");
      return r;
    }
    default:
      return MakeError(ErrorKind::kInvalidArgument, "multibase_unsupported",
                       "unsupported multibase prefix (supported: b, B, z, f)");
  }
}

}  // namespace medledger::content
