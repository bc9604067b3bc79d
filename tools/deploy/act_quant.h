// The deploy graph's quantize op (graph.h): a multi-bit layer's input quantizer. It runs the
// method's own eval forward (the quantizer function of quant/, so the levels are the training
// graph's, bit for bit) and turns each level y into its integer code: y = step · value(code).
//   method  bits  tensors      codes             step (the real value of value 1)
//   ewgs    1-7   l, u         u<bits>           1/(2^bits − 1)
//   daq     1-7   l, u         u<bits>           1/(2^bits − 1)
//   lsq     1-7   step         u<bits>           s
//   dorefa  1-7   -            u<bits>           1/(2^bits − 1)
//   pact    1-7   alpha        u<bits>           |α_p|/(2^bits − 1)
//   sat     1-7   alpha        u<bits>           |α_p|/(2^bits − 1)   (CG-PACT)
//   ste     2-7   -            u<bits>           1/(2^bits − 1);  1 bit: binary (sign), step 1
//   aqe     1-3   - (delta)    binary / ternary / pow2(3)   1, 1, ¼
// Tensors are one-element f32. Every level has value 0 at code 0 (binary excepted, whose
// convolutions read the zero padding as 0: core/ops/multibit.h), so a convolution's zero padding of
// the quantized input is the codes' zero padding.
#pragma once

#include <string>

#include "core/tensor.h"
#include "quant/quantizer.h"
#include "tools/deploy/graph.h"

namespace lowbit::deploy {

// The quantize op of `layer`'s input quantizer (its parameters copied to the host). Throws
// "export: layer 'conv2': ..." for a method or width the multi-bit path does not take.
Op quantize_op_for(const std::string& layer, const Quantizer& q);

// Checks a quantize op (method, bits, delta, tensor roles and values; `at` prefixes messages) and
// returns its codes' format. Its tensors must be on the CPU.
CodeFormat check_quantize_op(const Op& op, const std::string& at);

// The step of a checked quantize op (the table above; host tensors).
float quantize_step(const Op& op);

// x f32 (any shape, any device) -> i8 codes of the op's format: the method's eval forward, then
// code = the level's value / step (rounded: levels are step multiples up to float rounding).
Tensor run_quantize(const Op& op, const Tensor& x, float step);

// Levels y (f32, step multiples) -> i8 codes of `format` (sign + exponent codes for pow2).
Tensor levels_to_codes(const Tensor& y, CodeFormat format, float step);

}  // namespace lowbit::deploy
