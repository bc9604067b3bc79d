// Test helpers for data-parallel training runs: a small deterministic run on a tiny generated
// dataset (as a TrainConfig, or as `lowbit train` flags for runs under mpirun or lowbit launch),
// the largest difference between the model tensors of two checkpoints, and the checks that a
// run over several processes ends where one process ends (also when one process resumes it).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

#include "core/io/safetensors.h"
#include "tests/cli_run.h"
#include "tests/train_fixtures.h"
#include "tools/train/config.h"

namespace lowbit::dist_test {

// mlp 16 -> 16 -> 10 on 4x4 images, SGD with momentum, 37 training examples in global batches of
// 8 (the last one has 5: 3 and 2 examples on two ranks), two epochs, deterministic.
inline TrainConfig small_run(const std::string& data_dir, const std::string& out) {
  TrainConfig c;
  c.data_dir = data_dir;
  c.out = out;
  c.hidden = {16};
  c.limit_train = 37;
  c.batch_size = 8;
  c.eval_batch_size = 16;
  c.epochs = 2;
  c.lr = 0.05;
  c.log_every = 0;
  c.seed = 3;
  c.deterministic = true;
  return c;
}

// resnet20 (batch norm everywhere) at a quarter of its width on 4x4 images, 21 examples: three
// steps, the last of 5 examples. Few steps: batch norm on 1x1 maps of 8 rows followed by ReLU
// turns rounding differences into kinks crossed on one side or the other after a few more steps
// (measured: 2e-6..3e-5 apart after three steps, 0.2 after five at lr 0.05), like any two runs
// that round differently.
inline TrainConfig small_bn_run(const std::string& data_dir, const std::string& out) {
  TrainConfig c = small_run(data_dir, out);
  c.model = "resnet20";
  c.width_mult = 0.25;
  c.limit_train = 21;
  c.lr = 0.02;
  c.epochs = 1;
  return c;
}

// The flags of small_run, with a constant learning rate (so that a run of one epoch resumed for
// a second follows the schedule of a run of two).
inline std::string small_run_flags(const std::string& data, const std::filesystem::path& out, int epochs) {
  return "train --data-dir " + test::shell_quoted(data) + " --hidden 16 --limit-train 37 --batch-size 8 "
         "--eval-batch-size 16 --lr 0.05 --schedule constant --seed 3 --deterministic --log-every 0 --epochs " +
         std::to_string(epochs) + " --out " + test::shell_quoted(out);
}

// The flags of small_bn_run.
inline std::string small_bn_run_flags(const std::string& data, const std::filesystem::path& out) {
  return "train --data-dir " + test::shell_quoted(data) + " --model resnet20 --width-mult 0.25 --limit-train 21 "
         "--batch-size 8 --eval-batch-size 16 --lr 0.02 --seed 3 --deterministic --log-every 0 --epochs 1 --out " +
         test::shell_quoted(out);
}

inline std::string final_of(const std::filesystem::path& run) { return (run / "final.safetensors").string(); }

// How often `what` occurs in `text`.
inline int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// max over the model tensors ("model.*") of |a - b|, and of |a| (how large the weights are).
struct ModelDiff {
  double max_abs_diff = 0;
  double max_abs = 0;
  int64_t compared = 0;  // elements
};

inline ModelDiff model_diff(const std::string& file_a, const std::string& file_b) {
  const io::SafetensorsFile a = io::load_safetensors(file_a), b = io::load_safetensors(file_b);
  ModelDiff d;
  for (const auto& [name, ta] : a.tensors) {
    if (name.rfind("model.", 0) != 0) continue;
    const Tensor* tb = b.find(name);
    EXPECT_NE(tb, nullptr) << name << " missing from " << file_b;
    if (tb == nullptr || ta.dtype() != DType::f32) continue;
    EXPECT_EQ(ta.shape(), tb->shape()) << name;
    const std::vector<float> va = ta.to_vector(), vb = tb->to_vector();
    for (size_t i = 0; i < va.size() && i < vb.size(); ++i) {
      d.max_abs_diff = std::max(d.max_abs_diff, std::abs(static_cast<double>(va[i]) - vb[i]));
      d.max_abs = std::max(d.max_abs, std::abs(static_cast<double>(va[i])));
      ++d.compared;
    }
  }
  return d;
}

// Two runs' weights agree to float tolerance: summation order is all that differs (gradients
// added over ranks vs over one batch), which after a few dozen steps moves weights of size ~1 by
// ~1e-6. A run that saw other batches (e.g. batch 4 instead of 8) differs by > 1e-2.
inline constexpr double kSameRunAtol = 1e-4;
inline constexpr double kOtherRunMinDiff = 1e-2;

#ifdef LOWBIT_CLI_PATH
// The flags of a run training into `out` (e.g. small_run_flags for some data), and a way of running
// `lowbit ARGS` over several processes (lowbit launch or mpirun).
using RunFlags = std::function<std::string(const std::filesystem::path& out)>;
using ParallelRun = std::function<test::CliRun(const std::string& args)>;

// Trains `flags` in one process (into dir/"one", which must succeed) and through `parallel` (into
// dir/"two"); when both succeed, they must end with the same weights (kSameRunAtol). Returns the
// parallel run (not run, code -1, when the one process failed): the caller checks its code first.
inline test::CliRun expect_parallel_ends_like_one_process(const std::filesystem::path& dir, const RunFlags& flags,
                                                           const ParallelRun& parallel) {
  const test::CliRun one = test::lowbit_cli(flags(dir / "one"));
  EXPECT_EQ(one.code, 0) << one.output;
  if (one.code != 0) return {-1, "not run: the one-process run failed"};
  test::CliRun two = parallel(flags(dir / "two"));
  if (two.code == 0) {
    EXPECT_LE(model_diff(final_of(dir / "one"), final_of(dir / "two")).max_abs_diff, kSameRunAtol);
  }
  return two;
}

// small_run's first epoch (of two) through `parallel` into dir/"resumed", the second resumed by one
// process: both must succeed and end with the weights of dir/"one" (both epochs in one process).
// Returns the two runs, for checks on what they printed.
struct ResumedRun {
  test::CliRun first, rest;
};
inline ResumedRun expect_resumed_ends_like_one_process(const std::string& data, const std::filesystem::path& dir,
                                                       const ParallelRun& parallel) {
  ResumedRun r;
  r.first = parallel(small_run_flags(data, dir / "resumed", 1));
  EXPECT_EQ(r.first.code, 0) << r.first.output;
  if (r.first.code != 0) return r;
  r.rest = test::lowbit_cli("train --resume " + test::shell_quoted(dir / "resumed") + " --epochs 2");
  EXPECT_EQ(r.rest.code, 0) << r.rest.output;
  if (r.rest.code == 0) {
    EXPECT_LE(model_diff(final_of(dir / "one"), final_of(dir / "resumed")).max_abs_diff, kSameRunAtol);
  }
  return r;
}
#endif

}  // namespace lowbit::dist_test
