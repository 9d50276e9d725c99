#include "common/shared_flush.h"

namespace medledger {

Status SharedFlush::Run() {
  std::unique_lock lock(mu_);
  const uint64_t need = started_ + 1;  // the first run to begin from now on
  while (finished_ < need) {
    if (running_) {
      finished_cv_.wait(lock);
      continue;
    }
    running_ = true;
    const uint64_t run = ++started_;
    lock.unlock();
    Status flushed = flush_();
    lock.lock();
    running_ = false;
    finished_ = run;
    if (!flushed.ok()) {
      failed_ = run;
      failure_ = flushed.error();
    }
    finished_cv_.notify_all();
  }
  if (failed_ >= need) return failure_;
  return OkStatus();
}

}  // namespace medledger
