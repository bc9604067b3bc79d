// `lowbit train`: one flag per TrainConfig key (tools/train/config.h), plus --config FILE (the
// same keys as JSON), --resume RUN_DIR and --dist BACKEND (data-parallel runs under mpirun,
// `lowbit launch` or RANK/WORLD_SIZE: tools/train/data_parallel.h). Precedence: flags given on the command line, then the
// config file, then the recipe (--recipe NAME, from the flags or the config file; not reapplied on
// --resume), then (with --resume) the run's saved settings, then the defaults.
#include <unistd.h>

#include <iostream>

#include "core/error.h"
#include "models/registry.h"
#include "tools/lowbit/commands.h"
#include "quant/quantizer.h"
#include "tools/train/recipes.h"
#include "tools/train/run_folder.h"
#include "tools/train/trainer.h"

namespace lowbit::cli {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

struct TrainFlags {
  TrainConfig config;  // bound to the flags; only the given ones count
  std::string config_file, resume;
};

void add_flags(CLI::App& cmd, TrainFlags& f) {
  TrainConfig& c = f.config;
  cmd.add_option("--config", f.config_file,
                 "JSON file of settings, keys as these flags without the dashes (e.g. a run's config.json); flags "
                 "given here override it, unknown keys are refused");
  cmd.add_option("--resume", f.resume,
                 "continue the run in this folder from its last.safetensors, with its settings (epochs, data-dir, "
                 "device, deterministic, log-every, eval-batch-size, limit-test, data-threads and bad-images may be "
                 "changed)");
  // What to train on what.
  cmd.add_option("--model", c.model, "model to train (" + joined(model_names()) + "; see `lowbit models`)")
      ->capture_default_str();
  cmd.add_option("--dataset", c.dataset, "dataset (" + joined(dataset_names()) + ")")->capture_default_str();
  cmd.add_option("--data-dir", c.data_dir,
                 "folder with the dataset's files (default: $LOWBIT_FASHION_MNIST_DIR or Debian's "
                 "dataset-fashion-mnist folder; $LOWBIT_CIFAR10_DIR for cifar10; $LOWBIT_IMAGENET_DIR for "
                 "imagenet: ROOT/train/<class>/*.JPEG + ROOT/val/<class>/..., or a `lowbit pack-dataset` folder)")
      ->default_str(default_data_dir(c.dataset));
  cmd.add_option("--hidden", c.hidden, "hidden layer widths of the mlp, e.g. 256,128")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--width-mult", c.width_mult, "channel multiplier of resnet20/resnet18/vgg_small/mobilenet_v2")
      ->capture_default_str();
  cmd.add_option("--limit-train", c.limit_train,
                 "train on the first N training examples only (0: all; imagenet: N spread evenly over the classes)")
      ->capture_default_str();
  cmd.add_option("--limit-test", c.limit_test,
                 "evaluate on the first N test examples only (0: all; imagenet: N spread evenly over the classes)")
      ->capture_default_str();
  cmd.add_option("--data-threads", c.data_threads, "imagenet: image decoding threads (0: every core)")
      ->capture_default_str();
  cmd.add_option("--bad-images", c.bad_images,
                 "imagenet: images that cannot be read or decoded are skipped (each reported once on stderr) or "
                 "refused (the run stops naming the file)")
      ->check(CLI::IsMember({"skip", "refuse"}))
      ->capture_default_str();
  // Optimization.
  cmd.add_option("--epochs", c.epochs, "training epochs")->capture_default_str();
  cmd.add_option("--batch-size", c.batch_size, "examples per training step")->capture_default_str();
  cmd.add_option("--eval-batch-size", c.eval_batch_size, "examples per test batch")->capture_default_str();
  cmd.add_option("--optimizer", c.optimizer, "sgd, adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))
      ->capture_default_str();
  cmd.add_option("--lr", c.lr, "base learning rate")->capture_default_str();
  cmd.add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  cmd.add_flag("--nesterov", c.nesterov, "SGD with Nesterov momentum");
  cmd.add_option("--weight-decay", c.weight_decay, "weight decay: L2 for sgd and adam, decoupled for adamw")
      ->capture_default_str();
  cmd.add_flag("--no-decay-1d", c.no_decay_1d,
               "no weight decay on biases and 1-d parameters (batch-norm scales and shifts)");
  cmd.add_option("--schedule", c.schedule,
                 "learning-rate schedule: constant; cosine (to 0 at the end, stepped per epoch); cosine-iter (the "
                 "same per iteration); multistep (x gamma at each milestone); exponential (x gamma per epoch)")
      ->check(CLI::IsMember({"constant", "cosine", "cosine-iter", "multistep", "exponential"}))
      ->capture_default_str();
  cmd.add_option("--milestones", c.milestones,
                 "multistep: epochs at which the lr is multiplied by gamma, e.g. 100,150")
      ->delimiter(',');
  cmd.add_option("--gamma", c.gamma, "multistep and exponential: the factor")->capture_default_str();
  cmd.add_option("--warmup-epochs", c.warmup_epochs,
                 "linear warm-up of the lr from 0 over these epochs (per iteration)")
      ->capture_default_str();
  cmd.add_option("--grad-clip", c.grad_clip, "clip the global gradient norm to this (0: off)")->capture_default_str();
  // Where and how.
  cmd.add_option("--device", c.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd.add_option("--seed", c.seed, "seed of the weights, the data order and the augmentation")->capture_default_str();
  cmd.add_flag("--deterministic", c.deterministic,
               "results that depend only on the settings, not on the machine (CPU: one BLAS thread)");
  cmd.add_option("--log-every", c.log_every,
                 "steps between progress lines when stdout is not a terminal (0: no progress output)")
      ->capture_default_str();
  cmd.add_option("--dist", c.dist,
                 "data-parallel backend: auto (mpirun -> mpi on the CPU, nccl on GPUs; `lowbit launch` or RANK/"
                 "WORLD_SIZE/MASTER_ADDR/MASTER_PORT -> tcp on the CPU, nccl on GPUs; otherwise none), none, tcp, mpi "
                 "or nccl. --batch-size is the global batch")
      ->check(CLI::IsMember({"auto", "none", "tcp", "mpi", "nccl"}))
      ->capture_default_str();
  cmd.add_flag("--sync-bn", c.sync_bn,
               "data parallel: batch-norm statistics over every process's share of the batch (default: each its own)");
  cmd.add_option("--out", c.out,
                 "run folder: config.json, metrics.jsonl, curves.svg, last/final.safetensors (default: "
                 "runs/<model>-<dataset>-<date>-<time>)");
  // Quantization.
  cmd.add_option("--recipe", c.recipe,
                 "a paper's settings by name (`--recipe list` prints them); flags and --config override single "
                 "settings. " + recipes_text());
  cmd.add_option("--quant", c.quant, "quantization method (none, " + joined(quantizer_names()) + ")")
      ->capture_default_str();
  cmd.add_option("--w-bits", c.w_bits, "hidden layers' weight bits (32: float)")->capture_default_str();
  cmd.add_option("--a-bits", c.a_bits, "hidden layers' input-activation bits (32: float)")->capture_default_str();
  cmd.add_option("--first-last-bits", c.first_last_bits,
                 "first and last layers' weights (the first layer's input, the image, stays float): 32 float, "
                 "1-8 bits, 0 = as --w-bits")
      ->capture_default_str();
  cmd.add_option("--last-input-bits", c.last_input_bits,
                 "last layer's input activations, quantized as the hidden layers' inputs (MINW-Net: the aqe-minw "
                 "recipe sets 0): 32 float, 1-8 bits, 0 = as --a-bits")
      ->capture_default_str();
  cmd.add_option("--quant-options", c.quant_options,
                 "method options key=value,... (e.g. delta=0.001,output_scale=1)");
  cmd.add_option("--init-from", c.init_from,
                 "float checkpoint to start the quantized model from (quantizer parameters may be missing from it, "
                 "nothing else)");
  cmd.add_option("--quant-optimizer", c.quant_optimizer, "optimizer of the quantizer parameters: adam or sgd")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  cmd.add_option("--quant-lr", c.quant_lr, "lr of the quantizer parameters (own group, no weight decay)")
      ->capture_default_str();
  cmd.add_option("--weight-clip", c.weight_clip,
                 "clip quantized layers' weights to [-1, 1] after each step: auto (bnn, xnor, aqe), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd.add_option("--ewgs-delta", c.ewgs_delta, "EWGS delta: fixed (option delta) or hessian (re-estimated)")
      ->check(CLI::IsMember({"fixed", "hessian"}))
      ->capture_default_str();
  cmd.add_option("--ewgs-delta-every", c.ewgs_delta_every,
                 "hessian: re-estimate before epochs N, 2N, ... (0-based, never before the first)")
      ->capture_default_str();
  cmd.add_option("--ewgs-delta-batches", c.ewgs_delta_batches, "hessian: training batches per estimate")
      ->capture_default_str();
  cmd.add_option("--aqe-alpha-start", c.aqe_alpha_start,
                 "AQE alpha at the first epoch, linear per epoch to --aqe-alpha-end (the paper uses a fixed 1/2)")
      ->capture_default_str();
  cmd.add_option("--aqe-alpha-end", c.aqe_alpha_end, "AQE alpha at the last epoch")->capture_default_str();
  // --help must show every setting.
  for (const std::string& key : config_keys())
    LOWBIT_CHECK(cmd.get_option_no_throw("--" + key) != nullptr, "lowbit train: no flag for setting '", key, "'");
}

// The config keys whose flags were given on the command line.
std::vector<std::string> given_keys(const CLI::App& cmd) {
  std::vector<std::string> keys;
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->count() == 0) continue;
    std::string name = opt->get_name();
    name.erase(0, name.find_first_not_of('-'));
    if (is_config_key(name)) keys.push_back(name);
  }
  return keys;
}

int run(const CLI::App& cmd, const TrainFlags& f) {
  nlohmann::json file = nlohmann::json::object();
  if (!f.config_file.empty()) file = read_config_file(f.config_file);
  std::string recipe;
  if (cmd.get_option("--recipe")->count() > 0) recipe = f.config.recipe;
  else if (file.contains("recipe") && file["recipe"].is_string()) recipe = file["recipe"].get<std::string>();
  if (recipe == "list") {
    std::cout << recipes_text();
    return 0;
  }
  TrainConfig base;
  if (!f.resume.empty()) {
    base = run_config(f.resume);
    base.out = f.resume;  // the folder may have moved since the run started
  } else if (!recipe.empty()) {
    base = apply_recipe(base, recipe);
  }
  if (!f.config_file.empty()) base = config_from_json(file, "config " + f.config_file, base);
  TrainConfig c = merge_config(base, f.config, given_keys(cmd));
  c.resume = f.resume;
  c.dist = f.config.dist;  // not a setting of the run: how its processes talk
  if (c.out.empty()) c.out = c.resume.empty() ? default_run_dir(c.model, c.dataset) : c.resume;

  TrainHooks hooks;
  hooks.progress_bar = isatty(STDOUT_FILENO) == 1;
  TrainResult r = train(c, std::cout, hooks);
  if (r.rank == 0)
    std::cout << "test accuracy " << 100.0 * r.test_accuracy << "%\n"
              << "run folder " << r.run_dir << std::endl;
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("train", "train a model and report its test accuracy");
  auto flags = std::make_shared<TrainFlags>();
  add_flags(*cmd, *flags);
  return {cmd, [cmd, flags] { return run(*cmd, *flags); }};
}

}  // namespace lowbit::cli
