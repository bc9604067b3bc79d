// Atomic file replacement: a file is written to a uniquely named temporary in the target's
// folder, fsynced, renamed over the target, and the folder is fsynced. Readers see the old file
// or the complete new one, never a partial write; a crash leaves at worst a stray temporary
// (".NAME.tmp-*"). Every checkpoint, tensor file and JSON file lowbit writes goes through here.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/export.h"

namespace lowbit::io {

// Appends bytes to the temporary file; handed to a writer callback. Throws lowbit::Error naming
// the target path and the errno text when a write fails (disk full, I/O error).
class LOWBIT_API FileSink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  size_t bytes_written() const { return written_; }

 private:
  int fd_;
  std::string path_;  // the target, for messages
  size_t written_ = 0;
};

// Replaces `path` by the bytes the writer produces. If the writer throws, its exception
// propagates unchanged; if a system call fails, lowbit::Error names the path, the step and the
// errno text. Either way the temporary is removed and the old file (if any) is left intact.
// A symbolic link at `path` is replaced by the file, not followed.
LOWBIT_API void write_file_atomically(const std::string& path, const std::function<void(FileSink&)>& writer);
LOWBIT_API void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace lowbit::io
