// Weight initializers, as torch.nn.init: each fills a tensor IN PLACE (no autograd) with values
// drawn from a Philox Generator, so a seed fixes every weight on every device. Each random fill
// takes one stream of the generator.
//
// Fans of a weight tensor: Linear [out, in] -> fan_in = in, fan_out = out; conv OHWI
// [O, KH, KW, C/groups] -> fan_in = KH·KW·C/groups, fan_out = O·KH·KW/groups (the connections
// that each input and each output element really has). PyTorch ignores groups in fan_out
// (O·KH·KW); pass groups = 1 to get its value (the reference codes' MobileNet init does).
//
//   kaiming_normal_:  N(0, std²),      std   = gain / sqrt(fan)
//   kaiming_uniform_: U(-b, b),        b     = gain · sqrt(3 / fan)
//   xavier_normal_:   N(0, std²),      std   = gain · sqrt(2 / (fan_in + fan_out))
//   xavier_uniform_:  U(-b, b),        b     = gain · sqrt(6 / (fan_in + fan_out))
// gain: sqrt(2) for ReLU (kaiming's default, PyTorch's a = 0), 1 for linear,
// sqrt(2 / (1 + a²)) for leaky ReLU of slope a (a = sqrt(5) gives PyTorch's layer defaults).
#pragma once

#include <cstdint>

#include "core/export.h"
#include "core/random.h"
#include "core/tensor.h"

namespace lowbit::init {

enum class FanMode { In, Out };

struct Fans {
  int64_t in = 0, out = 0;
};

// Fans of a weight of rank >= 2 ([out, in] or [O, ..., C/groups]); throws for lower ranks.
LOWBIT_API Fans compute_fans(const Shape& shape, int64_t groups = 1);

LOWBIT_API float relu_gain();                                // sqrt(2)
LOWBIT_API float leaky_relu_gain(float negative_slope);      // sqrt(2 / (1 + a²))

LOWBIT_API Tensor kaiming_normal_(Tensor t, Generator& gen, FanMode mode = FanMode::In, float gain = relu_gain(),
                                  int64_t groups = 1);
LOWBIT_API Tensor kaiming_uniform_(Tensor t, Generator& gen, FanMode mode = FanMode::In, float gain = relu_gain(),
                                   int64_t groups = 1);
LOWBIT_API Tensor xavier_normal_(Tensor t, Generator& gen, float gain = 1.f, int64_t groups = 1);
LOWBIT_API Tensor xavier_uniform_(Tensor t, Generator& gen, float gain = 1.f, int64_t groups = 1);
LOWBIT_API Tensor normal_(Tensor t, Generator& gen, float mean = 0.f, float std = 1.f);
LOWBIT_API Tensor uniform_(Tensor t, Generator& gen, float lo, float hi);  // [lo, hi)
LOWBIT_API Tensor constant_(Tensor t, float value);

// PyTorch's default for nn.Linear and nn.Conv2d (reset_parameters): weight U(-b, b) with
// b = 1/sqrt(fan_in) (= kaiming_uniform_ with a = sqrt(5)), then bias (if defined) U(-b, b).
LOWBIT_API void layer_default_(Tensor weight, Tensor bias, Generator& gen);

}  // namespace lowbit::init
