// Test helper: runs the `lowbit` program (LOWBIT_CLI_PATH) as a child process through the shell
// and returns its exit status and its output (stdout and stderr together).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace lowbit::test {

struct CliRun {
  int code = -1;       // exit status
  std::string output;  // stdout and stderr together
};

inline std::string shell_quoted(const std::filesystem::path& p) {
  std::string s = "'";  // built with += : GCC 12 warns (-Wrestrict, falsely) about "'" + string
  s += p.string();
  s += '\'';
  return s;
}

// Runs `lowbit ARGS` (ARGS passed to the shell as written).
inline CliRun run_lowbit(const std::string& cli_path, const std::string& args) {
  const std::string command = shell_quoted(cli_path) + " " + args + " 2>&1";
  CliRun r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace lowbit::test
