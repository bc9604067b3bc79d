// ThreadPool: workers wait for a new generation, claim indices under the mutex (an iteration is a
// whole image decode, so the lock is cheap by comparison) and count the finished ones.
#include "core/data/thread_pool.h"

#include <utility>

#include "core/error.h"

namespace lowbit::data {

ThreadPool::ThreadPool(int64_t threads) {
  LOWBIT_CHECK(threads >= 1, "ThreadPool: threads must be >= 1, got ", threads);
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int64_t i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::work(uint64_t generation) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (generation_ == generation && next_ < n_) {  // a late worker never joins a newer run
    const int64_t i = next_++;
    const std::function<void(int64_t)>& fn = *fn_;
    lock.unlock();
    std::exception_ptr error;
    try {
      fn(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (++finished_ == n_) done_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    lock.unlock();
    work(seen);
    lock.lock();
  }
}

void ThreadPool::run(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> serial(run_mutex_);
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    n_ = n;
    next_ = finished_ = 0;
    error_ = nullptr;
    generation = ++generation_;
  }
  wake_.notify_all();
  work(generation);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return finished_ == n_; });
  fn_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

int64_t default_thread_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int64_t>(n);
}

}  // namespace lowbit::data
