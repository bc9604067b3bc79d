// GradReducer: bucket layout, the gradient-ready hooks, and the start/wait/unpack of buckets.
#include "core/dist/grad_reducer.h"

#include <set>

#include "core/autograd.h"
#include "core/error.h"

namespace lowbit::dist {

GradReducer::GradReducer(std::shared_ptr<Communicator> comm, std::vector<Tensor> params, int64_t bucket_bytes,
                         bool overlap)
    : comm_(std::move(comm)), overlap_(overlap) {
  LOWBIT_CHECK(comm_ != nullptr, "GradReducer: no communicator");
  LOWBIT_CHECK(!params.empty(), "GradReducer: no parameters");
  LOWBIT_CHECK(bucket_bytes >= 1, "GradReducer: bucket_bytes must be >= 1, got ", bucket_bytes);
  const Device device = params.front().device();
  std::set<const TensorImpl*> seen;
  const int64_t cap = std::max<int64_t>(1, bucket_bytes / static_cast<int64_t>(sizeof(float)));
  // Reverse order: the backward pass reaches the last layers first.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Tensor& p = *it;
    LOWBIT_CHECK(p.defined() && p.is_leaf() && p.requires_grad(), "GradReducer: parameter ", slots_.size(),
                 " (from the end) is not a leaf that requires grad");
    LOWBIT_CHECK(p.dtype() == DType::f32, "GradReducer: parameters must be f32, got ", dtype_name(p.dtype()));
    LOWBIT_CHECK(p.device() == device, "GradReducer: parameters on ", device.str(), " and ", p.device().str());
    LOWBIT_CHECK(seen.insert(p.unsafe_impl()).second, "GradReducer: the same parameter is listed twice");
    if (buckets_.empty() || (buckets_.back().elements > 0 && buckets_.back().elements + p.numel() > cap))
      buckets_.emplace_back();
    Bucket& b = buckets_.back();
    Slot s;
    s.param = p;
    s.bucket = static_cast<int64_t>(buckets_.size()) - 1;
    s.offset = b.elements;
    s.numel = p.numel();
    b.elements += s.numel;
    b.slots.push_back(slots_.size());
    slots_.push_back(std::move(s));
  }
  for (Bucket& b : buckets_) b.flat = Tensor::zeros({b.elements}, DType::f32, device);
  if (overlap_) {
    for (size_t i = 0; i < slots_.size(); ++i)
      slots_[i].hook = add_grad_ready_hook(slots_[i].param, [this, i](const Tensor&) { on_grad_ready(i); });
  }
}

GradReducer::~GradReducer() {
  for (Slot& s : slots_)
    if (s.hook != 0) remove_grad_ready_hook(s.param, s.hook);
  for (Bucket& b : buckets_) b.work.reset();  // a Work waits when dropped
}

std::vector<int64_t> GradReducer::bucket_elements() const {
  std::vector<int64_t> n;
  for (const Bucket& b : buckets_) n.push_back(b.elements);
  return n;
}

int64_t GradReducer::total_elements() const {
  int64_t n = 0;
  for (const Bucket& b : buckets_) n += b.elements;
  return n;
}

void GradReducer::begin() {
  LOWBIT_CHECK(!open_, "GradReducer: begin() twice without finish()");
  for (Slot& s : slots_) s.ready = false;
  for (Bucket& b : buckets_) {
    b.ready = 0;
    b.started = false;
    b.work.reset();
  }
  open_ = true;
}

// Copies the slot's gradient (zeros when it has none) into its bucket.
void GradReducer::pack(size_t i) {
  Slot& s = slots_[i];
  Tensor dst = buckets_[static_cast<size_t>(s.bucket)].flat.slice(0, s.offset, s.offset + s.numel);
  const Tensor g = s.param.grad();
  if (g.defined()) dst.copy_(g.reshape({s.numel}));
  else dst.zero_();
  s.ready = true;
}

void GradReducer::start(Bucket& b) {
  b.started = true;
  b.work = comm_->start_all_reduce_sum(b.flat);
}

void GradReducer::on_grad_ready(size_t i) {
  if (!open_) return;  // a backward pass outside begin()/finish() (e.g. an estimate of curvature)
  Slot& s = slots_[i];
  LOWBIT_CHECK(!s.ready, "GradReducer: a parameter's gradient became ready twice in one pass (two backward passes "
               "between begin() and finish()?)");
  pack(i);
  Bucket& b = buckets_[static_cast<size_t>(s.bucket)];
  if (++b.ready == static_cast<int64_t>(b.slots.size())) start(b);
}

void GradReducer::finish() {
  LOWBIT_CHECK(open_, "GradReducer: finish() without begin()");
  open_ = false;
  for (Bucket& b : buckets_) {
    if (b.started) continue;
    for (size_t i : b.slots)
      if (!slots_[i].ready) pack(i);
    start(b);
  }
  for (Bucket& b : buckets_) {
    b.work->wait();
    b.work.reset();
    for (size_t i : b.slots) {
      const Slot& s = slots_[i];
      // A parameter without a gradient got none on any rank (the same graph everywhere): it
      // stays without one, as in a single process, and the optimizer passes it over.
      Tensor g = s.param.grad();
      if (!g.defined()) continue;
      g.copy_(b.flat.slice(0, s.offset, s.offset + s.numel).reshape(s.param.shape()));
    }
  }
}

}  // namespace lowbit::dist
