// Device parsing, data loading, model/optimizer/schedule construction from a TrainConfig.
#include "tools/train/build.h"

#include "core/error.h"
#include "core/optim/adam.h"
#include "core/optim/param_groups.h"
#include "core/optim/sgd.h"
#include "models/registry.h"
#include "tools/train/quant_setup.h"

namespace lowbit {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  int index = 0;
  if (name != "cuda") {
    LOWBIT_CHECK(name.rfind("cuda:", 0) == 0 && name.size() > 5 && name.size() < 9 &&
                     name.find_first_not_of("0123456789", 5) == std::string::npos,
                 "train: device must be cpu, cuda, cuda:N or auto, got '", name, "'");
    index = std::stoi(name.substr(5));
  }
  LOWBIT_CHECK(built_with_cuda(), "train: device '", name, "': lowbit was built without CUDA");
  LOWBIT_CHECK(index < cuda_device_count(), "train: device '", name, "': ", cuda_device_count(),
               " CUDA device(s) present");
  return Device::cuda(index);
}

namespace {

// A streamed dataset's loaders: the splits of an image folder or a packed folder.
RunData open_streamed(const TrainConfig& c, Device device, bool with_train, data::Shard shard, RunData d) {
  auto open = [&](bool train) {
    data::ImageLoaderOptions o = d.preset->image_loader_options(train);
    o.batch_size = train ? c.batch_size : c.eval_batch_size;
    o.seed = c.seed;
    o.limit = train ? c.limit_train : c.limit_test;
    o.threads = c.data_threads;
    o.skip_bad = c.bad_images == "skip";
    o.device = device;
    o.shard = shard;
    return d.preset->open_split(c.data_dir, train, o);
  };
  std::unique_ptr<data::ImageLoader> test = open(false);
  d.channels = 3;
  d.height = d.width = test->image_size();
  d.num_classes = test->num_classes();
  if (with_train) {
    std::unique_ptr<data::ImageLoader> train = open(true);
    LOWBIT_CHECK(train->source().classes() == test->source().classes(), "dataset ", c.dataset, " in ", c.data_dir,
                 ": the training split has ", train->num_classes(), " classes and the evaluation split ",
                 test->num_classes(), ", or their names differ (", train->source().description(), ", ",
                 test->source().description(), ")");
    d.train = std::move(train);
  }
  d.test = std::move(test);
  return d;
}

}  // namespace

RunData load_data(const TrainConfig& c, Device device, bool with_train, data::Shard shard) {
  RunData d;
  d.preset = &data::find_dataset(c.dataset);
  if (d.preset->streaming) return open_streamed(c, device, with_train, shard, std::move(d));
  d.num_classes = d.preset->num_classes;
  data::ImageDataset test_set = d.preset->load_split(c.data_dir, false);
  d.channels = test_set.channels;
  d.height = test_set.height;
  d.width = test_set.width;
  if (with_train) {
    data::ImageDataset train_set = d.preset->load_split(c.data_dir, true);
    LOWBIT_CHECK(train_set.height == d.height && train_set.width == d.width, "dataset ", c.dataset, " in ",
                 c.data_dir, ": training images are ", train_set.height, "x", train_set.width, ", test images ",
                 d.height, "x", d.width);
    data::LoaderOptions o = d.preset->loader_options(true);
    o.batch_size = c.batch_size;
    o.seed = c.seed;
    o.limit = c.limit_train;
    o.device = device;
    o.shard = shard;
    d.train = std::make_unique<data::DataLoader>(std::move(train_set), o);
  }
  data::LoaderOptions o = d.preset->loader_options(false);
  o.batch_size = c.eval_batch_size;
  o.seed = c.seed;
  o.limit = c.limit_test;
  o.device = device;
  o.shard = shard;
  d.test = std::make_unique<data::DataLoader>(std::move(test_set), o);
  return d;
}

std::shared_ptr<Module> build_model(const TrainConfig& c, const RunData& data, Device device, Generator& gen) {
  ModelOptions mo;
  mo.in_channels = data.channels;
  mo.in_height = data.height;
  mo.in_width = data.width;
  mo.num_classes = data.num_classes;
  mo.hidden = c.hidden;
  mo.width_mult = static_cast<float>(c.width_mult);
  mo.device = device;
  if (is_quantized(c)) mo.layers = std::make_shared<QuantLayerFactory>(quant_spec(c));
  return make_model(c.model, mo, gen);
}

std::unique_ptr<Optimizer> build_optimizer(const TrainConfig& c, const Module& model) {
  std::vector<std::pair<std::string, std::vector<Tensor>>> groups;
  std::vector<float> decay;
  const NamedParams named = is_quantized(c) ? non_quantizer_parameters(model) : model.named_parameters();
  if (c.no_decay_1d) {
    const WeightDecayExclusions exclude{.biases = true, .one_dimensional = true, .patterns = {}};
    WeightDecaySplit split = split_weight_decay(named, exclude);
    groups = {{"decay", split.decay.params}, {"no_decay", split.no_decay.params}};
    decay = {static_cast<float>(c.weight_decay), 0.f};
  } else {
    std::vector<Tensor> params;
    for (const auto& [name, p] : named) params.push_back(p);
    groups = {{"default", params}};
    decay = {static_cast<float>(c.weight_decay)};
  }
  const auto lr = static_cast<float>(c.lr);
  if (c.optimizer == "sgd") {
    auto sgd = std::make_unique<SGD>();
    for (size_t g = 0; g < groups.size(); ++g)
      sgd->add_param_group(groups[g].second,
                           {.lr = lr, .momentum = static_cast<float>(c.momentum), .nesterov = c.nesterov,
                            .weight_decay = decay[g]},
                           groups[g].first);
    return sgd;
  }
  LOWBIT_CHECK(c.optimizer == "adam" || c.optimizer == "adamw", "train: optimizer must be sgd, adam or adamw, got '",
               c.optimizer, "'");
  std::unique_ptr<Adam> adam;
  if (c.optimizer == "adamw") adam = std::make_unique<AdamW>();
  else adam = std::make_unique<Adam>();
  for (size_t g = 0; g < groups.size(); ++g)
    adam->add_param_group(groups[g].second, {.lr = lr, .weight_decay = decay[g]}, groups[g].first);
  return adam;
}

std::unique_ptr<Optimizer> build_quant_optimizer(const TrainConfig& c, const Module& model) {
  if (!is_quantized(c)) return nullptr;
  std::vector<Tensor> params;
  for (const auto& [name, p] : quantizer_parameters(model)) params.push_back(p);
  if (params.empty()) return nullptr;
  const auto lr = static_cast<float>(c.quant_lr);
  if (c.quant_optimizer == "sgd") {
    auto sgd = std::make_unique<SGD>();
    sgd->add_param_group(params, {.lr = lr, .momentum = static_cast<float>(c.momentum), .nesterov = c.nesterov},
                         "quantizers");
    return sgd;
  }
  LOWBIT_CHECK(c.quant_optimizer == "adam", "train: quant-optimizer must be adam or sgd, got '", c.quant_optimizer,
               "'");
  auto adam = std::make_unique<Adam>();
  adam->add_param_group(params, {.lr = lr}, "quantizers");
  return adam;
}

std::shared_ptr<const LRSchedule> build_schedule(const TrainConfig& c) {
  std::shared_ptr<const LRSchedule> s;
  if (c.schedule == "constant") s = std::make_shared<ConstantLR>();
  else if (c.schedule == "cosine") s = std::make_shared<CosineLR>(c.epochs, Granularity::epoch);
  else if (c.schedule == "cosine-iter") s = std::make_shared<CosineLR>(c.epochs, Granularity::iteration);
  else if (c.schedule == "multistep") s = std::make_shared<MultiStepLR>(c.milestones, c.gamma, Granularity::epoch);
  else if (c.schedule == "exponential") s = std::make_shared<ExponentialLR>(c.gamma, Granularity::epoch);
  else LOWBIT_FAIL("train: unknown schedule '", c.schedule, "'");
  if (c.warmup_epochs > 0) s = std::make_shared<WarmupLR>(s, c.warmup_epochs, 0.0, Granularity::iteration);
  return s;
}

}  // namespace lowbit
