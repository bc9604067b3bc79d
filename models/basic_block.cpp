// BasicBlock and the option-A shortcut.
#include "models/basic_block.h"

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/shape.h"
#include "layers/sequential.h"

namespace lowbit::models {

ShortcutA::ShortcutA(int64_t in_planes, int64_t planes) : in_planes_(in_planes), pad_(planes / 4) {
  LOWBIT_CHECK(in_planes + 2 * pad_ == planes, "ShortcutA: ", in_planes, " channels padded by ", pad_,
               " on each side (planes/4) do not give ", planes,
               " (option A needs planes = 2·in_planes, planes % 4 == 0)");
}

Tensor ShortcutA::forward(const Tensor& x) {
  LOWBIT_CHECK(x.dim() == 4 && x.size(3) == in_planes_, "ShortcutA: input must be NHWC [N, H, W, ", in_planes_,
               "], got ", shape_str(x.shape()));
  Tensor sub = x.slice(1, 0, x.size(1), 2).slice(2, 0, x.size(2), 2);
  return pad(sub, {{0, 0}, {0, 0}, {0, 0}, {pad_, pad_}});
}

BasicBlock::BasicBlock(Net& net, int64_t in_planes, int64_t planes, int64_t stride, Shortcut kind) {
  conv1_ = register_module("conv1", net.conv(in_planes, planes, 3, stride, 1, false));
  bn1_ = register_module("bn1", net.bn2d(planes));
  conv2_ = register_module("conv2", net.conv(planes, planes, 3, 1, 1, false));
  bn2_ = register_module("bn2", net.bn2d(planes));
  if (stride == 1 && in_planes == planes) return;
  if (kind == Shortcut::A) {
    LOWBIT_CHECK(stride == 2, "BasicBlock: option-A shortcuts subsample by 2, got stride ", stride);
    shortcut_ = register_module("shortcut", std::make_shared<ShortcutA>(in_planes, planes));
  } else {
    auto down = std::make_shared<Sequential>();
    down->push_back(net.conv(in_planes, planes, 1, stride, 0, false));
    down->push_back(net.bn2d(planes));
    shortcut_ = register_module("downsample", down);
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = relu(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  return relu(out + (shortcut_ ? shortcut_->forward(x) : x));
}

}  // namespace lowbit::models
