#include "common/time.h"

#include <chrono>
#include <cstdio>

namespace medledger {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

// Floor division: -1 / 86400 is day -1 (1969-12-31), not day 0.
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool Digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Howard Hinnant's days_from_civil / civil_from_days: exact for the whole proleptic Gregorian calendar, with
// no time_t, time zone or C library involved (the contract must compute the same on every peer).
int64_t CivilDate::DaysSinceEpoch() const {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilDate::FromDaysSinceEpoch(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(y), m, d};
}

Result<CivilDate> CivilDate::Parse(std::string_view t) {
  auto bad = [] { return MakeError(ErrorKind::kInvalidArgument, "bad_date", "expected a date as YYYY-MM-DD"); };
  if (t.size() != 10 || t[4] != '-' || t[7] != '-' || !Digits(t.substr(0, 4)) || !Digits(t.substr(5, 2)) ||
      !Digits(t.substr(8, 2))) {
    return bad();
  }
  CivilDate d{ToInt(t.substr(0, 4)), ToInt(t.substr(5, 2)), ToInt(t.substr(8, 2))};
  if (d.year < 1 || d.day < 1 || d.day > DaysInMonth(d.year, d.month)) return bad();
  return d;
}

std::string CivilDate::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

Timestamp Timestamp::Now() {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return Timestamp{ns / 1000000000, int32_t(ns % 1000000000)};
}

std::string Timestamp::ToRfc3339() const {
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t in_day = seconds - days * kSecondsPerDay;  // 0..86399 also before 1970
  CivilDate date = CivilDate::FromDaysSinceEpoch(days);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", date.year, date.month, date.day,
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60),
                nanos / 1000000);
  return buf;
}

Result<Timestamp> Timestamp::FromRfc3339(std::string_view text) {
  // Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)".
  auto bad = [] { return MakeError(ErrorKind::kInvalidArgument, "bad_timestamp", "expected an RFC 3339 timestamp"); };
  if (text.size() < 20 || text.size() > 40) return bad();
  int year, mon, day, hour, min, sec;
  char t, c1, c2, d1, d2;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d%c%2d%c%2d%c%2d%c%2d%c%2d", &year, &d1, &mon, &d2, &day, &t, &hour, &c1, &min, &c2,
                  &sec) != 11 ||
      d1 != '-' || d2 != '-' || (t != 'T' && t != 't') || c1 != ':' || c2 != ':') {
    return bad();
  }
  // Any year RFC 3339 can write (dates before 1970 are negative seconds), and only days that exist.
  if (year < 1 || day < 1 || day > DaysInMonth(year, mon) || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 ||
      sec > 60) {
    return bad();
  }
  size_t pos = 19;
  int32_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = (s[pos + 1] - '0') * 10 + (s[pos + 2] - '0');
    int om = (s[pos + 4] - '0') * 10 + (s[pos + 5] - '0');
    if (oh > 23 || om > 59) return bad();
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  int64_t days = CivilDate{year, mon, day}.DaysSinceEpoch();
  int64_t epoch = days * kSecondsPerDay + hour * 3600 + min * 60 + sec;
  return Timestamp{epoch - offset_seconds, nanos};
}

}  // namespace medledger
