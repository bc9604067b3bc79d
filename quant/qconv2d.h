// QConv2d: a Conv2d whose weight and input activation go through quantizers (quant/qlayer.h):
//   y = [|α| ·] conv2d(Q_A(x), Q_W(W)) + b,
// with child modules "wq" / "aq" (absent at 32 bits), the optional output scale "alpha" and the
// buffer "initialized". It derives from Conv2d, so models' init passes (dynamic_cast<Conv2d*>)
// still find it and re-initialize its weight in place; the quantizers initialize later, from the
// first training batch.
#pragma once

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/conv2d.h"
#include "quant/qlayer.h"
#include "quant/quantizer.h"

namespace lowbit {

class LOWBIT_API QConv2d : public Conv2d, public QuantizedLayer {
 public:
  // The configs' targets are overridden (weight / activation); their method names go through
  // make_quantizer, which refuses unknown methods and widths. Draws the same weights from `gen`
  // as Conv2d(options, gen).
  QConv2d(const Conv2dOptions& options, const QuantConfig& weight, const QuantConfig& input, Generator& gen,
          Device device = Device::cpu());
  Tensor forward(const Tensor& x) override;  // [N, H, W, in] -> [N, OH, OW, out]
};

}  // namespace lowbit
