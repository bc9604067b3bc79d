// Export of a multi-bit layer's quantized weights (the weight quantizer's eval output, as the
// training graph uses it) as integer codes and one step per output channel:
//   qw[c, i] = step[c] · value(code[c, i])   (up to float rounding of the trained levels).
// Per output channel c the step is the largest max|qw_c|/j, j = 1..128, that puts every weight of
// the channel on an integer (within 1e-3 of one step): uniform levels (EWGS, DAQ, DoReFa, SAT's
// schemes, LSQ, STE: odd or all integers times 1/(2^b − 1), 2^−b or s) and the AQE levels (±1,
// ternary, {0, ±¼, ±½, ±1}) all are. A layer whose weights are on no such grid (an offset that
// is no step multiple, codes past 8 bits) is refused naming it. The format is the smallest that
// holds every code: binary (all ±1), ternary (all in {−1, 0, 1}), then power-of-two codes when
// `sign_exponent` (AQE: its layers can take the shift path) and every |value| is 0 or a power of
// two, else signed codes of 2..8 bits.
#pragma once

#include <string>
#include <vector>

#include "core/ops/multibit.h"
#include "core/tensor.h"

namespace lowbit::deploy {

struct WeightCodes {
  Tensor codes;  // i8, qw's shape
  CodeFormat format;
  std::vector<double> step;  // per output channel
};

// qw: f32 host tensor [O, ...]. `layer` names the layer in errors.
WeightCodes weight_codes(const std::string& layer, const Tensor& qw, bool sign_exponent);

}  // namespace lowbit::deploy
