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
using dist_test::expect_parallel_ends_like_one_process;
using dist_test::expect_resumed_ends_like_one_process;
using dist_test::ResumedRun;
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

  std::string mpirun_;
};

TEST_F(DistMpirun, TwoRanksEndWhereOneProcessEnds) {
  const std::string data = tiny_dataset("mpi_two", 40).string();
  const fs::path dir = fresh_dir("mpi_two_runs");
  const auto two_ranks = [this](const std::string& args) { return mpirun(2, args); };
  const test::CliRun two = expect_parallel_ends_like_one_process(
      dir, [&](const fs::path& out) { return small_run_flags(data, out, 2); }, two_ranks);
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("data parallel: 2 processes (mpi), global batch 8"));
  EXPECT_EQ(count(two.output, "test accuracy"), 1) << two.output;  // rank 0 alone prints

  // Epoch 1 on two ranks, epoch 2 resumed by one process.
  const ResumedRun resumed = expect_resumed_ends_like_one_process(data, dir, two_ranks);
  EXPECT_THAT(resumed.rest.output, HasSubstr("resuming"));
}

TEST_F(DistMpirun, SyncBatchNormMatchesOneProcess) {
  const std::string data = tiny_dataset("mpi_bn", 40).string();
  const fs::path dir = fresh_dir("mpi_bn_runs");
  const test::CliRun two = expect_parallel_ends_like_one_process(
      dir, [&](const fs::path& out) { return small_bn_run_flags(data, out); },
      [this](const std::string& args) { return mpirun(2, args + " --sync-bn"); });
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("batch norm synchronized"));
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
