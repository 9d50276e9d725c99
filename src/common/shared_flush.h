// Lets concurrent callers share runs of an expensive flush (syncfs, fsync) instead of queueing one each.
//
// A caller's writes are covered by a run that *started* after the caller arrived, so Run() waits for one: if
// a run is in progress it may have started before the caller's writes, and the caller waits for the next
// run, which serves every caller that arrived in the meantime. At most one run at a time. This is the group
// commit of a database log, for a flush whose cost barely grows with what it flushes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/result.h"

namespace medledger {

class SharedFlush {
 public:
  explicit SharedFlush(std::function<Status()> flush) : flush_(std::move(flush)) {}
  SharedFlush(const SharedFlush&) = delete;
  SharedFlush& operator=(const SharedFlush&) = delete;

  // Returns once a run that started after this call has finished, with that run's status (or a later run's
  // failure: a caller is never told "durable" when the disk just failed). Thread-safe.
  Status Run();

 private:
  std::function<Status()> flush_;
  std::mutex mu_;
  std::condition_variable finished_cv_;
  uint64_t started_ = 0;   // runs begun
  uint64_t finished_ = 0;  // runs ended; runs end in the order they begin
  bool running_ = false;
  uint64_t failed_ = 0;  // the last run that failed, 0 for none
  Error failure_;
};

}  // namespace medledger
