// Test helper: a Communicator whose ranks are threads of this process (core/dist/communicator.h),
// so data-parallel code runs with several ranks inside one test. Reductions add the ranks'
// values in rank order (the same bits on every rank); every collective is a pair of barriers
// around shared buffers. run_ranks(n, body) starts n threads, body(comm) on each, and re-throws
// the first failure. A rank that throws leaves the group (so the others fail instead of hanging).
#pragma once

#include <atomic>
#include <barrier>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/dist/communicator.h"
#include "core/error.h"

namespace lowbit::test {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size)
      : f32_(static_cast<size_t>(size)), f64_(static_cast<size_t>(size)), size_(size), barrier_(size) {}
  int size() const { return size_; }
  void sync() {
    barrier_.arrive_and_wait();
    LOWBIT_CHECK(!broken_, "thread group: another rank failed");
  }
  void leave() {
    broken_ = true;
    barrier_.arrive_and_drop();
  }
  std::vector<std::vector<float>> f32_;
  std::vector<std::vector<double>> f64_;
  std::vector<char> bytes_;

 private:
  int size_;
  std::barrier<> barrier_;
  std::atomic<bool> broken_{false};
};

class ThreadComm final : public dist::Communicator {
 public:
  ThreadComm(std::shared_ptr<ThreadGroup> group, int rank) : group_(std::move(group)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_->size(); }
  std::string backend() const override { return "threads"; }
  Device device() const override { return Device::cpu(); }
  void barrier() override { group_->sync(); }
  int64_t reductions = 0;  // reduce_f32 calls (tests count collectives)

 protected:
  void reduce_f32(float* data, int64_t count) override {
    ++reductions;
    reduce(group_->f32_, data, count);
  }
  void reduce_host_f64(double* data, int64_t count) override { reduce(group_->f64_, data, count); }
  void broadcast_bytes(void* data, int64_t bytes, int root) override {
    if (rank_ == root) group_->bytes_.assign(static_cast<char*>(data), static_cast<char*>(data) + bytes);
    group_->sync();
    if (rank_ != root) std::memcpy(data, group_->bytes_.data(), static_cast<size_t>(bytes));
    group_->sync();
  }

 private:
  template <typename T>
  void reduce(std::vector<std::vector<T>>& slots, T* data, int64_t count) {
    slots[static_cast<size_t>(rank_)].assign(data, data + count);
    group_->sync();
    for (int64_t i = 0; i < count; ++i) {
      T s = slots[0][static_cast<size_t>(i)];
      for (size_t r = 1; r < slots.size(); ++r) s += slots[r][static_cast<size_t>(i)];
      data[i] = s;
    }
    group_->sync();
  }

  std::shared_ptr<ThreadGroup> group_;
  int rank_;
};

// Runs body(comm) on `n` threads, one rank each; re-throws the first exception.
inline void run_ranks(int n, const std::function<void(std::shared_ptr<ThreadComm>)>& body) {
  auto group = std::make_shared<ThreadGroup>(n);
  std::vector<std::thread> threads;
  std::exception_ptr first;
  std::mutex m;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(std::make_shared<ThreadComm>(group, r));
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(m);
          if (!first) first = std::current_exception();
        }
        group->leave();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace lowbit::test
