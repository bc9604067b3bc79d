// Tests of the gradient-ready hooks (core/autograd.h) and of the bucketed gradient all-reduce
// (core/dist/grad_reducer.h) with ranks as threads (tests/thread_comm.h): the sums equal the
// per-rank gradients added in rank order, bit for bit, with and without overlap and for any
// bucket size, on CPU and CUDA parameters; buckets start during the backward pass; the bucket
// layout; the refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/autograd.h"
#include "core/dist/grad_reducer.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "tests/test_util.h"
#include "tests/thread_comm.h"

namespace lowbit {
namespace {

using test::expect_error;

TEST(GradReadyHook, FiresOncePerPassWithTheWholeGradient) {
  Tensor w = Tensor::from_vector({1.f, -2.f, 3.f}, {3});
  w.requires_grad_();
  std::vector<std::vector<float>> seen;
  const int64_t h = add_grad_ready_hook(w, [&](const Tensor& leaf) { seen.push_back(leaf.grad().to_vector()); });
  Tensor x = Tensor::from_vector({0.5f, 1.f, 2.f}, {3});
  // w reaches the loss along two paths: the hook must see the sum of both, once.
  Tensor loss = add(sum(mul(w, x)), sum(mul(w, w)));
  loss.backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<float>{0.5f + 2.f, 1.f - 4.f, 2.f + 6.f}));
  EXPECT_EQ(seen[0], w.grad().to_vector());
  // Accumulation over passes: the hook sees the accumulated value.
  sum(mul(w, x)).backward();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], (std::vector<float>{3.f, -2.f, 10.f}));
  remove_grad_ready_hook(w, h);
  sum(w).backward();
  EXPECT_EQ(seen.size(), 2u);
}

TEST(GradReadyHook, NeedsALeafThatRequiresGrad) {
  Tensor w = Tensor::ones({2});
  expect_error([&] { add_grad_ready_hook(w, [](const Tensor&) {}); }, {"leaf tensor that requires grad"});
  w.requires_grad_();
  Tensor y = mul(w, 2.f);
  expect_error([&] { add_grad_ready_hook(y, [](const Tensor&) {}); }, {"leaf tensor that requires grad"});
}

// A two-layer elementwise "network" whose parameters depend only on `seed`: the same replica on
// every rank. Data depends on the rank.
struct Replica {
  Tensor w1, b1, w2, unused;
  explicit Replica(uint64_t seed, Device dev = Device::cpu()) {
    Generator g(seed);
    w1 = Tensor::randn({5, 7}, dev, &g).requires_grad_();
    b1 = Tensor::randn({7}, dev, &g).requires_grad_();
    w2 = Tensor::randn({7}, dev, &g).requires_grad_();
    unused = Tensor::randn({3}, dev, &g).requires_grad_();
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, unused}; }
  Tensor loss(int rank) const {
    Generator g(100 + static_cast<uint64_t>(rank));
    Tensor x = Tensor::randn({4, 5, 1}, w1.device(), &g);
    Tensor h = relu(add(sum(mul(x, w1), {1}), b1));  // [4, 7]
    return sum(mul(mul(h, h), w2));
  }
};

// Gradients of each rank's loss, computed alone, added in rank order (as ThreadComm adds).
std::vector<std::vector<float>> summed_reference(int ranks, Device dev) {
  std::vector<std::vector<float>> total;
  for (int r = 0; r < ranks; ++r) {
    Replica m(7, dev);
    m.loss(r).backward();
    std::vector<Tensor> ps = m.params();
    for (size_t i = 0; i < 3; ++i) {
      std::vector<float> g = ps[i].grad().to_vector();
      if (r == 0) total.push_back(g);
      else
        for (size_t k = 0; k < g.size(); ++k) total[i][k] += g[k];
    }
  }
  return total;
}

void check_sums(int ranks, int64_t bucket_bytes, bool overlap, Device dev) {
  const std::vector<std::vector<float>> want = summed_reference(ranks, dev);  // also initializes dev here
  test::run_ranks(ranks, [&](std::shared_ptr<test::ThreadComm> comm) {
    Replica m(7, dev);
    dist::GradReducer reducer(comm, m.params(), bucket_bytes, overlap);
    for (int step = 0; step < 2; ++step) {  // the reducer is reusable
      for (const Tensor& p : m.params()) p.zero_grad();
      reducer.begin();
      m.loss(comm->rank()).backward();
      reducer.finish();
      std::vector<Tensor> ps = m.params();
      for (size_t i = 0; i < 3; ++i)
        EXPECT_EQ(ps[i].grad().to_vector(), want[i]) << "param " << i << " rank " << comm->rank() << " step " << step;
      EXPECT_FALSE(m.unused.grad().defined());  // no rank gave it a gradient
    }
  });
}

class GradReducerSums : public test::DeviceTest {};

TEST_P(GradReducerSums, EveryRanksGradientsBitForBit) {
  for (bool overlap : {true, false}) {
    check_sums(3, dist::GradReducer::kDefaultBucketBytes, overlap, device());  // one bucket
    check_sums(3, 40 * 4, overlap, device());                                   // several
    check_sums(2, 1, overlap, device());                                        // one per parameter
  }
}

LOWBIT_INSTANTIATE_DEVICES(GradReducerSums);

TEST(GradReducer, BucketsHoldTheParametersInReverseOrder) {
  auto comm = dist::single_process_communicator();
  std::vector<Tensor> ps = {Tensor::zeros({10}).requires_grad_(), Tensor::zeros({20}).requires_grad_(),
                            Tensor::zeros({30}).requires_grad_()};
  EXPECT_EQ(dist::GradReducer(comm, ps, 25 * 4).bucket_elements(), (std::vector<int64_t>{30, 20, 10}));
  EXPECT_EQ(dist::GradReducer(comm, ps, 50 * 4).bucket_elements(), (std::vector<int64_t>{50, 10}));
  EXPECT_EQ(dist::GradReducer(comm, ps, 60 * 4).bucket_elements(), (std::vector<int64_t>{60}));
  EXPECT_EQ(dist::GradReducer(comm, ps, 60 * 4).total_elements(), 60);
}

TEST(GradReducer, StartsBucketsDuringTheBackwardPass) {
  // w2 (used last in the forward pass) gets its gradient first; with one bucket per parameter,
  // its all-reduce must have started before w1's gradient is ready, and not without overlap.
  for (bool overlap : {true, false}) {
    test::run_ranks(2, [&](std::shared_ptr<test::ThreadComm> comm) {
      Replica m(7);
      dist::GradReducer reducer(comm, m.params(), 1, overlap);
      int64_t reductions_when_w1_ready = -1;
      const int64_t h = add_grad_ready_hook(m.w1, [&](const Tensor&) { reductions_when_w1_ready = comm->reductions; });
      reducer.begin();
      m.loss(comm->rank()).backward();
      reducer.finish();
      remove_grad_ready_hook(m.w1, h);
      if (overlap) EXPECT_GE(reductions_when_w1_ready, 2);  // w2's and b1's buckets
      else EXPECT_EQ(reductions_when_w1_ready, 0);
      EXPECT_EQ(comm->reductions, 4);  // every bucket once, the unused parameter's too
    });
  }
}

TEST(GradReducer, IgnoresBackwardPassesOutsideBeginFinish) {
  test::run_ranks(2, [](std::shared_ptr<test::ThreadComm> comm) {
    Replica m(7);
    dist::GradReducer reducer(comm, m.params(), 1);
    m.loss(comm->rank()).backward();  // e.g. a curvature estimate: no collective
    EXPECT_EQ(comm->reductions, 0);
  });
}

TEST(GradReducer, RefusesBadUse) {
  auto comm = dist::single_process_communicator();
  Tensor p = Tensor::zeros({2}).requires_grad_();
  expect_error([&] { dist::GradReducer(comm, {}); }, {"no parameters"});
  expect_error([&] { dist::GradReducer(comm, {p, p}); }, {"listed twice"});
  expect_error([&] { dist::GradReducer(comm, {Tensor::zeros({2})}); }, {"not a leaf that requires grad"});
  dist::GradReducer r(comm, {p});
  expect_error([&] { r.finish(); }, {"finish() without begin()"});
  r.begin();
  expect_error([&] { r.begin(); }, {"begin() twice"});
}

}  // namespace
}  // namespace lowbit
