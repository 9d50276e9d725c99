#include "app/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace medledger::app {
namespace {

std::string Amount(uint64_t n, const std::string& unit) {
  if (unit != "bytes") return std::to_string(n);
  const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int i = 0;
  while (v >= 1024.0 && i < 4) {
    v /= 1024.0;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f %s" : "%.1f %s", v, names[i]);
  return buf;
}

std::string Duration(double seconds) {
  auto s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>((s % 3600) / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  }
  return buf;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total, std::string unit, std::ostream& out, Style style)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      out_(out),
      terminal_(style == Style::kTerminal || (style == Style::kAuto && &out == &std::cerr && ::isatty(STDERR_FILENO))),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  Finish();
}

void Progress::SetTotal(uint64_t total) {
  total_ = total;
}

void Progress::Update(uint64_t done) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  auto interval = terminal_ ? std::chrono::steady_clock::duration(std::chrono::milliseconds(100))
                            : std::chrono::steady_clock::duration(line_interval);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

std::string Progress::Line(uint64_t done, std::chrono::steady_clock::duration elapsed) const {
  double secs = std::chrono::duration<double>(elapsed).count();
  std::string line = label_ + ": ";
  if (terminal_ && total_ != 0) {
    constexpr int kWidth = 24;
    auto filled = static_cast<int>(kWidth * std::min<double>(1.0, static_cast<double>(done) / total_));
    line += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
  }
  line += Amount(done, unit_);
  if (total_ != 0) {
    line += "/" + Amount(total_, unit_) + (unit_ == "bytes" ? "" : " " + unit_);
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", 100.0 * std::min<double>(1.0, static_cast<double>(done) / total_));
    line += pct;
  } else if (unit_ != "bytes") {
    line += " " + unit_;
  }
  if (secs > 0.0) {
    double rate = static_cast<double>(done) / secs;
    line += ", " + Amount(static_cast<uint64_t>(rate), unit_) + (unit_ == "bytes" ? "/s" : " " + unit_ + "/s");
    if (total_ > done && rate > 0.0) line += ", ETA " + Duration(static_cast<double>(total_ - done) / rate);
  }
  line += ", " + Duration(secs) + " elapsed";
  return line;
}

void Progress::Draw(bool final) {
  std::string line = Line(done_, std::chrono::steady_clock::now() - start_);
  if (terminal_) {
    out_ << "\r\033[K" << line << (final ? "\n" : "") << std::flush;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

}  // namespace medledger::app
