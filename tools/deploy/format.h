// The .lbm deploy format: a safetensors file (core/io/safetensors.h) whose metadata entry
// "lowbit-deploy" holds the graph as JSON and whose tensors hold the graph's tensors:
//   {"format": "lowbit-deploy", "version": 1, "model": "bnn_lenet", "dataset": "fashion-mnist",
//    "input": {"height": 28, "width": 28, "channels": 1}, "classes": 10, "source": {...},
//    "ops": [{"op": "xnor_conv2d", "name": "conv2", "stride": 1, "padding": 1,
//             "epilogue": "threshold", "tensors": {"weight": "2.conv2.weight", ...}}, ...],
//    "packed": {"2.conv2.weight": [64, 3, 3, 32], ...}}
// Tensor names are "<op index>.<layer>.<role>". Packed b1 tensors (the binary weights) are stored
// as their 32-bit words, I32 of shape [..., packed_words(C)]; "packed" gives their logical shape
// (bit 1 = -1, padding bits 0; a nonzero padding bit is refused). Attributes per op: stride and
// padding (conv2d, xnor_conv2d, multibit_conv2d), kernel, stride and padding (pools), lo and hi
// (hardtanh), eps (batch_norm), epilogue (xnor_conv2d, xnor_linear, epilogue, multibit_conv2d,
// multibit_linear), method, bits and (aqe) delta (quantize), input_format and weight_format ("u2", "s3",
// "binary", "ternary", "pow2(3)": multibit_conv2d, multibit_linear). Multi-bit weight codes are
// I8 tensors. Files are written atomically.
#pragma once

#include <string>

#include "tools/deploy/graph.h"

namespace lowbit::deploy {

inline constexpr int64_t kFormatVersion = 1;

// Checks the graph (check_graph) and writes it atomically.
void save_lbm(const std::string& path, const Graph& graph);

// Reads a .lbm file and checks it completely (file structure, JSON fields, tensor names, dtypes
// and shapes, packed padding bits, the graph); tensors on the CPU. Throws lowbit::Error naming
// the file and the problem ("model.lbm: op 3 'conv2' (xnor_conv2d): tensor 'weight' ...").
Graph load_lbm(const std::string& path);

}  // namespace lowbit::deploy
