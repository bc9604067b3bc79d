// The process launcher: fork + exec of each process (only async-signal-safe calls between the
// two: everything it needs is prepared before the fork), a poll() loop that copies the output
// line by line, forwards signals and reaps the processes, and the stop of the job on a failure.
#include "core/dist/process_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace lowbit::dist {

namespace {

using Clock = std::chrono::steady_clock;

// The launch variables, and the MPI variables that core/dist/launch.h would read first.
const char* const kSetVariables[] = {"RANK",      "LOCAL_RANK",  "WORLD_SIZE", "LOCAL_WORLD_SIZE",
                                     "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT"};
const char* const kRemovedVariables[] = {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                                         "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"};

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

// Catches SIGINT and SIGTERM for the launcher's lifetime (no SA_RESTART: poll() wakes up).
class SignalCatcher {
 public:
  SignalCatcher() {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalCatcher() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  int take() {
    const int sig = g_signal;
    g_signal = 0;
    return sig;
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    LOWBIT_CHECK(::access(program.c_str(), X_OK) == 0, "launch: cannot execute '", program, "': ",
                 std::strerror(errno));
    return program;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  LOWBIT_FAIL("launch: '", program, "' was not found in PATH");
}

void write_fd(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    const ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // nowhere to write to: the output is lost, the job goes on
    done += static_cast<size_t>(w);
  }
}

// One output stream of a process (prefix mode): the pipe's read end and the unfinished line.
struct Stream {
  int fd = -1;
  int to = -1;  // out_fd or err_fd
  std::string line;
};

struct Child {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
  int status = 0;  // the exit status, 128 + the signal for a signal
  std::string how;  // "exited with status 3", "was killed by signal 9 (Killed)"
  Stream out, err;
};

// Sends the complete lines of `data` (and with `flush`, the rest) to the stream's target.
void emit(Stream& s, const std::string& prefix, const char* data, size_t n, bool flush) {
  s.line.append(data, n);
  std::string text;
  size_t start = 0;
  for (size_t nl; (nl = s.line.find('\n', start)) != std::string::npos; start = nl + 1)
    text += prefix + s.line.substr(start, nl + 1 - start);
  s.line.erase(0, start);
  if ((flush || s.line.size() > (size_t{1} << 16)) && !s.line.empty()) {
    text += prefix + s.line + "\n";
    s.line.clear();
  }
  write_fd(s.to, text);
}

// Reads what the pipe holds; closes it at its end.
void drain(Stream& s, const std::string& prefix) {
  char buf[1 << 16];
  const ssize_t r = ::read(s.fd, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r > 0) {
    emit(s, prefix, buf, static_cast<size_t>(r), false);
    return;
  }
  emit(s, prefix, nullptr, 0, true);
  ::close(s.fd);
  s.fd = -1;
}

// Starts one process (fork + exec): its own process group, SIGTERM when the launcher dies,
// stdout/stderr to the given descriptors. Throws when exec fails.
pid_t spawn(const std::string& path, const std::vector<std::string>& argv, const std::vector<std::string>& env,
            int out, int err) {
  std::vector<char*> argv_p, env_p;
  for (const std::string& a : argv) argv_p.push_back(const_cast<char*>(a.c_str()));
  argv_p.push_back(nullptr);
  for (const std::string& e : env) env_p.push_back(const_cast<char*>(e.c_str()));
  env_p.push_back(nullptr);
  int report[2];  // exec's errno, if it fails; closed by a successful exec
  LOWBIT_CHECK(::pipe2(report, O_CLOEXEC) == 0, "launch: pipe() failed: ", std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(128 + SIGTERM);  // the launcher is already gone
    if (out != STDOUT_FILENO) ::dup2(out, STDOUT_FILENO);
    if (err != STDERR_FILENO) ::dup2(err, STDERR_FILENO);
    ::execve(path.c_str(), argv_p.data(), env_p.data());
    const int e = errno;
    [[maybe_unused]] const ssize_t w = ::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    LOWBIT_FAIL("launch: fork() failed: ", std::strerror(fork_errno));
  }
  ::setpgid(pid, pid);  // also here, so that the group exists before the first kill()
  int e = 0;
  ssize_t r;
  while ((r = ::read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (r == static_cast<ssize_t>(sizeof e)) {
    ::waitpid(pid, nullptr, 0);
    LOWBIT_FAIL("launch: cannot execute '", path, "': ", std::strerror(e));
  }
  return pid;
}

void signal_group(const Child& c, int sig) {
  if (::kill(-c.pid, sig) != 0) ::kill(c.pid, sig);
}

void record_exit(Child& c, int wstatus) {
  c.running = false;
  if (WIFEXITED(wstatus)) {
    c.status = WEXITSTATUS(wstatus);
    c.how = "exited with status " + std::to_string(c.status);
  } else {
    const int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : SIGKILL;
    c.status = 128 + sig;
    c.how = "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
}

}  // namespace

void check_launch_plan(const LaunchPlan& p) {
  LOWBIT_CHECK(!p.program.empty(), "launch: no program to run");
  LOWBIT_CHECK(p.nproc_per_node >= 1 && p.nproc_per_node <= 4096, "launch: --nproc-per-node must be in 1..4096, got ",
               p.nproc_per_node);
  LOWBIT_CHECK(p.nnodes >= 1 && p.nnodes <= 65536, "launch: --nnodes must be in 1..65536, got ", p.nnodes);
  LOWBIT_CHECK(p.node_rank >= 0 && p.node_rank < p.nnodes, "launch: --node-rank must be in 0..", p.nnodes - 1,
               " (--nnodes ", p.nnodes, "), got ", p.node_rank);
  LOWBIT_CHECK(static_cast<int64_t>(p.nnodes) * p.nproc_per_node <= (int64_t{1} << 20), "launch: ", p.nnodes,
               " machines of ", p.nproc_per_node, " processes are too many");
  LOWBIT_CHECK(p.master_port >= 1 && p.master_port <= 65535, "launch: --master-port must be in 1..65535, got ",
               p.master_port);
  LOWBIT_CHECK(!p.master_addr.empty(), "launch: --master-addr is empty");
  LOWBIT_CHECK(p.kill_grace_s >= 0, "launch: negative kill grace ", p.kill_grace_s);
}

std::vector<std::string> launch_environment(const LaunchPlan& p, int local_rank, const std::vector<std::string>& base) {
  auto named = [](const std::string& entry, const char* name) {
    const size_t n = std::strlen(name);
    return entry.size() > n && entry.compare(0, n, name) == 0 && entry[n] == '=';
  };
  std::vector<std::string> env;
  for (const std::string& e : base) {
    bool drop = false;
    for (const char* name : kSetVariables) drop = drop || named(e, name);
    for (const char* name : kRemovedVariables) drop = drop || named(e, name);
    if (!drop) env.push_back(e);
  }
  const int world = p.nnodes * p.nproc_per_node;
  const std::string values[] = {std::to_string(p.node_rank * p.nproc_per_node + local_rank),
                                std::to_string(local_rank),
                                std::to_string(world),
                                std::to_string(p.nproc_per_node),
                                std::to_string(p.node_rank),
                                p.master_addr,
                                std::to_string(p.master_port)};
  for (size_t i = 0; i < std::size(kSetVariables); ++i) env.push_back(std::string(kSetVariables[i]) + "=" + values[i]);
  bool threads_given = false;
  for (const std::string& e : base)
    for (const char* name : {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"})
      threads_given = threads_given || named(e, name);
  if (!threads_given) {
    const int cpus = p.cpu_threads > 0 ? p.cpu_threads : static_cast<int>(std::thread::hardware_concurrency());
    env.push_back("OPENBLAS_NUM_THREADS=" + std::to_string(std::max(1, cpus / p.nproc_per_node)));
  }
  return env;
}

int launch_processes(const LaunchPlan& plan) {
  check_launch_plan(plan);
  const std::string path = resolve_program(plan.program);
  std::vector<std::string> argv = {plan.program};
  argv.insert(argv.end(), plan.args.begin(), plan.args.end());
  std::vector<std::string> base;
  for (char** e = environ; *e != nullptr; ++e) base.emplace_back(*e);

  if (plan.nnodes > 1 && (plan.master_addr == "127.0.0.1" || plan.master_addr == "localhost" ||
                          plan.master_addr == "::1"))
    write_fd(plan.err_fd, "lowbit launch: warning: --master-addr " + plan.master_addr + " with --nnodes " +
                              std::to_string(plan.nnodes) + " reaches machine 0 only from machine 0 itself; give "
                              "machine 0's host name or address\n");
  SignalCatcher signals;
  std::vector<Child> children(static_cast<size_t>(plan.nproc_per_node));
  auto prefix = [](const Child& c) { return "[rank " + std::to_string(c.rank) + "] "; };
  try {
    for (int l = 0; l < plan.nproc_per_node; ++l) {
      Child& c = children[static_cast<size_t>(l)];
      c.rank = plan.node_rank * plan.nproc_per_node + l;
      int out = plan.out_fd, err = plan.err_fd;
      int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
      if (plan.prefix_output) {
        LOWBIT_CHECK(::pipe2(out_pipe, O_CLOEXEC) == 0 && ::pipe2(err_pipe, O_CLOEXEC) == 0,
                     "launch: pipe() failed: ", std::strerror(errno));
        out = out_pipe[1];
        err = err_pipe[1];
        c.out = {out_pipe[0], plan.out_fd, ""};
        c.err = {err_pipe[0], plan.err_fd, ""};
      }
      try {
        c.pid = spawn(path, argv, launch_environment(plan, l, base), out, err);
      } catch (...) {
        if (plan.prefix_output) {
          ::close(out_pipe[1]);
          ::close(err_pipe[1]);
        }
        throw;
      }
      c.running = true;
      if (plan.prefix_output) {
        ::close(out_pipe[1]);
        ::close(err_pipe[1]);
      }
    }
  } catch (...) {
    for (Child& c : children) {
      if (c.running) {
        signal_group(c, SIGKILL);
        ::waitpid(c.pid, nullptr, 0);
      }
      for (Stream* s : {&c.out, &c.err})
        if (s->fd >= 0) ::close(s->fd);
    }
    throw;
  }

  int failed = -1, forwarded = 0;
  Clock::time_point kill_at{};
  bool killed = false;
  int reads_after_exit = 0;
  while (true) {
    std::vector<pollfd> fds;
    std::vector<std::pair<Stream*, const Child*>> streams;
    for (Child& c : children)
      for (Stream* s : {&c.out, &c.err})
        if (s->fd >= 0) {
          fds.push_back({s->fd, POLLIN, 0});
          streams.emplace_back(s, &c);
        }
    bool running = false;
    for (const Child& c : children) running = running || c.running;
    if (!running && fds.empty()) break;
    // Once every process has exited, only what is already in the pipes is read (a process's
    // own children may hold them open).
    const int ready = ::poll(fds.data(), fds.size(), running ? 100 : 0);
    if (ready > 0) {
      for (size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents != 0) drain(*streams[i].first, prefix(*streams[i].second));
    }
    if (!running && (ready <= 0 || ++reads_after_exit > 1000)) {
      for (auto& [s, c] : streams) {
        emit(*s, prefix(*c), nullptr, 0, true);
        ::close(s->fd);
        s->fd = -1;
      }
    }
    if (const int sig = signals.take(); sig != 0) {
      forwarded = sig;
      for (const Child& c : children)
        if (c.running) signal_group(c, sig);
    }
    for (size_t i = 0; i < children.size(); ++i) {
      Child& c = children[i];
      int ws = 0;
      if (!c.running || ::waitpid(c.pid, &ws, WNOHANG) != c.pid) continue;
      record_exit(c, ws);
      if (c.status == 0 || failed >= 0) continue;
      failed = static_cast<int>(i);
      int others = 0;
      for (const Child& o : children) others += o.running ? 1 : 0;
      write_fd(plan.err_fd, "lowbit launch: rank " + std::to_string(c.rank) + " (pid " + std::to_string(c.pid) + ") " +
                                c.how + (others > 0 ? "; stopping the other " + std::to_string(others) +
                                                          " process" + (others > 1 ? "es" : "")
                                                    : std::string()) +
                                "\n");
      for (const Child& o : children)
        if (o.running) signal_group(o, SIGTERM);
      kill_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(plan.kill_grace_s * 1000));
    }
    if (failed >= 0 && !killed && Clock::now() >= kill_at) {
      killed = true;
      for (const Child& c : children)
        if (c.running) signal_group(c, SIGKILL);
    }
  }
  if (failed >= 0) return children[static_cast<size_t>(failed)].status;
  return forwarded != 0 ? 128 + forwarded : 0;
}

}  // namespace lowbit::dist
