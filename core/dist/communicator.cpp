// Communicator's tensor-level operations (argument checks, staging through the backend's
// device) and the one-process backend.
#include "core/dist/communicator.h"

#include "core/error.h"

namespace lowbit::dist {

namespace {

class DoneWork final : public Work {
 public:
  void wait() override {}
};

void check_contiguous(const Tensor& t, const char* op) {
  LOWBIT_CHECK(t.defined(), op, ": undefined tensor");
  LOWBIT_CHECK(t.is_contiguous(), op, ": the tensor must be contiguous, got shape ", shape_str(t.shape()),
               " with strides ", shape_str(t.strides()));
}

void check_f32(const Tensor& t, const char* op) {
  check_contiguous(t, op);
  LOWBIT_CHECK(t.dtype() == DType::f32, op, ": the tensor must be f32, got ", dtype_name(t.dtype()));
}

// Rank 0 of 1: nothing to exchange.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "none"; }
  Device device() const override { return Device::cpu(); }
  void barrier() override {}

 protected:
  void reduce_f32(float*, int64_t) override {}
  void broadcast_bytes(void*, int64_t, int) override {}
  void reduce_host_f64(double*, int64_t) override {}
};

}  // namespace

std::unique_ptr<Work> Communicator::start_reduce_f32(float* data, int64_t count) {
  reduce_f32(data, count);
  return std::make_unique<DoneWork>();
}

void Communicator::all_reduce_sum(Tensor& t) {
  check_f32(t, "all_reduce_sum");
  if (backend() == "none") return;  // nothing to do, wherever t lives
  if (t.device() == device()) {
    reduce_f32(t.data<float>(), t.numel());
    return;
  }
  Tensor staged = t.to(device());
  reduce_f32(staged.data<float>(), staged.numel());
  t.copy_(staged);
}

std::unique_ptr<Work> Communicator::start_all_reduce_sum(Tensor& t) {
  check_f32(t, "all_reduce_sum");
  if (backend() == "none") return std::make_unique<DoneWork>();
  if (t.device() == device()) return start_reduce_f32(t.data<float>(), t.numel());
  all_reduce_sum(t);  // staged: finished here
  return std::make_unique<DoneWork>();
}

void Communicator::broadcast(Tensor& t, int root) {
  check_contiguous(t, "broadcast");
  LOWBIT_CHECK(root >= 0 && root < size(), "broadcast: root ", root, " is not a rank of ", size());
  if (backend() == "none") return;
  const int64_t bytes = storage_bytes(t.dtype(), t.shape());
  if (t.device() == device()) {
    broadcast_bytes(t.raw_data(), bytes, root);
    return;
  }
  Tensor staged = t.to(device());
  broadcast_bytes(staged.raw_data(), bytes, root);
  t.copy_(staged);
}

void Communicator::all_reduce_sum_host(std::vector<double>& values) {
  if (values.empty()) return;
  reduce_host_f64(values.data(), static_cast<int64_t>(values.size()));
}

std::shared_ptr<Communicator> single_process_communicator() { return std::make_shared<SingleProcess>(); }

}  // namespace lowbit::dist
