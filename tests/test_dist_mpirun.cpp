// Data-parallel training through MPI, end to end: `mpirun -np 2 lowbit train ...` (OpenMPI, CPU,
// the mpi backend) ends at the weights of one `lowbit train` process with the same global batch
// (to float tolerance), also with --sync-bn on a batch-norm model; a 2-rank run resumed by one
// process ends where one process alone does; --dist none under mpirun is refused. Skipped when
// lowbit was built without MPI or mpirun is not installed (openmpi-bin). mpirun runs with
// --allow-run-as-root and --oversubscribe (CI: root, 2 cores).
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/dist/launch.h"
#include "tests/cli_run.h"
#include "tests/dist_fixtures.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using dist_test::count;
using dist_test::final_of;
using dist_test::kSameRunAtol;
using dist_test::model_diff;
using dist_test::small_bn_run_flags;
using dist_test::small_run_flags;
using train_test::fresh_dir;
using train_test::tiny_dataset;

// The mpirun program, or "" when there is none.
std::string find_mpirun() {
  FILE* p = popen("command -v mpirun 2>/dev/null", "r");
  if (p == nullptr) return "";
  char buf[512] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  pclose(p);
  std::string path(buf, n);
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

class DistMpirun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::backend_built("mpi")) GTEST_SKIP() << "lowbit was built without MPI";
    mpirun_ = find_mpirun();
    if (mpirun_.empty()) GTEST_SKIP() << "mpirun not found (apt-get install openmpi-bin)";
  }
  // `mpirun -np N lowbit ARGS`: root allowed, more ranks than cores allowed, no CMA single copy
  // (refused in containers without ptrace), no core binding.
  test::CliRun mpirun(int n, const std::string& args) const {
    const std::string prefix = "--allow-run-as-root --oversubscribe --bind-to none --mca "
                               "btl_vader_single_copy_mechanism none -np " +
                               std::to_string(n) + " " + test::shell_quoted(LOWBIT_CLI_PATH) + " ";
    return test::run_lowbit(mpirun_, prefix + args);
  }
  static test::CliRun lowbit(const std::string& args) { return test::run_lowbit(LOWBIT_CLI_PATH, args); }

  std::string mpirun_;
};

TEST_F(DistMpirun, TwoRanksEndWhereOneProcessEnds) {
  const std::string data = tiny_dataset("mpi_two", 40).string();
  const fs::path dir = fresh_dir("mpi_two_runs");
  const test::CliRun one = lowbit(small_run_flags(data, dir / "one", 2));
  ASSERT_EQ(one.code, 0) << one.output;

  const test::CliRun two = mpirun(2, small_run_flags(data, dir / "two", 2));
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("data parallel: 2 processes (mpi), global batch 8"));
  EXPECT_EQ(count(two.output, "test accuracy"), 1) << two.output;  // rank 0 alone prints
  EXPECT_LE(model_diff(final_of(dir / "one"), final_of(dir / "two")).max_abs_diff, kSameRunAtol);

  // Epoch 1 on two ranks, epoch 2 resumed by one process.
  const test::CliRun first = mpirun(2, small_run_flags(data, dir / "resumed", 1));
  ASSERT_EQ(first.code, 0) << first.output;
  const test::CliRun rest = lowbit("train --resume " + test::shell_quoted(dir / "resumed") + " --epochs 2");
  ASSERT_EQ(rest.code, 0) << rest.output;
  EXPECT_THAT(rest.output, HasSubstr("resuming"));
  EXPECT_LE(model_diff(final_of(dir / "one"), final_of(dir / "resumed")).max_abs_diff, kSameRunAtol);
}

TEST_F(DistMpirun, SyncBatchNormMatchesOneProcess) {
  const std::string data = tiny_dataset("mpi_bn", 40).string();
  const fs::path dir = fresh_dir("mpi_bn_runs");
  const test::CliRun one = lowbit(small_bn_run_flags(data, dir / "one"));
  ASSERT_EQ(one.code, 0) << one.output;
  const test::CliRun two = mpirun(2, small_bn_run_flags(data, dir / "two") + " --sync-bn");
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("batch norm synchronized"));
  EXPECT_LE(model_diff(final_of(dir / "one"), final_of(dir / "two")).max_abs_diff, kSameRunAtol);
}

TEST_F(DistMpirun, RefusesToTrainAloneUnderMpirun) {
  const std::string data = tiny_dataset("mpi_none", 20).string();
  const fs::path dir = fresh_dir("mpi_none_runs");
  const test::CliRun r = mpirun(2, small_run_flags(data, dir / "run", 1) + " --dist none");
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("but the backend is none"));
}

}  // namespace
}  // namespace lowbit
#endif
