// Prefetcher<T>: a background thread that makes items 0..count-1 in order with make(i) and hands
// them over through a bounded queue (at most `capacity` made but not yet taken), so the next
// batches are prepared while the consumer works on the current one.
//   pop(item): waits for the next item; false once all are taken. An exception thrown by make()
//              is re-thrown by the pop() that reaches it (items made before it come first).
//   destructor: stops the thread (it finishes the item it is making, if any) and joins it;
//              safe at any point, e.g. in the middle of an epoch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace lowbit::data {

template <typename T>
class Prefetcher {
 public:
  Prefetcher(int64_t count, int64_t capacity, std::function<T(int64_t)> make)
      : count_(count), capacity_(capacity < 1 ? 1 : capacity), make_(std::move(make)) {
    thread_ = std::thread([this] { run(); });  // last: every member is ready
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  bool pop(T& item) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (!queue_.empty()) {
      item = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      cv_.notify_all();  // room for the producer
      return true;
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return false;
  }

 private:
  void run() {
    try {
      for (int64_t i = 0; i < count_; ++i) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return stop_ || static_cast<int64_t>(queue_.size()) < capacity_; });
          if (stop_) break;
        }
        T item = make_(i);  // outside the lock: the consumer keeps taking items meanwhile
        {
          std::lock_guard<std::mutex> lock(mutex_);
          queue_.push_back(std::move(item));
        }
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
  }

  const int64_t count_, capacity_;
  std::function<T(int64_t)> make_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<T> queue_;
  std::exception_ptr error_;
  bool stop_ = false, done_ = false;
  std::thread thread_;
};

}  // namespace lowbit::data
