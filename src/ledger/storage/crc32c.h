// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum framing every block record.
// Uses the SSE4.2 crc32 instruction when the CPU has it and slicing-by-8 tables otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace medledger::ledger::storage::crc32c {

// Continues `crc` (the value returned for the preceding bytes; 0 to start) over `data`.
uint32_t Extend(uint32_t crc, const char* data, size_t n);
inline uint32_t Value(std::string_view data) {
  return Extend(0, data.data(), data.size());
}

// The two implementations, exposed so tests can check they agree.
uint32_t ExtendPortable(uint32_t crc, const char* data, size_t n);
bool HardwareAvailable();
uint32_t ExtendHardware(uint32_t crc, const char* data, size_t n);  // only when HardwareAvailable()

}  // namespace medledger::ledger::storage::crc32c
