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

}  // namespace medledger
