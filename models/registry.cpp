// Model registry: one table from name to description and builder.
#include "models/registry.h"

#include <functional>

#include "core/error.h"
#include "models/bnn_lenet.h"
#include "models/lenet5.h"
#include "models/lenet5_ht.h"
#include "models/minw.h"
#include "models/mlp.h"
#include "models/mobilenet_v2.h"
#include "models/resnet18.h"
#include "models/resnet20.h"
#include "models/vgg_small.h"

namespace lowbit {

namespace {
using Builder = std::function<std::shared_ptr<Module>(const ModelOptions&, Generator&)>;

struct Entry {
  std::string name, description;
  Builder build;
};

Builder minw(char variant) {
  return [variant](const ModelOptions& o, Generator& gen) { return make_minw(variant, o, gen); };
}

const std::vector<Entry>& registry() {
  static const std::vector<Entry> table = {
      {"mlp", "multi-layer perceptron: flatten, Linear+ReLU per hidden width, Linear",
       [](const ModelOptions& o, Generator& gen) {
         return make_mlp(o.in_channels * o.in_height * o.in_width, o.hidden, o.num_classes, gen, o.device,
                         o.layers.get());
       }},
      {"lenet5", "LeNet-5 with ReLU and max-pool (61.7 K parameters on 1x28x28)", make_lenet5},
      {"lenet5_ht", "LeNet-5 with BN + HardTanh for sign/ternary activations (BNN, XNOR, AQE; 61.9 K)", make_lenet5_ht},
      {"resnet20", "CIFAR ResNet-20 of EWGS/DAQ: option-A shortcuts, BatchNorm1d head (0.27 M)", make_resnet20},
      {"resnet18", "ResNet-18 (torchvision blocks); CIFAR stem up to 64 px, torchvision's 7x7 + max-pool stem above (11.2-11.7 M)", make_resnet18},
      {"vgg_small", "VGG-Small of LQ-Nets/IR-Net: 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-FC (4.7 M)", make_vgg_small},
      {"minw_a", "MINW-Net ConvNet A (BNN CIFAR net, BN + HardTanh): 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC",
       minw('a')},
      {"minw_b", "MINW-Net ConvNet B: A with the conv channels halved", minw('b')},
      {"minw_c", "MINW-Net ConvNet C: B with the FC layers halved", minw('c')},
      {"minw_d", "MINW-Net ConvNet D: C with the FC layers halved again", minw('d')},
      {"bnn_lenet",
       "binary LeNet-style net for W1A1 and `lowbit export` (BN + HardTanh, pools after the activation, float first "
       "conv and last FC): 32C3-MP2-64C3-MP2-64C3-256FC (0.86 M)",
       make_bnn_lenet},
      {"mobilenet_v2", "MobileNet-V2, CIFAR-size variant (stride-1 stem and second stage, ReLU)", make_mobilenet_v2},
  };
  return table;
}

const Entry& find(const std::string& name) {
  for (const Entry& e : registry())
    if (e.name == name) return e;
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  LOWBIT_FAIL("make_model: unknown model '", name, "' (known: ", known, ")");
}
}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const Entry& e : registry()) names.push_back(e.name);
  return names;
}

std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options, Generator& gen) {
  return find(name).build(options, gen);
}

std::string model_description(const std::string& name) { return find(name).description; }

}  // namespace lowbit
