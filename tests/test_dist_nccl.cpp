// The NCCL backend with one rank on one GPU, which runs the data-parallel code path of a
// multi-GPU run (core/dist): its collectives leave values as they are (and stage CPU tensors),
// the bucketed reducer returns the gradients bit for bit, sync batch norm matches batch norm, and
// `train` with --dist nccl ends where --dist none does. Skipped without a GPU or without NCCL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/dist/grad_reducer.h"
#include "core/dist/launch.h"
#include "core/dist/sync_batch_norm.h"
#include "core/ops/elementwise.h"
#include "core/ops/norm.h"
#include "core/ops/reduce.h"
#include "tests/test_util.h"
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include "tests/dist_fixtures.h"
#include "tools/train/trainer.h"
#endif

namespace lowbit {
namespace {

using test::random_arr;

class DistNcclCUDA : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
    if (!dist::backend_built("nccl")) GTEST_SKIP() << "built without NCCL";
    comm_ = dist::make_communicator("nccl", dist::LaunchInfo{}, Device::cuda(0));
  }
  std::shared_ptr<dist::Communicator> comm_;
};

TEST_F(DistNcclCUDA, OneRankCollectivesKeepTheValues) {
  EXPECT_EQ(comm_->backend(), "nccl");
  EXPECT_EQ(comm_->rank(), 0);
  EXPECT_EQ(comm_->size(), 1);
  EXPECT_EQ(comm_->device(), Device::cuda(0));
  const std::vector<float> v = {1.5f, -2.f, 3.25f, 0.f};
  Tensor t = Tensor::from_vector(v, {4}, Device::cuda(0));
  comm_->all_reduce_sum(t);
  EXPECT_EQ(t.to_vector(), v);
  comm_->start_all_reduce_sum(t)->wait();
  EXPECT_EQ(t.to_vector(), v);
  Tensor ints = Tensor::from_vector(std::vector<int32_t>{4, 5, 6}, {3}, Device::cuda(0));
  comm_->broadcast(ints, 0);
  EXPECT_EQ(ints.to_host<int32_t>(), (std::vector<int32_t>{4, 5, 6}));
  Tensor host = Tensor::from_vector(v, {4});  // staged through the GPU
  comm_->all_reduce_sum(host);
  EXPECT_EQ(host.to_vector(), v);
  std::vector<double> sums = {0.25, 8};
  comm_->all_reduce_sum_host(sums);
  EXPECT_EQ(sums, (std::vector<double>{0.25, 8}));
  comm_->barrier();
}

TEST_F(DistNcclCUDA, ReducerReturnsTheGradientsOfOneRank) {
  Generator g(5);
  Tensor w = Tensor::randn({64, 33}, Device::cuda(0), &g).requires_grad_();
  Tensor b = Tensor::randn({33}, Device::cuda(0), &g).requires_grad_();
  Tensor x = Tensor::randn({64, 33}, Device::cuda(0), &g);
  auto loss = [&] { return sum(mul(relu(add(mul(w, x), b)), x)); };
  loss().backward();
  const std::vector<float> gw = w.grad().to_vector(), gb = b.grad().to_vector();
  for (bool overlap : {true, false}) {
    dist::GradReducer reducer(comm_, {w, b}, 1, overlap);  // a bucket per parameter
    w.zero_grad();
    b.zero_grad();
    reducer.begin();
    loss().backward();
    reducer.finish();
    EXPECT_EQ(w.grad().to_vector(), gw);
    EXPECT_EQ(b.grad().to_vector(), gb);
  }
}

TEST_F(DistNcclCUDA, SyncBatchNormWithOneRankIsBatchNorm) {
  const ref::Arr xa = random_arr({4, 3, 3, 5}, -2, 2, 61), ga = random_arr({4, 3, 3, 5}, -1, 1, 62);
  auto run = [&](bool sync, std::vector<float>& y, std::vector<float>& gx, std::vector<float>& rv) {
    Tensor x = test::from_ref(xa, Device::cuda(0)).requires_grad_();
    Tensor rm = Tensor::zeros({5}, DType::f32, Device::cuda(0)), rvt = Tensor::ones({5}, DType::f32, Device::cuda(0));
    Tensor out = sync ? dist::sync_batch_norm(x, {}, {}, rm, rvt, 0.1f, 1e-5f, comm_)
                      : batch_norm(x, {}, {}, rm, rvt, true, 0.1f, 1e-5f);
    sum(mul(out, test::from_ref(ga, Device::cuda(0)))).backward();
    y = out.to_vector();
    gx = x.grad().to_vector();
    rv = rvt.to_vector();
  };
  std::vector<float> y0, g0, r0, y1, g1, r1;
  run(false, y0, g0, r0);
  run(true, y1, g1, r1);
  for (size_t i = 0; i < y0.size(); ++i) {
    EXPECT_NEAR(y1[i], y0[i], test::kAccumAtol) << i;
    EXPECT_NEAR(g1[i], g0[i], test::kAccumAtol) << i;
  }
  for (size_t c = 0; c < r0.size(); ++c) EXPECT_NEAR(r1[c], r0[c], test::kAccumAtol) << c;
}

#if LOWBIT_HAVE_TRAIN_LIBRARY
TEST_F(DistNcclCUDA, TrainingWithNcclOnOneGpuEndsWhereWithoutIt) {
  const std::string data = train_test::tiny_dataset("nccl_one", 40).string();
  const auto dir = train_test::fresh_dir("nccl_one_runs");
  std::ostringstream log;
  TrainConfig plain = dist_test::small_run(data, (dir / "none").string());
  plain.device = "cuda";
  plain.dist = "none";
  train(plain, log);
  TrainConfig nccl = dist_test::small_run(data, (dir / "nccl").string());
  nccl.device = "cuda";
  nccl.dist = "nccl";
  std::ostringstream log2;
  train(nccl, log2);
  EXPECT_THAT(log2.str(), ::testing::HasSubstr("data parallel: 1 processes (nccl)"));
  EXPECT_LE(dist_test::model_diff((dir / "none" / "final.safetensors").string(),
                                  (dir / "nccl" / "final.safetensors").string())
                .max_abs_diff,
            dist_test::kSameRunAtol);
}
#endif

}  // namespace
}  // namespace lowbit
