// lowbit::Error and the LOWBIT_CHECK macro: every failed condition throws with the condition,
// a message, and the file and line where it was checked.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "core/export.h"

namespace lowbit {

class LOWBIT_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// Streams every argument into one string: LOWBIT_CHECK(x > 0, "x is ", x).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
[[noreturn]] LOWBIT_API void throw_error(const char* cond, const std::string& msg, const char* file,
                                         int line);
}  // namespace detail

}  // namespace lowbit

// Throws lowbit::Error("<msg> (check `cond` failed at file:line)") when cond is false.
#define LOWBIT_CHECK(cond, ...)                                                                \
  do {                                                                                         \
    if (!(cond)) [[unlikely]]                                                                  \
      ::lowbit::detail::throw_error(#cond, ::lowbit::detail::cat(__VA_ARGS__), __FILE__, __LINE__); \
  } while (0)

// Unconditional failure with the same format.
#define LOWBIT_FAIL(...) \
  ::lowbit::detail::throw_error(nullptr, ::lowbit::detail::cat(__VA_ARGS__), __FILE__, __LINE__)
