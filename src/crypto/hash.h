// SHA-256 and HMAC-SHA-256 (OpenSSL 3).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace medledger::crypto {

inline constexpr size_t kSha256Size = 32;

std::string Sha256(std::string_view data);  // 32 raw bytes

// Incremental SHA-256 for streamed content (chunked files, block data hashes).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // 32 raw bytes; the hasher is reset afterwards

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes

// Constant-time comparison for MACs, tags and tokens.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace medledger::crypto
