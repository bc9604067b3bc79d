// `lowbit launch` (core/dist/process_launcher.h, tools/lowbit/launch_command.cpp), end to end:
//   - `lowbit launch --nproc-per-node 2 -- train ...` on the CPU (the tcp backend, no MPI) ends
//     at the weights of one `lowbit train` process with the same global batch (to float
//     tolerance), also with --sync-bn on a batch-norm model, when one process resumes it and
//     with two launchers as two machines (--nnodes 2);
//   - the processes get the launch variables (global ranks across machines) and not MPI's;
//   - a failing process stops the others, and the launcher exits with its status;
//   - SIGTERM sent to the launcher reaches every process;
//   - output lines carry "[rank R] " (or not, with --no-prefix);
//   - bad flags are refused with a message naming them;
//   - a rank whose share of a batch is all unreadable images stops the job with an error naming
//     the rank and the batch (instead of training out of step with the others).
// Other programs than lowbit run through --exec (sh scripts here).
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "core/dist/process_launcher.h"
#include "tests/cli_run.h"
#include "tests/dist_fixtures.h"
#include "tests/file_util.h"
#include "tests/free_port.h"
#include "tests/image_files.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using dist_test::count;
using dist_test::expect_parallel_ends_like_one_process;
using dist_test::expect_resumed_ends_like_one_process;
using dist_test::ResumedRun;
using dist_test::small_bn_run_flags;
using dist_test::small_run_flags;
using test::lowbit_cli;
using train_test::fresh_dir;
using train_test::tiny_dataset;

// `lowbit launch --nproc-per-node N --master-port <free port> FLAGS -- COMMAND`.
test::CliRun launch(int n, const std::string& command, const std::string& flags = "") {
  return lowbit_cli("launch --nproc-per-node " + std::to_string(n) + " --master-port " +
                std::to_string(test::free_port()) + " " + flags + " -- " + command);
}

// An sh script in `dir`, for --exec.
std::string script(const fs::path& dir, const std::string& name, const std::string& body) {
  const fs::path path = dir / name;
  std::ofstream(path) << body;
  return test::shell_quoted(path);
}

TEST(DistLauncher, TwoProcessesEndWhereOneProcessEnds) {
  const std::string data = tiny_dataset("launch_two", 40).string();
  const fs::path dir = fresh_dir("launch_two_runs");
  const test::CliRun two = expect_parallel_ends_like_one_process(
      dir, [&](const fs::path& out) { return small_run_flags(data, out, 2); },
      [](const std::string& args) { return launch(2, args); });
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("[rank 0] data parallel: 2 processes (tcp), global batch 8"));
  EXPECT_EQ(count(two.output, "test accuracy"), 1) << two.output;  // rank 0 alone prints

  // Epoch 1 on three processes, epoch 2 resumed by one.
  const ResumedRun resumed =
      expect_resumed_ends_like_one_process(data, dir, [](const std::string& args) { return launch(3, args); });
  EXPECT_THAT(resumed.first.output, HasSubstr("data parallel: 3 processes (tcp)"));
}

TEST(DistLauncher, TwoMachinesOfOneProcessEachEndWhereOneProcessEnds) {
  // Two launchers as two machines (--nnodes 2), both on this one, meeting at a master address.
  const std::string data = tiny_dataset("launch_nodes", 40).string();
  const fs::path dir = fresh_dir("launch_nodes_runs");
  const auto two_machines = [&](const std::string& args) {
    const std::string machine = test::shell_quoted(LOWBIT_CLI_PATH) + " launch --nnodes 2 --nproc-per-node 1 " +
                                "--master-addr localhost --master-port " + std::to_string(test::free_port()) +
                                " --node-rank ";
    const std::string train = " -- " + args;
    const std::string node1_log = test::shell_quoted(dir / "node1.log");
    const std::string both = script(dir, "both.sh",
                                    machine + "1" + train + " > " + node1_log + " 2>&1 &\n" +
                                    machine + "0" + train + "\n"
                                    "echo \"machine 0 status $?\"\n"
                                    "wait $!\n"
                                    "echo \"machine 1 status $?\"\n");
    return test::run_lowbit("/bin/sh", both);
  };
  const test::CliRun r = expect_parallel_ends_like_one_process(
      dir, [&](const fs::path& out) { return small_run_flags(data, out, 2); }, two_machines);
  EXPECT_THAT(r.output, HasSubstr("machine 0 status 0"));
  EXPECT_THAT(r.output, HasSubstr("machine 1 status 0"));
  EXPECT_THAT(r.output, HasSubstr("[rank 0] data parallel: 2 processes (tcp)"));
  EXPECT_THAT(r.output, HasSubstr("warning: --master-addr localhost with --nnodes 2"));
}

TEST(DistLauncher, SyncBatchNormMatchesOneProcess) {
  const std::string data = tiny_dataset("launch_bn", 40).string();
  const fs::path dir = fresh_dir("launch_bn_runs");
  const test::CliRun two = expect_parallel_ends_like_one_process(
      dir, [&](const fs::path& out) { return small_bn_run_flags(data, out); },
      [](const std::string& args) { return launch(2, args + " --sync-bn --dist tcp"); });
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_THAT(two.output, HasSubstr("batch norm synchronized"));
}

TEST(DistLauncher, ProcessesGetTheLaunchVariables) {
  const fs::path dir = fresh_dir("launch_env");
  const std::string show = script(dir, "show.sh",
                                  "echo \"env $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $GROUP_RANK $MASTER_ADDR "
                                  "$MASTER_PORT ${OMPI_COMM_WORLD_RANK:-no-mpi}\"\n");
  // Machine 2 of 3, two processes each: ranks 4 and 5 of 6. MPI's variables are not passed on.
  const test::CliRun r = lowbit_cli("launch --nproc-per-node 2 --nnodes 3 --node-rank 2 --master-addr node0 "
                                    "--master-port 1234 --exec sh -- " + show);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[rank 4] env 4 0 6 2 2 node0 1234 no-mpi\n"));
  EXPECT_THAT(r.output, HasSubstr("[rank 5] env 5 1 6 2 2 node0 1234 no-mpi\n"));

  dist::LaunchPlan plan;
  plan.nproc_per_node = 4;
  plan.nnodes = 2;
  plan.node_rank = 1;
  plan.master_addr = "m";
  plan.master_port = 7;
  plan.cpu_threads = 10;
  const std::vector<std::string> env = dist::launch_environment(
      plan, 3, {"PATH=/bin", "RANK=9", "OMPI_COMM_WORLD_RANK=9", "PMI_SIZE=2", "RANKING=x"});
  EXPECT_THAT(env, ::testing::UnorderedElementsAre("PATH=/bin", "RANKING=x", "RANK=7", "LOCAL_RANK=3",
                                                   "WORLD_SIZE=8", "LOCAL_WORLD_SIZE=4", "GROUP_RANK=1",
                                                   "MASTER_ADDR=m", "MASTER_PORT=7", "OPENBLAS_NUM_THREADS=2"));
  // A thread count the caller chose is kept; a machine smaller than the processes gets 1 each.
  const std::vector<std::string> given = dist::launch_environment(plan, 0, {"OMP_NUM_THREADS=3"});
  EXPECT_THAT(given, Not(::testing::Contains(::testing::StartsWith("OPENBLAS_NUM_THREADS="))));
  plan.cpu_threads = 2;
  EXPECT_THAT(dist::launch_environment(plan, 0, {}), ::testing::Contains("OPENBLAS_NUM_THREADS=1"));
}

TEST(DistLauncher, OutputIsPrefixedUnlessAskedNotTo) {
  const fs::path dir = fresh_dir("launch_output");
  const std::string say = script(dir, "say.sh", "printf 'one\\ntwo' ; echo \" to err\" >&2\n");
  const test::CliRun prefixed = launch(2, say, "--exec sh");
  ASSERT_EQ(prefixed.code, 0) << prefixed.output;
  for (const char* line : {"[rank 0] one\n", "[rank 0] two\n", "[rank 1] one\n", "[rank 1] two\n",
                           "[rank 0]  to err\n", "[rank 1]  to err\n"})
    EXPECT_THAT(prefixed.output, HasSubstr(line));
  const test::CliRun kept = launch(2, say, "--exec sh --no-prefix");
  ASSERT_EQ(kept.code, 0) << kept.output;
  EXPECT_EQ(count(kept.output, "one\n"), 2) << kept.output;
  EXPECT_THAT(kept.output, Not(HasSubstr("[rank")));
}

TEST(DistLauncher, AFailingProcessStopsTheOthersAndGivesItsStatus) {
  const fs::path dir = fresh_dir("launch_fail");
  // Rank 1 fails with status 7 while ranks 0 and 2 would sleep for a minute.
  const std::string fail = script(dir, "fail.sh", "if [ \"$RANK\" = 1 ]; then sleep 0.5; exit 7; fi\nexec sleep 60\n");
  const auto t0 = std::chrono::steady_clock::now();
  const test::CliRun r = launch(3, fail, "--exec sh");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 7) << r.output;
  EXPECT_THAT(r.output, HasSubstr("lowbit launch: rank 1 (pid "));
  EXPECT_THAT(r.output, HasSubstr("exited with status 7; stopping the other 2 processes"));
  EXPECT_LT(seconds, 30) << "the sleeping processes were not stopped";

  // A process killed by a signal: 128 + the signal.
  const std::string killed = script(dir, "killed.sh", "if [ \"$RANK\" = 0 ]; then kill -9 $$; fi\nexec sleep 60\n");
  const test::CliRun k = launch(2, killed, "--exec sh");
  EXPECT_EQ(k.code, 128 + 9) << k.output;
  EXPECT_THAT(k.output, HasSubstr("rank 0 (pid "));
  EXPECT_THAT(k.output, HasSubstr("was killed by signal 9"));

  // lowbit train failing in every process (a missing dataset): status 1, each process's message.
  const test::CliRun t = launch(2, small_run_flags((dir / "missing").string(), dir / "run", 1));
  EXPECT_EQ(t.code, 1) << t.output;
  EXPECT_THAT(t.output, HasSubstr("lowbit: error:"));
  EXPECT_THAT(t.output, HasSubstr("exited with status 1"));
}

TEST(DistLauncher, PassesSigtermOnToEveryProcess) {
  const fs::path dir = fresh_dir("launch_signal");
  const std::string d = dir.string();
  const std::string child = script(dir, "child.sh",
                                   "trap 'echo \"got TERM\"; exit 5' TERM\n"
                                   "touch \"" + d + "/started.$RANK\"\n"
                                   "while :; do sleep 0.1; done\n");
  // The launcher in the background; SIGTERM once both processes run.
  const std::string outer = script(dir, "outer.sh",
                                   test::shell_quoted(LOWBIT_CLI_PATH) + " launch --nproc-per-node 2 --master-port " +
                                       std::to_string(test::free_port()) + " --exec sh -- " + child + " &\n"
                                   "pid=$!\n"
                                   "for i in $(seq 600); do\n"
                                   "  [ -e \"" + d + "/started.0\" ] && [ -e \"" + d + "/started.1\" ] && break\n"
                                   "  sleep 0.05\n"
                                   "done\n"
                                   "kill -TERM $pid\n"
                                   "wait $pid\n"
                                   "echo \"launcher status $?\"\n");
  const test::CliRun r = test::run_lowbit("/bin/sh", outer);
  EXPECT_THAT(r.output, HasSubstr("[rank 0] got TERM"));
  EXPECT_THAT(r.output, HasSubstr("[rank 1] got TERM"));
  EXPECT_THAT(r.output, HasSubstr("launcher status 5"));
}

TEST(DistLauncher, ARankWithNoReadableImageInItsShareStopsTheJob) {
  SKIP_WITHOUT_PNG();
  test::TempDir dir("launch_bad_share");
  const std::vector<test::FolderImage> images =
      test::write_png_split(dir.path() / "folder", "train", {"a", "b"}, 3, 24, 32, 1);
  test::write_png_split(dir.path() / "folder", "val", {"a", "b"}, 2, 24, 32, 2);
  test::write_bytes(images[1].path, {'n', 'o', 'p', 'e'});
  // Global batches of 2: one image per rank, so the broken image's batch leaves its rank nothing.
  const std::string train = "train --dataset imagenet --data-dir " + test::shell_quoted(dir.file("folder")) +
                            " --model mlp --hidden 4 --epochs 1 --batch-size 2 --eval-batch-size 4 --data-threads 1 "
                            "--log-every 0 --out " + test::shell_quoted(dir.file("run"));
  const test::CliRun r = launch(2, train);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("skipped " + images[1].path));
  EXPECT_THAT(r.output, HasSubstr(" of 2: every image of its share of batch "));
  EXPECT_THAT(r.output, HasSubstr("was unreadable and skipped"));
  EXPECT_THAT(r.output, HasSubstr("lowbit launch: rank "));
  EXPECT_FALSE(fs::exists(dir.file("run") + "/final.safetensors"));
}

TEST(DistLauncher, RefusesBadFlags) {
  const struct {
    std::string args, message;
  } cases[] = {
      {"launch --nproc-per-node 0 -- models", "--nproc-per-node must be in 1..4096, got 0"},
      {"launch --nproc-per-node 2 --nnodes 2 --node-rank 2 -- models",
       "--node-rank must be in 0..1 (--nnodes 2), got 2"},
      {"launch --nproc-per-node 2 --nnodes 0 -- models", "--nnodes must be in 1..65536, got 0"},
      {"launch --nproc-per-node 2 --master-port 70000 -- models", "--master-port must be in 1..65535, got 70000"},
      {"launch --nproc-per-node 2 --master-addr '' -- models", "--master-addr is empty"},
      {"launch --nproc-per-node 2 --bogus -- models", "'--bogus' is not a flag of lowbit launch"},
      {"launch --nproc-per-node 2 --epochs 3 -- models", "not expected"},  // CLI11's own refusal
      {"launch --nproc-per-node 2 train --epochs 3", "'--epochs' is not a flag of lowbit launch"},
      {"launch --nproc-per-node 2", "nothing to run"},
      {"launch --nproc-per-node 2 -- launch --nproc-per-node 2 -- models", "would launch processes themselves"},
      {"launch --nproc-per-node 2 --exec /no/such/program -- x", "cannot execute '/no/such/program'"},
      {"launch --nproc-per-node 2 --exec no-such-program-anywhere -- x", "'no-such-program-anywhere' was not found"},
      {"launch --nproc-per-node two -- models", "--nproc-per-node"},
      {"launch -- models", "--nproc-per-node is required"},
  };
  for (const auto& c : cases) {
    const test::CliRun r = lowbit_cli(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.output, Not(HasSubstr("[rank"))) << c.args;  // nothing was started
  }
}

}  // namespace
}  // namespace lowbit
#endif
