// A file as a trustless-gateway CAR and back: what one hospital serves and another verifies (docs/CONSORTIUM.md).
#include <gtest/gtest.h>

#include "content/car.h"
#include "content/importer.h"
#include "crypto/random.h"

namespace medledger::content {
namespace {

TEST(CarFile, RoundTripsMultiChunkFilesForBothCidVersions) {
  const std::string bytes = crypto::RandomBytes(3 * kDefaultChunkSize + 1234);
  for (int version : {0, 1}) {
    Cid root = ComputeCid(bytes, ImportOptions::Ipfs(version)).value();
    auto car = FileAsCar(bytes, root);
    ASSERT_TRUE(car.ok()) << car.error().ToString();
    auto decoded = DecodeCar(*car);
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(decoded->roots.size(), 1u);
    EXPECT_EQ(decoded->roots[0].ToString(), root.ToString());
    EXPECT_EQ(decoded->blocks.front().cid.ToString(), root.ToString());  // parents first: the root leads
    EXPECT_EQ(decoded->blocks.size(), 5u);                               // four leaves and the root
    auto back = FileFromCar(*car, root);
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    EXPECT_EQ(*back, bytes);
  }
}

TEST(CarFile, RefusesAnotherRootATamperedBlockAndAMissingBlock) {
  const std::string bytes = crypto::RandomBytes(2 * kDefaultChunkSize);
  Cid root = ComputeCid(bytes, ImportOptions::Ipfs(1)).value();
  std::string car = FileAsCar(bytes, root).value();

  Cid other = ComputeCid("something else", ImportOptions::Ipfs(1)).value();
  EXPECT_EQ(FileFromCar(car, other).error().code, "car_wrong_root");
  EXPECT_EQ(FileAsCar(bytes, other).error().code, "content_cid_mismatch");

  std::string flipped = car;
  flipped[flipped.size() - 10] ^= 0x01;
  EXPECT_EQ(FileFromCar(flipped, root).error().code, "content_corrupted");

  // Only the root's section: the leaves are missing.
  auto decoded = DecodeCar(car).value();
  std::string partial = EncodeCarHeader({root});
  AppendCarSection(&partial, decoded.blocks[0].cid, decoded.blocks[0].data);
  EXPECT_EQ(FileFromCar(partial, root).error().code, "block_not_found");
}

}  // namespace
}  // namespace medledger::content
