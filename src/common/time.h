// Timestamps as Fabric carries them (google.protobuf.Timestamp): seconds + nanos since the Unix epoch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger {

struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;

  static Timestamp Now();
  int64_t UnixMillis() const { return seconds * 1000 + nanos / 1000000; }
  std::string ToRfc3339() const;  // "2026-11-23T20:42:19.123Z" (millisecond precision, UTC)
  static Result<Timestamp> FromRfc3339(std::string_view text);
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// A calendar date (proleptic Gregorian), e.g. a birth date. Valid years are 0001-9999.
struct CivilDate {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31, within the month

  // Exactly "YYYY-MM-DD" naming a day that exists (2024-02-29 yes, 2023-02-29 no); "bad_date" otherwise.
  static Result<CivilDate> Parse(std::string_view text);
  static CivilDate FromDaysSinceEpoch(int64_t days);
  int64_t DaysSinceEpoch() const;  // 1970-01-01 is 0; earlier dates are negative
  std::string ToString() const;    // "YYYY-MM-DD"
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

int DaysInMonth(int year, int month);

}  // namespace medledger
