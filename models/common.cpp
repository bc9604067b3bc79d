// Model-builder helpers.
#include "models/common.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "layers/init.h"
#include "layers/pool.h"

namespace lowbit::models {

Net::Net(const ModelOptions& o, Generator& g)
    : layers(o.layers ? *o.layers : *float_layers()), gen(g), device(o.device) {}

std::shared_ptr<Conv2d> Net::conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias,
                                  LayerRole role, int64_t groups) {
  Conv2dOptions o{.in_channels = in,
                  .out_channels = out,
                  .kernel = kernel,
                  .stride = stride,
                  .padding = padding,
                  .groups = groups,
                  .bias = bias};
  return layers.make_conv(o, role, gen, device);
}

std::shared_ptr<Linear> Net::linear(int64_t in, int64_t out, bool bias, LayerRole role) {
  return layers.make_linear(in, out, bias, role, gen, device);
}

std::shared_ptr<BatchNorm2d> Net::bn2d(int64_t channels) {
  return std::make_shared<BatchNorm2d>(channels, BatchNormOptions{}, device);
}
std::shared_ptr<BatchNorm1d> Net::bn1d(int64_t channels) {
  return std::make_shared<BatchNorm1d>(channels, BatchNormOptions{}, device);
}

int64_t out_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  return (size + 2 * padding - kernel) / stride + 1;
}

int64_t scaled(int64_t channels, float mult) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(channels) * mult));
}

void check_options(const ModelOptions& o, const char* model) {
  LOWBIT_CHECK(o.in_channels > 0 && o.in_height > 0 && o.in_width > 0 && o.num_classes > 0, model, ": in_channels (",
               o.in_channels, "), in_height (", o.in_height, "), in_width (", o.in_width, ") and num_classes (",
               o.num_classes, ") must be positive");
  LOWBIT_CHECK(o.width_mult > 0.f && std::isfinite(o.width_mult), model, ": width_mult must be positive, got ",
               o.width_mult);
}

FeatureSize push_vgg_convs(Sequential& model, Net& net, const ModelOptions& o, const std::array<int64_t, 6>& widths,
                           const std::string& act_name, const std::function<std::shared_ptr<Module>()>& act,
                           const std::string& model_name) {
  int64_t in = o.in_channels, h = o.in_height, w = o.in_width;
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string n = std::to_string(i);
    model.push_back("conv" + n, net.conv(in, widths[i], 3, 1, 1, false, i == 0 ? LayerRole::First : LayerRole::Hidden));
    if (i % 2 == 1) {
      model.push_back("pool" + n, std::make_shared<MaxPool2d>(2));
      h /= 2;
      w /= 2;
    }
    model.push_back("bn" + n, net.bn2d(widths[i]));
    model.push_back(act_name + n, act());
    in = widths[i];
  }
  LOWBIT_CHECK(h >= 1 && w >= 1, model_name, ": input ", o.in_height, "x", o.in_width,
               " is too small for three 2x2 max-pools (needs at least 8x8)");
  return {in, h, w};
}

void init_layers(Module& m, const std::function<void(Conv2d&)>& conv, const std::function<void(Linear&)>& linear) {
  for (auto& [name, child] : m.named_modules()) {
    if (auto* c = dynamic_cast<Conv2d*>(child))
      conv(*c);
    else if (auto* l = dynamic_cast<Linear*>(child))
      linear(*l);
  }
}

void init_vgg_style(Module& m, Generator& gen) {
  init_layers(
      m, [&](Conv2d& c) { init::kaiming_normal_(c.weight(), gen, init::FanMode::Out); },
      [&](Linear& l) {
        init::normal_(l.weight(), gen, 0.f, 0.01f);
        if (l.bias().defined()) init::constant_(l.bias(), 0.f);
      });
}

}  // namespace lowbit::models
