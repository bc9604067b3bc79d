// `lowbit launch`: starts the processes of a data-parallel job on this machine, as torchrun does
// (core/dist/process_launcher.h), each running this same lowbit program with the arguments after
// the launcher's flags:
//   lowbit launch --nproc-per-node 2 -- train --model resnet20 --batch-size 256
//   lowbit launch --nnodes 2 --node-rank R --master-addr HOST --master-port 29500
//                 --nproc-per-node 8 -- train --device cuda ...     (on each machine, one line)
// Its exit status is that of the first process that failed (0 when none did).
#include <climits>
#include <unistd.h>

#include "core/dist/process_launcher.h"
#include "core/error.h"
#include "tools/lowbit/commands.h"

namespace lowbit::cli {
namespace {

// This program's own file (so the processes run the same build, wherever it was started from).
std::string own_program() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  LOWBIT_CHECK(n > 0, "launch: cannot find this program's file (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

struct LaunchFlags {
  dist::LaunchPlan plan;
  bool no_prefix = false;
  std::string exec;
  std::vector<std::string> command;  // what follows "--"
};

int run(CLI::App& cmd, LaunchFlags& f) {
  // CLI11 puts everything after "--" into `command`. Without "--", a command's flags would be
  // taken for the launcher's: they are left over (prefix_command keeps CLI11 quiet about them).
  std::vector<std::string> left = cmd.remaining();
  std::erase(left, "--");  // CLI11 leaves the mark itself over
  LOWBIT_CHECK(left.empty(), "launch: '", left.empty() ? "" : left.front(), "' is not a flag of lowbit launch; put "
               "the processes' command line after --, e.g. lowbit launch --nproc-per-node 2 -- train --epochs 1");
  std::vector<std::string> args = f.command;
  LOWBIT_CHECK(!args.empty(), "launch: nothing to run: give the command after the flags, e.g. `lowbit launch "
               "--nproc-per-node 2 -- train ...`");
  if (f.exec.empty())
    LOWBIT_CHECK(args.front() != "launch", "launch: the processes would launch processes themselves (`launch` "
                 "after the flags)");
  dist::LaunchPlan plan = f.plan;
  plan.program = f.exec.empty() ? own_program() : f.exec;
  plan.args = std::move(args);
  plan.prefix_output = !f.no_prefix;
  return dist::launch_processes(plan);
}

}  // namespace

Command add_launch_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "run a data-parallel job's processes on this machine: lowbit launch --nproc-per-node N [flags] -- train ...");
  cmd->prefix_command();  // unknown flags are refused by run(), with a hint
  auto f = std::make_shared<LaunchFlags>();
  dist::LaunchPlan& p = f->plan;
  cmd->add_option("--nproc-per-node", p.nproc_per_node, "processes on this machine (one per GPU, or per CPU run)")
      ->required();
  cmd->add_option("--nnodes", p.nnodes, "machines in the job")->capture_default_str();
  cmd->add_option("--node-rank", p.node_rank, "this machine's index, 0..nnodes-1 (machine 0 hosts rank 0)")
      ->capture_default_str();
  cmd->add_option("--master-addr", p.master_addr, "host name or address of machine 0, reachable from every machine")
      ->capture_default_str();
  cmd->add_option("--master-port", p.master_port, "a free TCP port on machine 0, the same on every machine")
      ->capture_default_str();
  cmd->add_flag("--no-prefix", f->no_prefix,
                "let the processes write to the terminal themselves (default: every line prefixed with [rank R])");
  cmd->add_option("--exec", f->exec,
                  "run this program (a path, or a name looked up in PATH) with the arguments instead of lowbit "
                  "(e.g. a profiler or a wrapper script)");
  cmd->add_option("command", f->command, "the lowbit command line of every process, after --");
  cmd->footer(
      "Each process gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT "
      "(train --dist auto then uses tcp on the CPU, nccl on GPUs). SIGINT and SIGTERM are passed on to every "
      "process; when one fails, the others are stopped and lowbit launch exits with its status.");
  return {cmd, [cmd, f] { return run(*cmd, *f); }};
}

}  // namespace lowbit::cli
