// Data-parallel training runs with ranks as threads of this process (tests/thread_comm.h passed
// to train() through TrainHooks::communicator): N ranks with global batch B end at the weights of
// one process with batch B (to float tolerance), with an uneven last batch; with sync batch norm
// on a batch-norm model too; a run resumed with another number of ranks ends where an
// uninterrupted one does; rank 0 alone writes the run folder; metrics are global.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/dist_fixtures.h"
#include "tests/thread_comm.h"
#include "tools/train/trainer.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using dist_test::kOtherRunMinDiff;
using dist_test::kSameRunAtol;
using dist_test::model_diff;
using train_test::fresh_dir;
using train_test::tiny_dataset;

// Runs `c` on `ranks` thread ranks (stopping after epoch `stop_after` if > 0); returns rank 0's
// log and result.
TrainResult train_on_ranks(const TrainConfig& c, int ranks, std::string* rank0_log = nullptr, int64_t stop_after = 0) {
  TrainResult root;
  std::ostringstream log0;
  test::run_ranks(ranks, [&](std::shared_ptr<test::ThreadComm> comm) {
    TrainHooks hooks;
    hooks.communicator = comm;
    if (stop_after > 0) hooks.after_epoch = [&](const EpochMetrics& m) { return m.epoch < stop_after; };
    std::ostringstream log;
    TrainResult r = train(c, log, hooks);
    EXPECT_EQ(r.rank, comm->rank());
    EXPECT_EQ(r.world, ranks);
    if (comm->rank() == 0) {
      root = r;
      log0 << log.str();
    } else {
      EXPECT_EQ(log.str(), "") << "rank " << comm->rank() << " printed";
    }
  });
  if (rank0_log) *rank0_log = log0.str();
  return root;
}

TEST(DataParallelTrain, TwoRanksEndWhereOneProcessWithTheWholeBatchEnds) {
  const std::string data = tiny_dataset("dp_two", 40).string();
  const fs::path dir = fresh_dir("dp_two_runs");
  TrainConfig one = dist_test::small_run(data, (dir / "one").string());
  std::ostringstream log;
  const TrainResult single = train(one, log);

  TrainConfig two = dist_test::small_run(data, (dir / "two").string());
  std::string log2;
  const TrainResult dp = train_on_ranks(two, 2, &log2);
  EXPECT_THAT(log2, HasSubstr("data parallel: 2 processes (threads), global batch 8"));
  ASSERT_TRUE(fs::exists(dir / "two" / "final.safetensors"));

  const dist_test::ModelDiff d = model_diff((dir / "one" / "final.safetensors").string(),
                                            (dir / "two" / "final.safetensors").string());
  EXPECT_GT(d.compared, 400);
  EXPECT_LE(d.max_abs_diff, kSameRunAtol) << "largest weight " << d.max_abs;
  // Global metrics: the same examples were seen; losses agree to rounding.
  ASSERT_EQ(dp.epochs.size(), single.epochs.size());
  for (size_t e = 0; e < dp.epochs.size(); ++e) {
    EXPECT_NEAR(dp.epochs[e].train_loss, single.epochs[e].train_loss, 1e-5) << "epoch " << e + 1;
    EXPECT_DOUBLE_EQ(dp.epochs[e].train_accuracy, single.epochs[e].train_accuracy) << "epoch " << e + 1;
    EXPECT_DOUBLE_EQ(dp.epochs[e].test_accuracy, single.epochs[e].test_accuracy) << "epoch " << e + 1;
  }

  // The tolerance discriminates: batches of 4 (one rank's share) give other weights.
  TrainConfig half = dist_test::small_run(data, (dir / "half").string());
  half.batch_size = 4;
  train(half, log);
  EXPECT_GT(model_diff((dir / "one" / "final.safetensors").string(), (dir / "half" / "final.safetensors").string())
                .max_abs_diff,
            kOtherRunMinDiff);
}

TEST(DataParallelTrain, ThreeRanksWithALastBatchOfFewerExamplesThanRanks) {
  // 37 = 4·8 + 5: on 3 ranks the last batch splits 2/2/1. With limit 34 the last batch has 2
  // examples, fewer than the ranks: the data-parallel run leaves it out, and says so.
  const std::string data = tiny_dataset("dp_three", 40).string();
  const fs::path dir = fresh_dir("dp_three_runs");
  std::ostringstream log;
  train(dist_test::small_run(data, (dir / "one").string()), log);
  std::string log3;
  train_on_ranks(dist_test::small_run(data, (dir / "three").string()), 3, &log3);
  EXPECT_THAT(log3, Not(HasSubstr("is left out")));
  EXPECT_LE(model_diff((dir / "one" / "final.safetensors").string(), (dir / "three" / "final.safetensors").string())
                .max_abs_diff,
            kSameRunAtol);

  TrainConfig short_last = dist_test::small_run(data, (dir / "short").string());
  short_last.limit_train = 34;
  std::string log_short;
  train_on_ranks(short_last, 3, &log_short);
  EXPECT_THAT(log_short,
              HasSubstr("the last batch of each epoch (2 examples, fewer than the 3 processes) is left out"));
}

TEST(DataParallelTrain, SyncBatchNormMatchesOneProcess) {
  const std::string data = tiny_dataset("dp_bn", 40).string();
  const fs::path dir = fresh_dir("dp_bn_runs");
  std::ostringstream log;
  train(dist_test::small_bn_run(data, (dir / "one").string()), log);
  TrainConfig synced = dist_test::small_bn_run(data, (dir / "sync").string());
  synced.sync_bn = true;
  std::string log2;
  train_on_ranks(synced, 2, &log2);
  EXPECT_THAT(log2, HasSubstr("batch norm synchronized"));
  const dist_test::ModelDiff d =
      model_diff((dir / "one" / "final.safetensors").string(), (dir / "sync" / "final.safetensors").string());
  EXPECT_LE(d.max_abs_diff, kSameRunAtol) << "largest value " << d.max_abs;
  // Without synchronization each rank normalizes its own half batch: other weights.
  train_on_ranks(dist_test::small_bn_run(data, (dir / "local").string()), 2);
  EXPECT_GT(model_diff((dir / "one" / "final.safetensors").string(), (dir / "local" / "final.safetensors").string())
                .max_abs_diff,
            kOtherRunMinDiff);
}

TEST(DataParallelTrain, ResumesWithAnotherNumberOfRanks) {
  const std::string data = tiny_dataset("dp_resume", 40).string();
  const fs::path dir = fresh_dir("dp_resume_runs");
  std::ostringstream log;
  train(dist_test::small_run(data, (dir / "straight").string()), log);  // 2 epochs, one process
  // Stopped after epoch 1 (not epochs = 1: the cosine schedule spans the run's epochs).
  train_on_ranks(dist_test::small_run(data, (dir / "resumed").string()), 2, nullptr, 1);  // epoch 1 on two ranks
  TrainConfig rest = dist_test::small_run(data, (dir / "resumed").string());
  rest.resume = rest.out;
  const TrainResult r = train(rest, log);  // epoch 2 in one process
  EXPECT_TRUE(r.completed);
  EXPECT_LE(model_diff((dir / "straight" / "final.safetensors").string(),
                       (dir / "resumed" / "final.safetensors").string())
                .max_abs_diff,
            kSameRunAtol);
  // And back: one epoch alone, the second on three ranks.
  TrainHooks stop;
  stop.after_epoch = [](const EpochMetrics& m) { return m.epoch < 1; };
  train(dist_test::small_run(data, (dir / "back").string()), log, stop);
  TrainConfig three = dist_test::small_run(data, (dir / "back").string());
  three.resume = three.out;
  train_on_ranks(three, 3);
  EXPECT_LE(model_diff((dir / "straight" / "final.safetensors").string(), (dir / "back" / "final.safetensors").string())
                .max_abs_diff,
            kSameRunAtol);
}

}  // namespace
}  // namespace lowbit
#endif
