// The post-activation ResNet BasicBlock shared by resnet20 and resnet18:
//   out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
// conv1 is 3x3 with the block's stride, conv2 3x3 stride 1, both without bias. The shortcut is
// the identity, option A (ShortcutA: parameter-free, CIFAR ResNets) or option B (a 1x1 conv + BN,
// torchvision's "downsample"), registered under the name the reference code uses.
#pragma once

#include <memory>
#include <string>

#include "core/export.h"
#include "layers/module.h"
#include "models/common.h"

namespace lowbit::models {

// Option A: x[:, ::2, ::2, :] (NHWC) zero-padded by planes/4 channels on each side.
class LOWBIT_API ShortcutA : public Module {
 public:
  ShortcutA(int64_t in_planes, int64_t planes);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t in_planes_, pad_;
};

class LOWBIT_API BasicBlock : public Module {
 public:
  enum class Shortcut { A, B };
  // The shortcut is the identity when stride == 1 and in_planes == planes, else of `kind`.
  BasicBlock(Net& net, int64_t in_planes, int64_t planes, int64_t stride, Shortcut kind);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Module> conv1_, bn1_, conv2_, bn2_, shortcut_;  // shortcut_ null = identity
};

}  // namespace lowbit::models
