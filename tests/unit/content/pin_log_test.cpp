// The pin log over a failing disk: a failed append is cut off, so one bad write never marks the whole log
// damaged (which would stop garbage collection for good).
#include "content/pin_log.h"

#include <gtest/gtest.h>

#include "content/cid.h"
#include "io/fault_env.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

TEST(PinLog, ATornAppendIsCutOffAndTheLogStaysTrusted) {
  testing::TempDir dir("pins-torn");
  io::FaultInjectionEnv env;
  const Cid a = Cid::Of(1, kCodecRaw, "a");
  const Cid b = Cid::Of(1, kCodecRaw, "b");
  const Cid c = Cid::Of(1, kCodecRaw, "c");
  {
    auto log = PinLog::Open(dir.path(), /*sync=*/true, &env).value();
    ASSERT_TRUE(log->Add(a).ok());
    env.ArmFault(io::Fault::kTornWrite, 1);
    Status torn = log->Add(b);
    ASSERT_FALSE(torn.ok());
    EXPECT_EQ(torn.error().code, "no_space");
    EXPECT_FALSE(log->Contains(b));
    env.ClearFaults();
    ASSERT_TRUE(log->Add(c).ok());
    EXPECT_EQ(log->List().value().size(), 2u);
  }
  // Before, the fragment of b joined c's line: the reopened log read as damaged and Pins() refused.
  auto reopened = PinLog::Open(dir.path(), /*sync=*/true, &env).value();
  auto pins = reopened->List();
  ASSERT_TRUE(pins.ok()) << pins.error().ToString();
  EXPECT_EQ(pins->size(), 2u);
  EXPECT_TRUE(reopened->Contains(a));
  EXPECT_TRUE(reopened->Contains(c));
  EXPECT_FALSE(reopened->Contains(b));
}

TEST(PinLog, AFailedSyncIsReportedAndUnsyncedPinsGoWithAPowerCut) {
  testing::TempDir dir("pins-sync");
  io::FaultInjectionEnv env;
  const Cid a = Cid::Of(1, kCodecRaw, "a");
  const Cid b = Cid::Of(1, kCodecRaw, "b");
  {
    auto log = PinLog::Open(dir.path(), /*sync=*/true, &env).value();
    ASSERT_TRUE(log->Add(a).ok());
    env.ArmFault(io::Fault::kSyncError, 1);
    EXPECT_FALSE(log->Add(b).ok());
    env.ClearFaults();
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto reopened = PinLog::Open(dir.path(), /*sync=*/true, &env).value();
  EXPECT_TRUE(reopened->Contains(a));
  EXPECT_FALSE(reopened->Contains(b));
  EXPECT_TRUE(reopened->List().ok());
}

}  // namespace
}  // namespace medledger::content
