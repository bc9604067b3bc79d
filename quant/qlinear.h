// QLinear: a Linear whose weight and input activation go through quantizers (quant/qlayer.h):
//   y = [|α| ·] Q_A(x) Q_W(W)^T + b,
// with child modules "wq" / "aq" (absent at 32 bits), the optional output scale "alpha" and the
// buffer "initialized". It derives from Linear, so models' init passes (dynamic_cast<Linear*>)
// still find it.
#pragma once

#include <cstdint>

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/linear.h"
#include "quant/qlayer.h"
#include "quant/quantizer.h"

namespace lowbit {

class LOWBIT_API QLinear : public Linear, public QuantizedLayer {
 public:
  // Targets are overridden (weight / activation). Draws the same weights from `gen` as Linear.
  QLinear(int64_t in_features, int64_t out_features, bool bias, const QuantConfig& weight, const QuantConfig& input,
          Generator& gen, Device device = Device::cpu());
  Tensor forward(const Tensor& x) override;  // x [N, in] -> [N, out]
};

}  // namespace lowbit
