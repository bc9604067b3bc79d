// Formats and throws lowbit::Error (see error.h).
#include "core/error.h"

namespace lowbit::detail {

void throw_error(const char* cond, const std::string& msg, const char* file, int line) {
  std::ostringstream os;
  os << msg;
  if (cond) os << " (check `" << cond << "` failed";
  else os << " (";
  os << (cond ? " at " : "at ") << file << ":" << line << ")";
  throw Error(os.str());
}

}  // namespace lowbit::detail
