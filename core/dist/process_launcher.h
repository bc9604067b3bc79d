// The process launcher behind `lowbit launch` (tools/lowbit/launch_command.cpp): starts the
// processes of one machine of a data-parallel job, as torchrun does, and watches them.
//   - nnodes machines run nproc_per_node processes each; the process of local rank l on machine
//     node_rank is rank node_rank * nproc_per_node + l of nnodes * nproc_per_node, and gets
//     RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK (= node_rank), MASTER_ADDR and
//     MASTER_PORT (what core/dist/launch.h reads; MPI's rank variables are removed, so that a
//     launch from inside mpirun does not look like mpirun to the children); everything else
//     is inherited;
//   - each process is started (fork + exec) in its own process group, and gets SIGTERM if the
//     launcher dies;
//   - SIGINT and SIGTERM sent to the launcher are forwarded to every process;
//   - the first process that fails (a non-zero exit status, or killed by a signal) stops the job:
//     the others get SIGTERM, SIGKILL after kill_grace_s, and the launcher returns that
//     process's status (128 + the signal for a signal); all zero: 0; stopped by a forwarded
//     signal while every process exited 0: 128 + that signal;
//   - output: every line a process writes to stdout (stderr) goes to out_fd (err_fd) with
//     "[rank R] " in front, whole lines at a time; or, without prefix_output, the processes write
//     to out_fd and err_fd themselves.
#pragma once

#include <string>
#include <vector>

#include "core/export.h"

namespace lowbit::dist {

struct LaunchPlan {
  std::string program;            // a path, or a name looked up in PATH
  std::vector<std::string> args;  // the program's arguments (without argv[0])
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool prefix_output = true;
  double kill_grace_s = 10;  // SIGTERM to SIGKILL, once a process failed
  int cpu_threads = 0;       // this machine's hardware threads (0: std::thread::hardware_concurrency())
  int out_fd = 1, err_fd = 2;
};

// Throws lowbit::Error naming the bad setting: nproc_per_node or nnodes < 1, node_rank outside
// 0..nnodes-1, a port outside 1..65535, an empty master address or program, a negative grace.
LOWBIT_API void check_launch_plan(const LaunchPlan& plan);

// The environment ("NAME=value" strings) of local rank `local_rank`: `base` (as environ lists
// it) with the launch variables set and MPI's rank variables removed. Unless `base` sets
// OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS, OPENBLAS_NUM_THREADS is set to the
// process's share of the machine's threads (cpu_threads / nproc_per_node, at least 1), as torchrun
// limits OMP_NUM_THREADS, so that N processes do not oversubscribe the cores.
LOWBIT_API std::vector<std::string> launch_environment(const LaunchPlan& plan, int local_rank,
                                                       const std::vector<std::string>& base);

// Runs the processes of this machine until they have all exited; returns the job's exit status
// (above). Throws lowbit::Error for a bad plan or a program that cannot be started (after
// stopping the processes already started). Reports on err_fd when a process fails, and warns
// there when a job of several machines names a loopback master address.
LOWBIT_API int launch_processes(const LaunchPlan& plan);

}  // namespace lowbit::dist
