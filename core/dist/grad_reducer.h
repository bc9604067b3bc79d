// GradReducer: sums the parameters' gradients over every rank of a Communicator after each
// backward pass, in buckets, overlapped with the backward pass.
//   reducer.begin();        // before loss.backward()
//   loss.backward();        // buckets start their all-reduce as their gradients become ready
//   reducer.finish();       // waits; every parameter's grad() now holds the sum over the ranks
// Buckets: the parameters in REVERSE order (the order the backward pass produces their gradients,
// roughly) are packed into flat f32 buffers of about bucket_bytes (25 MB by default, as PyTorch's
// DDP; a parameter larger than that gets a bucket of its own). With overlap on, a gradient-ready
// hook (core/autograd.h) copies each parameter's gradient into its bucket as soon as the backward
// pass has accumulated it, and a full bucket starts its all-reduce at once
// (Communicator::start_all_reduce_sum) while the backward pass goes on; finish() starts what is
// left, waits for every bucket in order and copies the sums back into the gradients (a
// parameter that received no gradient contributes zeros and keeps no gradient: the same graph
// runs on every rank). With overlap off, finish() does all of it after the backward pass (the
// same sums, bit for bit).
// The order in which buckets start depends only on the model's graph, so it is the same on every
// rank, as the collectives require. Parameters must be f32 on one device; the buckets live there.
// Sums, not means: the caller weights each rank's loss (e.g. by its share of the global batch).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/dist/communicator.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::dist {

class LOWBIT_API GradReducer {
 public:
  static constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

  // Throws for an empty list, a parameter that is not an f32 leaf requiring grad, parameters on
  // different devices, the same parameter twice, or bucket_bytes < 1.
  GradReducer(std::shared_ptr<Communicator> comm, std::vector<Tensor> params,
              int64_t bucket_bytes = kDefaultBucketBytes, bool overlap = true);
  ~GradReducer();  // removes the hooks (waits for buckets still in flight)
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  void begin();   // arms the hooks for the next backward pass (throws if a pass is open)
  void finish();  // completes the pass opened by begin()

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Elements of each bucket, in bucket order (bucket 0 holds the last parameters).
  std::vector<int64_t> bucket_elements() const;
  int64_t total_elements() const;  // f32 values all-reduced per step
  bool overlap() const { return overlap_; }

 private:
  struct Slot {  // one parameter's place
    Tensor param;
    int64_t bucket = 0, offset = 0, numel = 0;
    bool ready = false;  // its gradient is in the bucket for this pass
    int64_t hook = 0;
  };
  struct Bucket {
    int64_t elements = 0;
    Tensor flat;                 // f32 [elements] on the parameters' device
    std::vector<size_t> slots;   // indices into slots_
    int64_t ready = 0;           // slots whose gradient is in
    std::unique_ptr<Work> work;  // the all-reduce in flight
    bool started = false;
  };
  void on_grad_ready(size_t slot);
  void pack(size_t slot);
  void start(Bucket& b);

  std::shared_ptr<Communicator> comm_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  bool overlap_;
  bool open_ = false;
};

}  // namespace lowbit::dist
