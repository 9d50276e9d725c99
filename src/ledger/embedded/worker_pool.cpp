#include "ledger/embedded/worker_pool.h"

#include <atomic>
#include <memory>

namespace medledger::ledger::embedded {

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void WorkerPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  // Work is claimed index by index from a shared counter, so uneven items balance themselves.
  struct Shared {
    std::atomic<size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    size_t helpers_left = 0;
  };
  auto shared = std::make_shared<Shared>();
  auto work = [shared, n, &fn] {
    for (size_t i = shared->next.fetch_add(1); i < n; i = shared->next.fetch_add(1)) fn(i);
  };
  size_t helpers = std::min(threads_.size(), n - 1);
  shared->helpers_left = helpers;
  for (size_t h = 0; h < helpers; ++h) {
    Post([shared, work] {
      work();
      std::lock_guard lock(shared->mu);
      if (--shared->helpers_left == 0) shared->cv.notify_one();
    });
  }
  work();
  std::unique_lock lock(shared->mu);
  shared->cv.wait(lock, [&] { return shared->helpers_left == 0; });
}

}  // namespace medledger::ledger::embedded
