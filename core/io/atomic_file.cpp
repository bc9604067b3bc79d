// Atomic file replacement with POSIX calls: O_EXCL temporary, write loop, fsync, rename, fsync of
// the folder (so the rename itself survives a power cut).
#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"

namespace lowbit::io {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_errno(const std::string& path, const std::string& step, int err) {
  LOWBIT_FAIL("cannot write ", path, ": ", step, " failed: ", std::strerror(err));
}

// ".NAME.tmp-PID-COUNTER-RANDOM" beside the target; unique across threads and processes.
std::string temporary_name(const fs::path& folder, const std::string& base) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string name = "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rng() % 1000000007u);
  return (folder / name).string();
}

// fsync of the folder; filesystems that cannot sync a folder say EINVAL, which we accept.
void sync_folder(const std::string& path, const fs::path& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno(path, "opening folder " + folder.string() + " to sync it", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) fail_errno(path, "fsync of folder " + folder.string(), err);
}

}  // namespace

void FileSink::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path_, "writing the temporary file", errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<size_t>(n);
  }
}

void write_file_atomically(const std::string& path, const std::function<void(FileSink&)>& writer) {
  fs::path target(path);
  LOWBIT_CHECK(!path.empty() && target.has_filename(), "cannot write '", path, "': not a file name");
  fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string base = target.filename().string();

  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = temporary_name(folder, base);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100))
      fail_errno(path, "creating a temporary file in " + folder.string(), errno);
  }

  try {
    FileSink sink(fd, path);
    writer(sink);
    if (::fsync(fd) != 0) fail_errno(path, "fsync of the temporary file", errno);
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) fail_errno(path, "closing the temporary file", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail_errno(path, "renaming " + tmp + " over it", errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  sync_folder(path, folder);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  write_file_atomically(path, [bytes](FileSink& sink) { sink.write(bytes); });
}

}  // namespace lowbit::io
