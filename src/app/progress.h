// Progress of long CLI work (verify, backup, restore, upgrade). On a terminal: one line redrawn in place
// with a bar, the rate and an ETA. Elsewhere (CI logs, journald): a plain line every few seconds, so a log
// shows the work advancing without thousands of carriage returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace medledger::app {

class Progress {
 public:
  enum class Style { kAuto, kTerminal, kLines };
  // `unit` names what is counted ("blocks"); "bytes" is shown in KiB/MiB/GiB. `out` is usually std::cerr.
  Progress(std::string label, uint64_t total, std::string unit, std::ostream& out, Style style = Style::kAuto);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // Cheap to call often: it redraws at most every 100 ms (terminal) or every `line_interval` (lines).
  void Update(uint64_t done);
  // The total can grow while work runs (a ledger still being written).
  void SetTotal(uint64_t total);
  // Prints the final line (once). Called by the destructor if not called before.
  void Finish();

  // The line the display would print now; exposed for tests.
  std::string Line(uint64_t done, std::chrono::steady_clock::duration elapsed) const;
  std::chrono::seconds line_interval{5};

 private:
  void Draw(bool final);

  std::string label_;
  uint64_t total_;
  std::string unit_;
  std::ostream& out_;
  bool terminal_;
  uint64_t done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace medledger::app
