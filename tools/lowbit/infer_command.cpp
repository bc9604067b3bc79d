// `lowbit infer MODEL.lbm`: test accuracy and throughput of a deploy model (tools/deploy/runtime)
// and, unless --no-compare, of the training graph it was exported from (the checkpoint recorded
// in the file, or --compare FILE) on the same data, device and batches: the deploy speed-up and
// how many predictions agree. Multi-bit layers run on --multibit-path (each layer's path is
// printed). Prints human lines and one JSON line.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tools/deploy/from_checkpoint.h"
#include "tools/deploy/format.h"
#include "tools/deploy/infer.h"
#include "tools/deploy/runtime.h"
#include "tools/lowbit/commands.h"
#include "tools/train/build.h"

namespace lowbit::cli {
namespace {

struct InferFlags {
  std::string model, dataset, data_dir, device = "cpu", compare, multibit_path = "auto";
  int64_t batch_size = 1000, limit_test = 0;
  bool no_compare = false;
};

void print(const std::string& what, const deploy::InferResult& r, const std::string& dataset, const Device& device) {
  std::cout << std::fixed << what << ": test accuracy " << std::setprecision(2) << 100.0 * r.accuracy() << "% ("
            << r.examples() << " " << dataset << " test images), " << std::setprecision(0) << r.images_per_second()
            << " img/s on " << device.str() << "\n";
}

int run(const InferFlags& f) {
  deploy::Graph graph = deploy::load_lbm(f.model);
  TrainConfig c;
  c.dataset = f.dataset.empty() ? graph.dataset : f.dataset;
  c.data_dir = data::find_dataset(c.dataset).resolve_dir(f.data_dir);
  c.eval_batch_size = f.batch_size;
  c.limit_test = f.limit_test;
  LOWBIT_CHECK(f.batch_size >= 1, "infer: batch-size must be >= 1, got ", f.batch_size);
  LOWBIT_CHECK(f.limit_test >= 0, "infer: limit-test must be >= 0, got ", f.limit_test);
  const Device device = parse_device(f.device);
  RunData data = load_data(c, device, false);
  LOWBIT_CHECK(data.channels == graph.channels && data.height == graph.height && data.width == graph.width, "infer: ",
               f.model, " takes ", graph.height, "x", graph.width, "x", graph.channels, " images, ", c.dataset,
               " has ", data.height, "x", data.width, "x", data.channels);

  MultibitOptions multibit;
  const std::pair<const char*, MultibitPath> paths[] = {{"auto", MultibitPath::automatic},
                                                        {"bitserial", MultibitPath::bitserial},
                                                        {"int8", MultibitPath::int8},
                                                        {"shift", MultibitPath::shift}};
  bool known = false;
  for (const auto& [name, path] : paths)
    if (f.multibit_path == name) {
      multibit.path = path;
      known = true;
    }
  LOWBIT_CHECK(known, "infer: --multibit-path must be auto, bitserial, int8 or shift, got '", f.multibit_path, "'");
  deploy::Runtime runtime(graph, device, {}, multibit);
  nlohmann::json layer_paths = nlohmann::json::object();
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const deploy::Op& op = graph.ops[i];
    if (op.kind != deploy::OpKind::multibit_conv2d && op.kind != deploy::OpKind::multibit_linear) continue;
    const char* path = multibit_path_name(runtime.multibit_path(i));
    std::cout << "multi-bit layer " << op.name << ": " << code_format_str(op.input_format) << " x "
              << code_format_str(op.weight_format) << " on the " << path << " path\n";
    layer_paths[op.name] = path;
  }
  deploy::InferResult deployed = deploy::infer(runtime, *data.test);
  print("deploy model " + f.model + " (" + graph.model + ")", deployed, c.dataset, device);
  nlohmann::json line = {{"model", f.model},
                         {"dataset", c.dataset},
                         {"device", device.str()},
                         {"examples", deployed.examples()},
                         {"test_accuracy", deployed.accuracy()},
                         {"images_per_second", deployed.images_per_second()}};
  if (!layer_paths.empty()) line["multibit_paths"] = layer_paths;

  std::string reference = f.compare;
  if (reference.empty() && !f.no_compare && graph.source.contains("checkpoint") &&
      graph.source["checkpoint"].is_string())
    reference = graph.source["checkpoint"].get<std::string>();
  if (!f.no_compare && !reference.empty()) {
    if (f.compare.empty() && !std::filesystem::exists(reference)) {
      std::cout << "training graph: its checkpoint " << reference
                << " is gone (give one with --compare, or --no-compare)\n";
    } else {
      deploy::CheckpointModel m = deploy::load_checkpoint_model(checkpoint_file(reference), device);
      deploy::InferResult trained = deploy::infer(*m.model, *data.test);
      print("training graph " + reference + " (" + m.config.model + ", float ops)", trained, c.dataset, device);
      const int64_t same = deploy::same_predictions(deployed, trained);
      const double speedup = trained.images_per_second() > 0
                                 ? deployed.images_per_second() / trained.images_per_second()
                                 : 0.0;
      std::cout << std::fixed << std::setprecision(2) << "deploy speed-up " << speedup << "x; predictions identical on "
                << same << " of " << deployed.examples() << " images ("
                << 100.0 * static_cast<double>(same) / static_cast<double>(deployed.examples()) << "%)\n";
      line["reference"] = reference;
      line["reference_test_accuracy"] = trained.accuracy();
      line["reference_images_per_second"] = trained.images_per_second();
      line["speedup"] = speedup;
      line["same_predictions"] = same;
    }
  }
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace

Command add_infer_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("infer", "test accuracy and speed of a .lbm deploy model (from `lowbit export`)");
  auto f = std::make_shared<InferFlags>();
  cmd->add_option("model", f->model, "the .lbm file")->required();
  cmd->add_option("--dataset", f->dataset, "dataset (default: the one the model was trained on)");
  cmd->add_option("--data-dir", f->data_dir, "folder with the dataset's files (default: the dataset's)");
  cmd->add_option("--device", f->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--batch-size", f->batch_size, "images per batch")->capture_default_str();
  cmd->add_option("--limit-test", f->limit_test, "first N test images only (0: all)")->capture_default_str();
  cmd->add_option("--compare", f->compare,
                  "checkpoint (or run folder) whose training graph to compare with (default: the one the model "
                  "was exported from, if it is still there)");
  cmd->add_flag("--no-compare", f->no_compare, "run the deploy model only");
  cmd->add_option("--multibit-path", f->multibit_path,
                  "multi-bit layers' kernels: auto, bitserial (CPU), int8 or shift (sign + exponent weights)")
      ->capture_default_str();
  return {cmd, [f] { return run(*f); }};
}

}  // namespace lowbit::cli
