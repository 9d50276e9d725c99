#include "common/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace medledger {

Timestamp Timestamp::Now() {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return Timestamp{ns / 1000000000, int32_t(ns % 1000000000)};
}

std::string Timestamp::ToRfc3339() const {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, nanos / 1000000);
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
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970) return bad();
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
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t epoch = timegm(&tm);
  return Timestamp{int64_t(epoch) - offset_seconds, nanos};
}

}  // namespace medledger
