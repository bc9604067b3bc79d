// ThreadPool: a fixed set of threads that run the iterations of one loop at a time, for the
// image decoding of ImageLoader and pack_dataset. run(n, fn) calls fn(0..n-1) on the workers and
// the calling thread (each index exactly once, in no fixed order) and returns when all are done;
// the first exception an iteration throws is re-thrown by run() once the others have finished.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/export.h"

namespace lowbit::data {

class LOWBIT_API ThreadPool {
 public:
  // threads >= 1 in all, the caller of run() included (threads - 1 workers are started).
  explicit ThreadPool(int64_t threads);
  ~ThreadPool();  // joins the workers
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void run(int64_t n, const std::function<void(int64_t)>& fn);  // one run at a time (callers wait)
  int64_t threads() const { return static_cast<int64_t>(workers_.size()) + 1; }

 private:
  void work(uint64_t generation);  // claims and runs indices of that run until none are left
  void worker_loop();

  std::mutex run_mutex_;  // serializes run()
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

// std::thread::hardware_concurrency(), at least 1.
LOWBIT_API int64_t default_thread_count();

}  // namespace lowbit::data
