#include "ledger/storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace medledger::ledger::storage::crc32c {
namespace {

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// RFC 3720 (iSCSI) appendix B.4 vectors, and the "check" value of the CRC-32C catalogue entry.
TEST(Crc32c, StandardVectors) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Value(ascending), 0x46DD794Eu);
  EXPECT_EQ(Value(descending), 0x113FDB5Cu);
  const std::string iscsi_read =
      Bytes({0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
             0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
             0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(Value(iscsi_read), 0xD9963A56u);
  EXPECT_EQ(Value(""), 0u);
}

TEST(Crc32c, PortableMatchesVectors) {
  EXPECT_EQ(ExtendPortable(0, "123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(ExtendPortable(0, zeros.data(), zeros.size()), 0x8A9136AAu);
}

// Extend over any split equals the value of the whole, and both implementations agree at every length
// and alignment (the hardware path has separate head/body/tail loops).
TEST(Crc32c, ExtendAndImplementationsAgreeProperty) {
  std::mt19937 rng(7);
  std::string buf(4096 + 16, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  for (int i = 0; i < 2000; ++i) {
    const size_t offset = rng() % 16;
    const size_t n = rng() % 4096;
    const char* p = buf.data() + offset;
    const uint32_t whole = ExtendPortable(0, p, n);
    const size_t split = n == 0 ? 0 : rng() % n;
    ASSERT_EQ(Extend(Extend(0, p, split), p + split, n - split), whole) << "n=" << n << " split=" << split;
    if (HardwareAvailable()) {
      ASSERT_EQ(ExtendHardware(0, p, n), whole) << "n=" << n << " offset=" << offset;
    }
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  std::string data = "medledger block payload";
  const uint32_t good = Value(data);
  for (size_t i = 0; i < data.size() * 8; ++i) {
    data[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_NE(Value(data), good) << "bit " << i;
    data[i / 8] ^= static_cast<char>(1 << (i % 8));
  }
}

}  // namespace
}  // namespace medledger::ledger::storage::crc32c
