#include "common/time.h"

#include <gtest/gtest.h>

namespace medledger {
namespace {

TEST(CivilDate, ParsesOnlyDaysThatExist) {
  EXPECT_EQ(CivilDate::Parse("1950-06-01").value(), (CivilDate{1950, 6, 1}));
  EXPECT_EQ(CivilDate::Parse("2024-02-29").value(), (CivilDate{2024, 2, 29}));  // leap year
  EXPECT_EQ(CivilDate::Parse("2000-02-29").value(), (CivilDate{2000, 2, 29}));  // divisible by 400
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00",
                          "0000-01-01", "1950-6-01", "1950-06-1 ", "1950/06/01", "+950-06-01", "1950-06-01T00", ""}) {
    EXPECT_FALSE(CivilDate::Parse(bad).ok()) << bad;
  }
}

TEST(CivilDate, DaysSinceEpochRoundTripsAcrossTheWholeRange) {
  EXPECT_EQ((CivilDate{1970, 1, 1}).DaysSinceEpoch(), 0);
  EXPECT_EQ((CivilDate{1969, 12, 31}).DaysSinceEpoch(), -1);
  EXPECT_EQ((CivilDate{1900, 1, 1}).DaysSinceEpoch(), -25567);
  EXPECT_EQ((CivilDate{2000, 3, 1}).DaysSinceEpoch(), 11017);
  for (int64_t d = -719162; d <= 2932896; d += 997) {  // 0001-01-01 .. 9999-12-31
    CivilDate c = CivilDate::FromDaysSinceEpoch(d);
    ASSERT_EQ(c.DaysSinceEpoch(), d);
    ASSERT_EQ(CivilDate::Parse(c.ToString()).value(), c) << c.ToString();
  }
}

TEST(Timestamp, BeforeTheEpochRoundTrips) {
  auto t = Timestamp::FromRfc3339("1950-06-01T00:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seconds, -618105600);
  EXPECT_EQ(t->ToRfc3339(), "1950-06-01T00:00:00.000Z");
  EXPECT_EQ((Timestamp{-1, 500000000}).ToRfc3339(), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(Timestamp::FromRfc3339("1900-01-01T12:30:00+01:00")->ToRfc3339(), "1900-01-01T11:30:00.000Z");
  EXPECT_EQ(Timestamp::FromRfc3339("2026-11-23T20:42:19.123Z")->ToRfc3339(), "2026-11-23T20:42:19.123Z");
}

TEST(Timestamp, RefusesDaysThatDoNotExist) {
  // Used to be normalised silently (2023-02-29 became March 1st).
  EXPECT_FALSE(Timestamp::FromRfc3339("2023-02-29T00:00:00Z").ok());
  EXPECT_FALSE(Timestamp::FromRfc3339("2024-06-31T00:00:00Z").ok());
  EXPECT_TRUE(Timestamp::FromRfc3339("2024-02-29T23:59:59Z").ok());
}

}  // namespace
}  // namespace medledger
