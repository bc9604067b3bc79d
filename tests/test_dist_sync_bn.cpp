// Tests of synchronized batch norm (core/dist/sync_batch_norm.h) with ranks as threads: the
// ranks' shares of a batch (uneven ones too) are normalized, update the running statistics and
// get gradients exactly as the whole batch does in the float64 reference (central differences for
// the gradients); the BatchNorm layer's sync switch; evaluation needs no collective. On CPU and
// CUDA (the thread ranks reduce on the host: CUDA tensors are staged through it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/dist/sync_batch_norm.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "layers/batchnorm.h"
#include "tests/reference/ops.h"
#include "tests/test_util.h"
#include "tests/thread_comm.h"

namespace lowbit {
namespace {

using test::expect_close;
using test::from_ref;
using test::random_arr;
using test::to_ref;

constexpr double kEps = 1e-5;
constexpr float kMomentum = 0.25f;

// The whole batch: x [6, 2, 2, 3], gamma, beta [3], the upstream gradient g (of the loss
// sum(y·g)), and the float64 reference of everything each rank checks.
struct Whole {
  ref::Arr x = random_arr({6, 2, 2, 3}, -2, 3, 41);
  ref::Arr gamma = random_arr({3}, 0.5, 1.5, 42), beta = random_arr({3}, -1, 1, 43);
  ref::Arr g = random_arr({6, 2, 2, 3}, -1, 1, 44);
  ref::BatchNormTrainOut out = ref::batch_norm_train(x, gamma, beta, kEps);
  ref::Arr gx, ggamma, gbeta;
  Whole() {
    auto loss = [&](const std::vector<ref::Arr>& in) {
      return ref::weighted_sum(ref::batch_norm_train(in[0], in[1], in[2], kEps).y, g);
    };
    gx = ref::numeric_grad(loss, {x, gamma, beta}, 0, test::kFiniteDiffEps);
    ggamma = ref::numeric_grad(loss, {x, gamma, beta}, 1, test::kFiniteDiffEps);
    gbeta = ref::numeric_grad(loss, {x, gamma, beta}, 2, test::kFiniteDiffEps);
  }
};

// Rank r of `splits.size()` takes splits[r] examples of the batch, in order.
// Initializes the device's context on this thread before the ranks' threads use it.
void warm_up(Device dev) { mul(Tensor::ones({1}, DType::f32, dev), 2.f).to_vector(); }

void check_split(const std::vector<int64_t>& splits, Device dev) {
  const Whole w;
  warm_up(dev);
  const auto ranks = static_cast<int>(splits.size());
  test::run_ranks(ranks, [&](std::shared_ptr<test::ThreadComm> comm) {
    int64_t start = 0;
    for (int r = 0; r < comm->rank(); ++r) start += splits[static_cast<size_t>(r)];
    const int64_t stop = start + splits[static_cast<size_t>(comm->rank())];
    const std::string who = "rank " + std::to_string(comm->rank()) + " of " + std::to_string(ranks);
    Tensor x = from_ref(ref::slice(w.x, 0, start, stop), dev).requires_grad_();
    Tensor gamma = from_ref(w.gamma, dev).requires_grad_(), beta = from_ref(w.beta, dev).requires_grad_();
    Tensor rm = Tensor::zeros({3}, DType::f32, dev), rv = Tensor::ones({3}, DType::f32, dev);
    Tensor y = dist::sync_batch_norm(x, gamma, beta, rm, rv, kMomentum, static_cast<float>(kEps), comm);
    expect_close(ref::slice(w.out.y, 0, start, stop), y, test::kAccumAtol, test::kAccumRtol, who + " y");
    ref::Arr want_rm = w.out.mean, want_rv = w.out.var_unbiased;
    for (size_t c = 0; c < 3; ++c) {
      want_rm.v[c] = kMomentum * w.out.mean.v[c];
      want_rv.v[c] = (1 - kMomentum) + kMomentum * w.out.var_unbiased.v[c];
    }
    expect_close(want_rm, rm, test::kAccumAtol, test::kAccumRtol, who + " running_mean");
    expect_close(want_rv, rv, test::kAccumAtol, test::kAccumRtol, who + " running_var");

    sum(mul(y, from_ref(ref::slice(w.g, 0, start, stop), dev))).backward();
    expect_close(ref::slice(w.gx, 0, start, stop), x.grad(), test::kGradAtol, test::kGradRtol, who + " gx");
    // The parameters' gradients are this rank's part: summed over the ranks they are the batch's.
    Tensor gg = gamma.grad().clone(), gb = beta.grad().clone();
    comm->all_reduce_sum(gg);
    comm->all_reduce_sum(gb);
    expect_close(w.ggamma, gg, test::kGradAtol, test::kGradRtol, who + " ggamma");
    expect_close(w.gbeta, gb, test::kGradAtol, test::kGradRtol, who + " gbeta");
  });
}

class SyncBatchNorm : public test::DeviceTest {};

TEST_P(SyncBatchNorm, SharesOfABatchNormalizeAsTheWholeBatch) {
  check_split({6}, device());        // one rank
  check_split({3, 3}, device());     // even
  check_split({4, 2}, device());     // uneven
  check_split({1, 2, 3}, device());  // one example on a rank: its statistics come from the others
}

TEST_P(SyncBatchNorm, RefusesTooFewValues) {
  auto one = dist::single_process_communicator();
  Tensor x = Tensor::zeros({1, 3}, DType::f32, device());
  test::expect_error([&] { dist::sync_batch_norm(x, {}, {}, {}, {}, 0.1f, 1e-5f, one); },
                     {"at least two values per channel"});
}

TEST_P(SyncBatchNorm, TheLayerSynchronizesTrainingOnly) {
  const Whole w;
  warm_up(device());
  test::run_ranks(2, [&](std::shared_ptr<test::ThreadComm> comm) {
    BatchNorm2d bn(3, {}, device());
    bn.set_sync(comm);
    EXPECT_TRUE(bn.synchronized());
    const int64_t start = 3 * comm->rank();
    Tensor y = bn.forward(from_ref(ref::slice(w.x, 0, start, start + 3), device()));
    EXPECT_EQ(comm->reductions, 2);  // the statistics' two all-reduces
    ref::Arr plain = ref::batch_norm_train(w.x, {}, {}, kEps).y;  // gamma 1, beta 0 at first
    expect_close(ref::slice(plain, 0, start, start + 3), y, test::kAccumAtol, test::kAccumRtol, "y");
    bn.eval();
    bn.forward(from_ref(ref::slice(w.x, 0, start, start + 3), device()));
    EXPECT_EQ(comm->reductions, 2);  // evaluation uses the running statistics: no collective
  });
}

LOWBIT_INSTANTIATE_DEVICES(SyncBatchNorm);

}  // namespace
}  // namespace lowbit
