// The recipe table. Choices the papers leave open are noted beside them.
#include "tools/train/recipes.h"

#include "core/error.h"

namespace lowbit {

using nlohmann::json;

const std::vector<Recipe>& recipes() {
  static const std::vector<Recipe> table = {
      {"ewgs-cifar10",
       "EWGS W1A1 ResNet-20 on CIFAR-10 (spec 2.5): Adam 1e-3 wd 1e-4, quantizers Adam 1e-5 no wd, cosine per "
       "epoch, 400 epochs, batch 256, Hessian delta every 10 epochs on 3 batches, output scale",
       {{"model", "resnet20"},           {"dataset", "cifar10"},        {"optimizer", "adam"},
        {"lr", 1e-3},                    {"weight-decay", 1e-4},        {"quant-optimizer", "adam"},
        {"quant-lr", 1e-5},              {"schedule", "cosine"},        {"epochs", 400},
        {"batch-size", 256},             {"quant", "ewgs"},             {"w-bits", 1},
        {"a-bits", 1},                   {"first-last-bits", 32},       {"ewgs-delta", "hessian"},
        {"ewgs-delta-every", 10},        {"ewgs-delta-batches", 3},     {"quant-options", "output_scale=1"}}},
      {"daq-cifar10",
       "DAQ W1A1 ResNet-20 on CIFAR-10 (spec 3.3, the released code's settings): SGD 0.1 momentum 0.9 wd 1e-4, "
       "quantizers Adam 1e-4 no wd, cosine per epoch, 400 epochs, batch 256, output scale",
       {{"model", "resnet20"},   {"dataset", "cifar10"},   {"optimizer", "sgd"},      {"lr", 0.1},
        {"momentum", 0.9},       {"nesterov", false},      {"weight-decay", 1e-4},    {"quant-optimizer", "adam"},
        {"quant-lr", 1e-4},      {"schedule", "cosine"},   {"epochs", 400},           {"batch-size", 256},
        {"quant", "daq"},        {"w-bits", 1},            {"a-bits", 1},             {"first-last-bits", 32},
        {"quant-options", "output_scale=1"}}},
      // SAT's code trains its PACT clips in the same SGD as the weights (without weight decay):
      // here they get their own group with the same SGD settings and lr. First/last layers keep
      // 8-bit weights (the code's max(bits_list)). The CIFAR config rescales conv weights too
      // (rescale_conv) and starts the clips at AdaBits' constant 8 (clip_init=1; our default
      // fits the clip to the first batch instead).
      {"sat-cifar10",
       "SAT W4A4 ResNet-20 on CIFAR-10 (spec 4.5 CIFAR config): SGD 0.1 Nesterov wd 4e-5, multistep 100,150 x0.1, "
       "200 epochs, batch 128, clips in their own SGD group at lr 0.1 starting at 8, conv weights rescaled, "
       "first/last weights 8-bit",
       {{"model", "resnet20"},         {"dataset", "cifar10"},     {"optimizer", "sgd"},
        {"lr", 0.1},                   {"momentum", 0.9},          {"nesterov", true},
        {"weight-decay", 4e-5},        {"schedule", "multistep"},  {"milestones", {100, 150}},
        {"gamma", 0.1},                {"epochs", 200},            {"batch-size", 128},
        {"quant", "sat"},              {"w-bits", 4},              {"a-bits", 4},
        {"first-last-bits", 8},        {"quant-optimizer", "sgd"}, {"quant-lr", 0.1},
        {"quant-options", "clip_init=1,rescale_conv=1"}}},
      // The paper gives "Adam lr 0.01 with exponential decay" but not the rate: we decay by
      // 0.977237 per epoch, i.e. by 100x over the 200 epochs (0.01 -> 1e-4), as BinaryConnect's
      // code decays from its start to its final lr. alpha stays 1/2, the only value the paper
      // discusses (aqe-alpha-start/end ramp it when asked). Trained from scratch, weights clipped.
      // Every weight is quantized, the first conv's and last FC's too, at the hidden width
      // (first-last-bits 0 follows --w-bits), and every layer's input but the image, the last
      // FC's too, at the hidden input width (last-input-bits 0 follows --a-bits; spec §5.3
      // Algorithm 1); the image input and the logits stay float.
      {"aqe-minw",
       "AQE MINW-Net A (minw_a) W1A1 on CIFAR-10 (spec 5.5): Adam 0.01, exponential decay 0.977237 per epoch "
       "(100x over the run; the paper gives no rate), 200 epochs, batch 256, alpha 1/2, weights clipped to [-1, 1], "
       "first/last weights at w-bits, last FC's input at a-bits, image input float",
       {{"model", "minw_a"},         {"dataset", "cifar10"},    {"optimizer", "adam"},      {"lr", 0.01},
        {"weight-decay", 0.0},       {"schedule", "exponential"}, {"gamma", 0.977237},    {"epochs", 200},
        {"batch-size", 256},         {"quant", "aqe"},          {"w-bits", 1},              {"a-bits", 1},
        {"first-last-bits", 0},      {"last-input-bits", 0},    {"aqe-alpha-start", 0.5},   {"aqe-alpha-end", 0.5},
        {"weight-clip", "auto"}}},
      // ImageNet recipes (ResNet-18, torchvision layout; start them from a float checkpoint with
      // --init-from as the papers do). The papers train with DDP on 256 images per step; here one
      // process takes the 256. EWGS's delta is estimated on 10 batches of 16 in the paper; here on
      // 10 training batches of the run's batch size. The evaluation batch stays at 256 (1000
      // 224x224 images would take 600 MB as f32).
      {"ewgs-imagenet",
       "EWGS W1A1 ResNet-18 on ImageNet (spec 2.3, 2.5): SGD 0.01 momentum 0.9 wd 1e-4, quantizers Adam 1e-5 no "
       "wd, cosine per epoch, 100 epochs, batch 256, Hessian delta every epoch on 10 batches, output scale",
       {{"model", "resnet18"},           {"dataset", "imagenet"},       {"optimizer", "sgd"},
        {"lr", 1e-2},                    {"momentum", 0.9},             {"nesterov", false},
        {"weight-decay", 1e-4},          {"quant-optimizer", "adam"},   {"quant-lr", 1e-5},
        {"schedule", "cosine"},          {"epochs", 100},               {"batch-size", 256},
        {"eval-batch-size", 256},        {"quant", "ewgs"},             {"w-bits", 1},
        {"a-bits", 1},                   {"first-last-bits", 32},       {"ewgs-delta", "hessian"},
        {"ewgs-delta-every", 1},         {"ewgs-delta-batches", 10},    {"quant-options", "output_scale=1"}}},
      // DAQ's paper: wd 5e-5 for 1/1, 1/2 and 2/2 bits (LSQ's choice), 1e-4 otherwise.
      {"daq-imagenet",
       "DAQ W1A1 ResNet-18 on ImageNet (spec 3.3, the paper's settings): SGD 0.01 momentum 0.9 wd 5e-5 (the "
       "paper's value at 1/1 bits), quantizers Adam 1e-4 no wd, cosine per epoch, 100 epochs, batch 256, output "
       "scale",
       {{"model", "resnet18"},   {"dataset", "imagenet"},  {"optimizer", "sgd"},      {"lr", 1e-2},
        {"momentum", 0.9},       {"nesterov", false},      {"weight-decay", 5e-5},    {"quant-optimizer", "adam"},
        {"quant-lr", 1e-4},      {"schedule", "cosine"},   {"epochs", 100},           {"batch-size", 256},
        {"eval-batch-size", 256}, {"quant", "daq"},        {"w-bits", 1},             {"a-bits", 1},
        {"first-last-bits", 32}, {"quant-options", "output_scale=1"}}},
      // SAT's ImageNet code trains MobileNets (lr 0.1 is its MobileNet-V2 value); the recipe applies its
      // settings to ResNet-18. It feeds unnormalized [0, 1] inputs; here the imagenet dataset's
      // normalization applies. Weight decay on conv/FC weights only (no-decay-1d), seed 1995 as in
      // the code; clips in their own SGD group as in sat-cifar10.
      {"sat-imagenet",
       "SAT W4A4 ResNet-18 on ImageNet (spec 4.5 ImageNet config): SGD 0.1 Nesterov wd 4e-5 on weights only, "
       "cosine per iteration, 150 epochs, batch 256, seed 1995, clips in their own SGD group at lr 0.1, "
       "first/last weights 8-bit",
       {{"model", "resnet18"},         {"dataset", "imagenet"},    {"optimizer", "sgd"},
        {"lr", 0.1},                   {"momentum", 0.9},          {"nesterov", true},
        {"weight-decay", 4e-5},        {"no-decay-1d", true},      {"schedule", "cosine-iter"},
        {"epochs", 150},               {"batch-size", 256},        {"eval-batch-size", 256},
        {"seed", 1995u},               {"quant", "sat"},           {"w-bits", 4},
        {"a-bits", 4},                 {"first-last-bits", 8},     {"quant-optimizer", "sgd"},
        {"quant-lr", 0.1}}},
  };
  return table;
}

std::vector<std::string> recipe_names() {
  std::vector<std::string> names;
  for (const Recipe& r : recipes()) names.push_back(r.name);
  return names;
}

const Recipe& find_recipe(const std::string& name) {
  for (const Recipe& r : recipes())
    if (r.name == name) return r;
  std::string known;
  for (const Recipe& r : recipes()) known += (known.empty() ? "" : ", ") + r.name;
  LOWBIT_FAIL("train: unknown recipe '", name, "' (known: ", known, ")");
}

TrainConfig apply_recipe(const TrainConfig& base, const std::string& name) {
  TrainConfig c = config_from_json(find_recipe(name).settings, "recipe " + name, base);
  c.recipe = name;
  return c;
}

std::string recipes_text() {
  std::string s;
  for (const Recipe& r : recipes()) s += r.name + ": " + r.description + "\n    " + r.settings.dump() + "\n";
  return s;
}

}  // namespace lowbit
