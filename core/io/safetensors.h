// safetensors files (Hugging Face's format), written and read exactly as specified:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON header: {"__metadata__": {string: string},
//                           NAME: {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...}
//             padded with spaces so that 8 + N is a multiple of 8
//   the byte buffer: each tensor's elements row-major, little-endian, at [BEGIN, END) relative to
//             the buffer's start; together the tensors cover the buffer exactly (no gaps).
// dtypes: F32, F16, BF16, I8, I32, U8 (lowbit's f32, f16, bf16, i8, i32, u8). Packed b1 tensors
// are refused: safetensors has no packed-bit dtype, and storing the words as I32 would need a
// shape convention of our own; the deploy format defines packed storage (convert to f32 or i8
// +-1 to save signs here).
// The writer lays tensors out in the order given and writes "__metadata__" first (omitted when
// empty). Hugging Face's writer sorts by dtype size so that every tensor is naturally aligned;
// readers, ours and theirs, do not require that.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct SafetensorsFile {
  NamedTensors tensors;  // in header order (which is buffer order for files we write), on the CPU
  std::map<std::string, std::string> metadata;

  // The tensor of that name, or nullptr.
  const Tensor* find(const std::string& name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return &t;
    return nullptr;
  }
};

// Writes `tensors` (any device and layout; copied to the host, contiguous) and `metadata`
// atomically to `path`. Refuses duplicate names, the name "__metadata__", undefined and b1
// tensors, and names or metadata that are not valid UTF-8.
LOWBIT_API void save_safetensors(const std::string& path, const NamedTensors& tensors,
                                 const std::map<std::string, std::string>& metadata = {});

// Reads and validates a whole file. Throws lowbit::Error naming the file and the problem: file
// too short, header length beyond the file, header not JSON or not an object, duplicate keys,
// unknown dtype, bad shape, offsets out of range, overlapping, not matching shape x dtype size,
// or leaving bytes of the buffer uncovered.
LOWBIT_API SafetensorsFile load_safetensors(const std::string& path);

// "F32" for f32 and so on; throws for b1.
LOWBIT_API const char* safetensors_dtype(DType dtype);

}  // namespace lowbit::io
