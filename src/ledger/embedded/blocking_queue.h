// An unbounded multi-producer queue between pipeline stages; Close() lets the consumer drain and stop.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace medledger::ledger::embedded {

template <class T>
class BlockingQueue {
 public:
  // False once closed: the item is not queued.
  bool Push(T item) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }
  // Blocks until an item arrives; nullopt when closed and empty.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace medledger::ledger::embedded
