// TrainConfig: every setting of a training run, its JSON form and its checks. The JSON keys are the
// `lowbit train` flag names without the dashes ("batch-size", "weight-decay", ...), so a run's
// saved config.json can be passed back as `--config FILE`. Reading accepts '_' for '-'
// ("batch_size") and refuses unknown keys and values of the wrong type, naming the key.
//   TrainConfig c = config_from_json(read_config_file("run.json"), "config run.json");
//   c = merge_config(c, flags, {"lr", "epochs"});   // flags given on the command line win
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lowbit {

struct TrainConfig {
  // ---- what to train on what ----
  std::string model = "mlp";            // a name of the zoo (models/registry.h)
  std::string dataset = "fashion-mnist";  // a preset of core/data/presets.h
  std::string data_dir;                 // empty: the dataset's default folder
  std::vector<int64_t> hidden = {256};  // hidden widths of the mlp
  double width_mult = 1.0;              // channel multiplier of the conv nets
  int64_t limit_train = 0;              // use only the first N training examples (0: all; imagenet: N spread evenly)
  int64_t limit_test = 0;               // use only the first N test examples (0: all; imagenet: N spread evenly)
  int64_t data_threads = 0;             // image decoding threads of streamed datasets (0: every core)
  std::string bad_images = "skip";      // streamed datasets' undecodable images: skip (reported) or refuse
  // ---- optimization ----
  int64_t epochs = 1;
  int64_t batch_size = 64;
  int64_t eval_batch_size = 1000;  // batch size of the test evaluation
  std::string optimizer = "sgd";   // sgd, adam, adamw
  double lr = 0.05;                // base learning rate
  double momentum = 0.9;           // SGD momentum
  bool nesterov = false;           // SGD Nesterov momentum
  double weight_decay = 0.0;       // L2 (sgd, adam) or decoupled (adamw)
  bool no_decay_1d = false;        // exempt biases and 1-d parameters (batch-norm scales/shifts)
  // constant; cosine (to 0 over the run, stepped per epoch); cosine-iter (per iteration);
  // multistep (x gamma at each milestone epoch); exponential (x gamma per epoch).
  std::string schedule = "cosine-iter";
  std::vector<int64_t> milestones;  // multistep: epochs, strictly increasing, >= 1
  double gamma = 0.1;               // multistep and exponential factor
  int64_t warmup_epochs = 0;        // linear warm-up from 0, per iteration, over these epochs
  double grad_clip = 0.0;           // clip the global gradient norm to this (0: off)
  // ---- where and how ----
  std::string device = "cpu";  // cpu, cuda, cuda:N, auto
  uint64_t seed = 0;           // weights, data order and augmentation
  bool deterministic = false;  // results independent of the machine (CPU: one BLAS thread)
  int64_t log_every = 200;     // steps between progress lines (0: no progress output)
  std::string out;             // run folder (empty: write nothing; the CLI picks runs/NAME)
  bool sync_bn = false;        // data parallel: batch-norm statistics over every rank's batch
  // ---- quantization (tools/train/quant_setup.h) ----
  std::string recipe;                  // the named recipe these settings came from ("" none; recipes.h)
  std::string quant = "none";          // a method of quant/registry.cpp, or "none" (float model)
  int64_t w_bits = 32;                 // hidden layers' weights (32: float)
  int64_t a_bits = 32;                 // hidden layers' input activations (32: float)
  int64_t first_last_bits = 32;        // first/last layers' weights: 32 float, 1-8 bits, 0 = as w-bits
  int64_t last_input_bits = 32;        // last layer's input activations: 32 float, 1-8 bits, 0 = as a-bits
  std::string quant_options;           // method options "key=value,..." (e.g. "delta=0.001,output_scale=1")
  std::string init_from;               // float checkpoint loaded non-strictly before training ("" none)
  std::string quant_optimizer = "adam";  // adam or sgd, for the quantizers' parameters (own group)
  double quant_lr = 1e-5;              // its base lr (no weight decay; same schedule as the weights)
  std::string weight_clip = "auto";    // clip weights to [-1, 1] after each step: auto (bnn, xnor, aqe), on, off
  std::string ewgs_delta = "fixed";    // EWGS delta: fixed (option "delta") or hessian (re-estimated)
  int64_t ewgs_delta_every = 10;       // hessian: before epochs every, 2*every, ... (0-based; not epoch 0)
  int64_t ewgs_delta_batches = 3;      // hessian: training batches per estimate
  double aqe_alpha_start = 0.5;        // AQE alpha at the first epoch (linear per epoch to the end value)
  double aqe_alpha_end = 0.5;          // AQE alpha at the last epoch
  // The run folder to continue (its last.safetensors). Not a setting: never saved, not in JSON.
  std::string resume;
  // Data-parallel backend: auto, none, tcp, mpi, nccl (core/dist/launch.h). How the processes run, not
  // what they train: not saved, not in JSON.
  std::string dist = "auto";
};

// Every key, in the order of the JSON form.
std::vector<std::string> config_keys();
bool is_config_key(const std::string& key);  // after '_' -> '-'

// The JSON object of every setting (without `resume`).
nlohmann::json config_to_json(const TrainConfig& config);

// `base` with every key of `j` read into it. Throws lowbit::Error naming `where` and the key for a
// non-object, an unknown key ("unknown key 'lrate'", with the known ones) or a value of the wrong
// type. Values are not range-checked here: see check_config.
TrainConfig config_from_json(const nlohmann::json& j, const std::string& where, TrainConfig base = {});

// The JSON object in `path`; errors name the file (unreadable, not JSON, not an object).
nlohmann::json read_config_file(const std::string& path);

// `base` with the settings named in `given_keys` taken from `flags` (command-line flags over a
// config file or a resumed run's settings).
TrainConfig merge_config(const TrainConfig& base, const TrainConfig& flags, const std::vector<std::string>& given_keys);

// The first/last layers' weight width the setting first-last-bits means: itself, or w-bits when
// it is 0 (MINW-Net quantizes every weight at the hidden width; 32 = float).
int64_t effective_first_last_bits(const TrainConfig& config);
// The last layer's input width the setting last-input-bits means: itself, or a-bits when it is 0
// (MINW-Net quantizes every layer's input but the image at the hidden width; 32 = float).
int64_t effective_last_input_bits(const TrainConfig& config);

// Throws lowbit::Error "train: KEY must be ..., got VALUE" for the first invalid setting.
void check_config(const TrainConfig& config);

// "delta=0.001,output_scale=1" -> {{"delta", 0.001}, {"output_scale", 1}}; "" -> {}. Throws
// naming the item for one without '=' or with a value that is not a number.
std::map<std::string, double> parse_quant_options(const std::string& text);

// Keys that may differ between a run and its resumption (they change neither the model, the
// optimizer state nor the random streams): epochs, data-dir, device, deterministic, log-every,
// eval-batch-size, limit-test, out, init-from (only read when a run starts), data-threads,
// bad-images (to get past a file that stopped a run) and sync-bn (a resumed run may use another
// number of processes).
bool may_change_on_resume(const std::string& key);

}  // namespace lowbit
