// Deterministic block contents and raw file edits shared by the block store tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace medledger::ledger::storage::testing {

// Different for every (number, size), so a block read back under the wrong number is caught.
inline std::string BlockBytes(uint64_t number, size_t size) {
  std::string s(size, '\0');
  uint64_t x = number * 0x9E3779B97F4A7C15ull + size;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void FlipByte(const std::string& path, uint64_t offset) {
  std::string bytes = ReadFile(path);
  bytes.at(offset) ^= 0x5A;
  WriteFile(path, bytes);
}

}  // namespace medledger::ledger::storage::testing
