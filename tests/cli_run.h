// Test helper: runs the `lowbit` program (LOWBIT_CLI_PATH) as a child process through the shell
// and returns its exit status and its output (stdout and stderr together); reads the last JSON
// line of such an output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
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

#ifdef LOWBIT_CLI_PATH
// Runs the lowbit program of this build: `lowbit ARGS`.
inline CliRun lowbit_cli(const std::string& args) { return run_lowbit(LOWBIT_CLI_PATH, args); }
#endif

// The last line of `text` that starts with '{', parsed (null when there is none).
inline nlohmann::json last_json_line(const std::string& text) {
  nlohmann::json last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') last = nlohmann::json::parse(line);
  return last;
}

}  // namespace lowbit::test
