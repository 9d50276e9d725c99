// A fixed set of worker threads with a FIFO task queue. The ledger keeps two: one executes proposals,
// one checks signatures, so validation never waits behind a queue of simulations.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace medledger::ledger::embedded {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // runs every queued task, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(std::function<void()> task);
  // Calls fn(i) for i in [0, n) on the workers and the calling thread; returns when all are done.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);
  size_t size() const { return threads_.size(); }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace medledger::ledger::embedded
